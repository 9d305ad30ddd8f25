import { writeU32be } from '../codec/bytes.ts';
import type { ChainWrite } from '../store/interface.ts';
import type { Block } from '../types/block.ts';
import type { Hash } from '../types/primitives.ts';
import { TxType, type Transaction } from '../types/transaction.ts';

/**
 * Node-local query indexes, derived from blocks and written in the block's batch. Not consensus: another
 * node could index differently. Each namespace: key -> value.
 */
export const IndexNamespace = {
  /** 'R' || recordId || u32 height || u32 txIndex -> txId: every transaction about a record (its audit trail) */
  RecordTx: 0x52,
  /** 'O' || ownerId || recordId -> empty: the records an account owns */
  Owned: 0x4f,
  /** 'G' || granteeId || recordId -> empty: records an account was ever granted (state says if it still holds) */
  Granted: 0x47,
  /** 'H' || recordId || granteeId -> empty: accounts ever granted access to a record */
  Holder: 0x48,
  /** 'A' || hospitalId || doctorId -> empty: doctors a hospital ever attested (state says if it still holds) */
  Attested: 0x41,
} as const;

const EMPTY = new Uint8Array(0);

// A block writes a key or two per transaction, so each key is built in one allocation (no temporaries).
/** n || a || b */
function key(n: number, a: Uint8Array, b: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(1 + a.length + b.length);
  out[0] = n;
  out.set(a, 1);
  out.set(b, 1 + a.length);
  return out;
}

export const indexKey = {
  recordTx: (record: Hash, height: number, index: number): Uint8Array => {
    const out = new Uint8Array(1 + record.length + 8);
    out[0] = IndexNamespace.RecordTx;
    out.set(record, 1);
    writeU32be(out, 1 + record.length, height);
    writeU32be(out, 5 + record.length, index);
    return out;
  },
  recordTxPrefix: (record: Hash): Uint8Array => key(IndexNamespace.RecordTx, record),
  owned: (owner: Uint8Array, record: Hash): Uint8Array => key(IndexNamespace.Owned, owner, record),
  ownedPrefix: (owner: Uint8Array): Uint8Array => key(IndexNamespace.Owned, owner),
  granted: (grantee: Uint8Array, record: Hash): Uint8Array => key(IndexNamespace.Granted, grantee, record),
  grantedPrefix: (grantee: Uint8Array): Uint8Array => key(IndexNamespace.Granted, grantee),
  holder: (record: Hash, grantee: Uint8Array): Uint8Array => key(IndexNamespace.Holder, record, grantee),
  holderPrefix: (record: Hash): Uint8Array => key(IndexNamespace.Holder, record),
  attested: (hospital: Uint8Array, doctor: Uint8Array): Uint8Array => key(IndexNamespace.Attested, hospital, doctor),
  attestedPrefix: (hospital: Uint8Array): Uint8Array => key(IndexNamespace.Attested, hospital),
};

/** The record a transaction is about, if any (a create is about the record it creates: its own id). */
export function recordOf(tx: Transaction): Hash | undefined {
  const body = tx.body;
  switch (body.type) {
    case TxType.CreateRecord:
      return tx.id;
    case TxType.AddRecordVersion:
    case TxType.SetRecordPolicy:
    case TxType.EraseRecord:
    case TxType.GrantAccess:
    case TxType.RevokeAccess:
    case TxType.ReadRecord:
      return body.record;
    default:
      return undefined;
  }
}

/** Blob keys: recordId || u32 version || kind (0 ciphertext, 1 envelope) || readerId for envelopes. */
export const blobKey = {
  ciphertext: (record: Hash, version: number): Uint8Array => blob(record, version, 0),
  envelope: (record: Hash, version: number, reader: Uint8Array): Uint8Array => blob(record, version, 1, reader),
  envelopesPrefix: (record: Hash, version: number): Uint8Array => blob(record, version, 1),
};

/** record || u32be(version) || kind || reader, in one allocation. */
function blob(record: Hash, version: number, kind: number, reader: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(record.length + 5 + reader.length);
  out.set(record, 0);
  writeU32be(out, record.length, version);
  out[record.length + 4] = kind;
  out.set(reader, record.length + 5);
  return out;
}

/** Index entries and blob erasures for a block, to join its batch. */
export function indexWrites(block: Block): ChainWrite[] {
  const writes: ChainWrite[] = [];
  const height = block.header.height;
  block.transactions.forEach((tx, index) => {
    if (tx.body.type === TxType.AttestDoctor) writes.push({ kind: 'index', key: indexKey.attested(tx.sender, tx.body.doctor), value: EMPTY });
    const record = recordOf(tx);
    if (record === undefined) return;
    writes.push({ kind: 'index', key: indexKey.recordTx(record, height, index), value: tx.id });
    const body = tx.body;
    if (body.type === TxType.CreateRecord) writes.push({ kind: 'index', key: indexKey.owned(tx.sender, record), value: EMPTY });
    if (body.type === TxType.GrantAccess) {
      writes.push({ kind: 'index', key: indexKey.granted(body.grantee, record), value: EMPTY });
      writes.push({ kind: 'index', key: indexKey.holder(record, body.grantee), value: EMPTY });
    }
    // Crypto-shredding: the ciphertexts and envelopes go in the same batch as the erasing block.
    if (body.type === TxType.EraseRecord) writes.push({ kind: 'eraseBlobs', prefix: record });
  });
  return writes;
}

/**
 * Undoes a reverted block's index entries (written before the new branch's, so a transaction in both keeps
 * its entry). "Ever granted" entries stay: state decides whether a grant holds, and another block may have
 * made the same entry. Erased blobs stay erased: crypto-shredding cannot be undone; custody replication
 * fetches them again if the record lives on in the new branch.
 */
export function revertIndexWrites(block: Block): ChainWrite[] {
  const writes: ChainWrite[] = [];
  block.transactions.forEach((tx, index) => {
    const record = recordOf(tx);
    if (record === undefined) return;
    writes.push({ kind: 'index', key: indexKey.recordTx(record, block.header.height, index), value: null });
    if (tx.body.type === TxType.CreateRecord) writes.push({ kind: 'index', key: indexKey.owned(tx.sender, record), value: null });
  });
  return writes;
}
