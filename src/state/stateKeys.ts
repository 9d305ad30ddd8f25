import { concatBytes, u32be, utf8 } from '../codec/bytes.ts';
import type { AccountId, Hash } from '../types/primitives.ts';

/** State key namespaces: the first byte of every state key. Each entry: key -> value. */
export const StateNamespace = {
  /** 0x00 || name -> chain parameters (the genesis spec) */
  Params: 0x00,
  /** 0x01 || accountId -> Account [roleCode, nonce, registeredAt] */
  Account: 0x01,
  /** 0x02 || doctorId || hospitalId -> Attestation [name, licence, expiresAt, attestedAt, revokedAt|nil, reason] */
  Attestation: 0x02,
  /** 0x03 || hospitalId -> Hospital [name]; 0x03 || 'list' -> [hospitalId...] in genesis order */
  Hospital: 0x03,
  /** 0x04 || 'set' -> the validator set [[id, stake]...] sorted by id */
  Validators: 0x04,
  /** 0x05 || recordId -> RecordMeta [owner, policy, createdAt, versionCount, erasedAt|nil] */
  Record: 0x05,
  /** 0x06 || recordId || u32be(version) -> RecordVersion [commitment, size, contentType, author, addedAt] */
  RecordVersion: 0x06,
  /** 0x07 || recordId || granteeId -> Grant [grantor, scopeBits, expiresAt|nil, grantedAt, revokedAt|nil] */
  Grant: 0x07,
  /** 0x08 || u32be(height) -> block hash, for the last BLOCK_HASH_WINDOW ancestors and all above the justified block */
  BlockHash: 0x08,
  /** 0x09 || validatorId || u32be(targetHeight) -> [sourceHeight] the validator's vote at that target height */
  Vote: 0x09,
  /** 0x0a || u32be(sourceHeight) || u32be(targetHeight) -> stake that voted for that link */
  Tally: 0x0a,
  /**
   * 0x0b || 'f' -> [justifiedHeight, justifiedHash, finalizedHeight, finalizedHash]; 0x0b || 'j' || u32be(h) -> hash;
   * 0x0b || 'p' -> the next height whose voting data is to be pruned
   */
  Finality: 0x0b,
  /** 0x0c || u32be(height) -> [[validatorId, delta sign (0 add, 1 withdraw), amount]...] stake changes due then */
  StakeChange: 0x0c,
  /** 0x0d || hospitalId -> unbonded balance (u64) */
  Balance: 0x0d,
  /** 0x0e || validatorId -> [height, evidence kind] of the slashing */
  Slashed: 0x0e,
} as const;

export const stateKey = {
  params: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Params]), utf8('genesis')),
  account: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Account]), id),
  attestation: (doctor: AccountId, hospital: AccountId): Uint8Array =>
    concatBytes(new Uint8Array([StateNamespace.Attestation]), doctor, hospital),
  hospital: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Hospital]), id),
  hospitalList: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Hospital]), utf8('list')),
  record: (id: Hash): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Record]), id),
  recordVersion: (id: Hash, version: number): Uint8Array =>
    concatBytes(new Uint8Array([StateNamespace.RecordVersion]), id, u32be(version)),
  grant: (record: Hash, grantee: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Grant]), record, grantee),
  validatorSet: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Validators]), utf8('set')),
  blockHash: (height: number): Uint8Array => concatBytes(new Uint8Array([StateNamespace.BlockHash]), u32be(height)),
  vote: (validator: AccountId, targetHeight: number): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Vote]), validator, u32be(targetHeight)),
  tally: (sourceHeight: number, targetHeight: number): Uint8Array =>
    concatBytes(new Uint8Array([StateNamespace.Tally]), u32be(sourceHeight), u32be(targetHeight)),
  finality: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Finality]), utf8('f')),
  justified: (height: number): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Finality]), utf8('j'), u32be(height)),
  pruneCursor: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Finality]), utf8('p')),
  stakeChanges: (height: number): Uint8Array => concatBytes(new Uint8Array([StateNamespace.StakeChange]), u32be(height)),
  balance: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Balance]), id),
  slashed: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Slashed]), id),
};
