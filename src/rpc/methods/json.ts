import Type from 'typebox';
import { fromHex, toHex } from '../../codec/bytes.ts';
import { TX_TYPE_NAMES } from '../../codec/payloads.ts';
import { fingerprint } from '../../crypto/ed25519.ts';
import type { MerkleProof } from '../../crypto/merkle.ts';
import type { Block, BlockHeader } from '../../types/block.ts';
import type { Transaction, TxBody } from '../../types/transaction.ts';

/** JSON forms of chain objects. Bytes are lowercase hex without a prefix; inputs also accept `0x`. */

const HEX = '^(0x)?([0-9a-fA-F]{2})*$';

/** Hex bytes of any length, decoded to Uint8Array. */
export const HexBytes = Type.Codec(Type.String({ pattern: HEX, description: 'hex bytes (0x prefix optional)' }))
  .Decode((text) => fromHex(text)!)
  .Encode((bytes) => toHex(bytes));

/** Exactly 32 bytes in hex: a hash or an account id. */
export const Hash32 = Type.Codec(
  Type.String({ pattern: '^(0x)?[0-9a-fA-F]{64}$', description: '32 bytes as 64 hex digits (0x prefix optional)' }),
)
  .Decode((text) => fromHex(text)!)
  .Encode((bytes) => toHex(bytes));

export const HexString = Type.String({ pattern: '^[0-9a-f]*$', description: 'lowercase hex' });

export const HeaderJson = Type.Object({
  hash: HexString,
  chainId: Type.String(),
  height: Type.Integer({ minimum: 0 }),
  parent: HexString,
  time: Type.Integer({ description: 'block time, ms since the Unix epoch' }),
  txRoot: HexString,
  stateRoot: HexString,
  proposer: HexString,
  seal: HexString,
});

export const TxJson = Type.Object({
  id: HexString,
  type: Type.String({ description: 'e.g. identity.attest' }),
  typeCode: Type.Integer(),
  chainId: Type.String(),
  sender: HexString,
  senderFingerprint: Type.String(),
  nonce: Type.Integer({ minimum: 0 }),
  payload: Type.Record(Type.String(), Type.Unknown()),
  signature: HexString,
  size: Type.Integer({ description: 'wire bytes' }),
});

export const BlockJson = Type.Object({
  header: HeaderJson,
  size: Type.Integer(),
  transactionCount: Type.Integer(),
  transactions: Type.Array(Type.Union([TxJson, HexString]), { description: 'full transactions, or their ids' }),
});

export const MerkleProofJson = Type.Object({
  index: Type.Integer(),
  leafCount: Type.Integer(),
  siblings: Type.Array(HexString),
});

export function headerToJson(hash: Uint8Array, h: BlockHeader): Type.Static<typeof HeaderJson> {
  return {
    hash: toHex(hash),
    chainId: h.chainId,
    height: h.height,
    parent: toHex(h.parent),
    time: h.time,
    txRoot: toHex(h.txRoot),
    stateRoot: toHex(h.stateRoot),
    proposer: toHex(h.proposer),
    seal: toHex(h.seal),
  };
}

function payloadToJson(body: TxBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'type') continue;
    // Bytes as hex; u64 amounts (stake) as decimal strings, since JSON numbers lose precision past 2^53.
    out[key] = value instanceof Uint8Array ? toHex(value) : typeof value === 'bigint' ? value.toString() : value;
  }
  return out;
}

export function txToJson(tx: Transaction): Type.Static<typeof TxJson> {
  return {
    id: toHex(tx.id),
    type: TX_TYPE_NAMES[tx.body.type],
    typeCode: tx.body.type,
    chainId: tx.chainId,
    sender: toHex(tx.sender),
    senderFingerprint: fingerprint(tx.sender),
    nonce: tx.nonce,
    payload: payloadToJson(tx.body),
    signature: toHex(tx.signature),
    size: tx.bytes.length,
  };
}

export function blockToJson(block: Block, fullTransactions: boolean): Type.Static<typeof BlockJson> {
  return {
    header: headerToJson(block.hash, block.header),
    size: block.bytes.length,
    transactionCount: block.transactions.length,
    transactions: block.transactions.map((tx) => (fullTransactions ? txToJson(tx) : toHex(tx.id))),
  };
}

export function proofToJson(proof: MerkleProof): Type.Static<typeof MerkleProofJson> {
  return { index: proof.index, leafCount: proof.leafCount, siblings: proof.siblings.map(toHex) };
}
