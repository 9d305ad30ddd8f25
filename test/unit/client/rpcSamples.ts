// Results as the node sends them, typed with the client's interfaces (so a missing or extra field fails to
// compile); shared by the client tests and the contract test against the node's method table.

import type {
  AccessDecision,
  BlockHeaderJson,
  IdentityJson,
  IncludedTransaction,
  NodeInfo,
  RecordJson,
  TransactionJson,
} from '../../../src/client/rpcClient.ts';

/** 32 bytes of `byte` as hex. */
export const H = (byte: string): string => byte.repeat(32);

export const NODE_INFO: NodeInfo = {
  version: '0.1.0',
  chainId: 'medchain-test',
  genesisHash: H('0a'),
  engine: 'pos',
  height: 7,
  head: H('0b'),
  validator: H('0c'),
  mempoolSize: 2,
  deniedReads: 1,
  uptimeMs: 1234,
};
export const HEADER: BlockHeaderJson = {
  hash: H('0b'),
  chainId: 'medchain-test',
  height: 7,
  parent: H('0d'),
  time: 1_764_000_007_000,
  txRoot: H('0e'),
  stateRoot: H('0f'),
  proposer: H('0c'),
  seal: 'ab'.repeat(64),
};
export const TX: TransactionJson = {
  id: H('11'),
  type: 'identity.register',
  typeCode: 1,
  chainId: 'medchain-test',
  sender: H('12'),
  senderFingerprint: 'mc1-abcd-efgh',
  nonce: 0,
  payload: { role: 'patient' },
  signature: '13'.repeat(64),
  size: 140,
};
export const INCLUDED: IncludedTransaction = {
  status: 'included',
  transaction: TX,
  blockHash: H('0b'),
  height: 7,
  index: 0,
  txRoot: H('0e'),
  proof: { index: 0, leafCount: 1, siblings: [] },
};
export const IDENTITY: IdentityJson = {
  id: H('21'),
  fingerprint: 'mc1-doct-or00',
  role: 'doctor',
  nonce: 1,
  registeredAt: 2,
  hospitalName: null,
  attestations: [
    {
      hospital: H('0c'),
      hospitalName: 'General Hospital',
      name: 'Dr B',
      licence: 'L-9',
      expiresAt: 1_800_000_000_000,
      attestedAt: 3,
      revokedAt: null,
      revokeReason: '',
      valid: true,
    },
  ],
};
export const RECORD: RecordJson = {
  id: H('31'),
  owner: H('32'),
  createdAt: 4,
  erasedAt: null,
  policy: '0102',
  policySource: 'allow read if granted(requester, action)',
  versions: [{ version: 0, commitment: H('33'), size: 10, contentType: 'application/fhir+json', author: H('32'), addedAt: 4 }],
};
export const DECISION: AccessDecision = { decision: 'deny', reason: 'no rule allows read', code: null, rule: null, height: 7 };

