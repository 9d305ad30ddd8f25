import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { blobKey } from '../chain/indexer.ts';
import { MempoolError, type Mempool } from '../chain/mempool.ts';
import { bytesEqual, concatBytes, toHex } from '../codec/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { decodeEnvelopeUpload, type EnvelopeUpload } from '../codec/envelopeUpload.ts';
import { DecodeError } from '../codec/errors.ts';
import { expectArray, expectBytes, expectBytesUpTo } from '../codec/fields.ts';
import { decodeTransaction } from '../codec/transaction.ts';
import { verify, type KeyPair } from '../crypto/ed25519.ts';
import { verifyCommitment } from '../envelope/commitment.ts';
import { recordAssociatedData, unwrapDataKey, wrapDataKey } from '../envelope/index.ts';
import { secureRandom } from '../envelope/random.ts';
import { ENVELOPE_KIND, FORMAT_VERSION } from '../envelope/format.ts';
import { KEY_ENVELOPE_LENGTH } from '../envelope/keyEnvelope.ts';
import { getAccount, getRecord, getRecordVersion } from '../state/accessors.ts';
import type { RecordMeta, RecordVersion } from '../types/record.ts';
import { TxType, type ReadRecordBody, type Transaction } from '../types/transaction.ts';
import { TxErrorCode } from '../state/errors.ts';

/** Largest ciphertext a node stores (JSON-RPC carries it base64 inside a 5 MiB body). */
export const MAX_CIPHERTEXT_BYTES = 3 * 1024 * 1024;
export const SALT_LENGTH = 32;

/** Why the record service refused a request. Stable: these reach clients as RPC `data.reason`. */
export const EmrErrorCode = {
  RecordNotFound: 'RECORD_NOT_FOUND',
  RecordErased: 'RECORD_ERASED',
  NoSuchVersion: 'NO_SUCH_VERSION',
  CommitmentMismatch: 'COMMITMENT_MISMATCH',
  SizeMismatch: 'SIZE_MISMATCH',
  TooLarge: 'TOO_LARGE',
  BadRequest: 'BAD_REQUEST',
  BadSignature: 'BAD_SIGNATURE',
  WrongChain: 'WRONG_CHAIN',
  NotUploader: 'NOT_OWNER_OR_AUTHOR',
  UnknownReader: 'UNKNOWN_READER',
  MalformedEnvelope: 'MALFORMED_ENVELOPE',
  NotARead: 'NOT_A_READ_REQUEST',
  ReadDenied: 'READ_DENIED',
  ReadNotRecorded: 'READ_NOT_RECORDED',
  CiphertextUnavailable: 'CIPHERTEXT_UNAVAILABLE',
  EnvelopeUnavailable: 'ENVELOPE_UNAVAILABLE',
} as const;
export type EmrErrorCode = (typeof EmrErrorCode)[keyof typeof EmrErrorCode];

export class EmrError extends Error {
  readonly code: EmrErrorCode | string;
  readonly detail: Readonly<Record<string, unknown>>;
  constructor(code: EmrErrorCode | string, message: string, detail: Readonly<Record<string, unknown>> = {}) {
    super(message);
    this.name = 'EmrError';
    this.code = code;
    this.detail = detail;
  }
}

/** What a served read returns: the ciphertext, its commitment salt and the requester's key envelope. */
export interface ServedRead {
  readonly txId: Uint8Array;
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly record: Uint8Array;
  readonly version: number;
  readonly salt: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly envelope: Uint8Array;
  /** True when the envelope was re-wrapped from the hospital's escrow for a break-glass read. */
  readonly escrowed: boolean;
}

/** A refused read, kept on this node (never on chain: only permitted reads are). */
export interface DeniedRead {
  readonly time: number;
  readonly requester: Uint8Array;
  readonly version: number;
  readonly purpose: string;
  readonly emergency: boolean;
  readonly reason: string;
  readonly code: string;
}

/** Blobs of one version fetched from a peer (emr/replication.ts), unchecked until `storeReplica` checks them. */
export interface ReplicaBlobs {
  /** Salt and ciphertext come together, or both null when the peer sent envelopes only. */
  readonly salt: Uint8Array | null;
  readonly ciphertext: Uint8Array | null;
  readonly envelopes: readonly { readonly reader: Uint8Array; readonly envelope: Uint8Array }[];
}

export interface RecordServiceModules {
  /**
   * This node's hospital key, if it is one: for break-glass reads it re-wraps a data key the patient escrowed
   * to this hospital, to the requesting doctor, for that one response.
   */
  readonly escrow?: KeyPair;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly logger: Logger;
  readonly clock: () => number;
  /**
   * Asks other hospitals' nodes for a version's ciphertext and this reader's envelope when this node lacks
   * them (custody replication, emr/replication.ts); absent on a node without a network or a hospital key.
   */
  readonly fetchReplica?: (record: Uint8Array, version: number, reader: Uint8Array) => Promise<unknown>;
}

/**
 * Refusals worth a line in the patient's view: the record's policy said no to a signed request by a
 * registered account. Others (a forged signature, which would name an innocent key; a record that does not
 * exist) are answered but never logged, so nobody can fill a patient's log or a node's disk with them.
 */
const LOGGED_REFUSALS: ReadonlySet<string> = new Set([
  TxErrorCode.AccessDenied,
  TxErrorCode.NoGrant,
  TxErrorCode.GrantRevoked,
  TxErrorCode.GrantExpired,
  TxErrorCode.ScopeNotGranted,
  TxErrorCode.AttestationRevoked,
  TxErrorCode.NotAttested,
  TxErrorCode.EmergencyRefused,
]);
/** At most this many refusals are written per minute (all are counted); beyond it, a flood is logged once. */
const MAX_LOGGED_REFUSALS_PER_MINUTE = 600;

/** How long emr_read waits for its receipt to be included before giving up. */
const DEFAULT_READ_TIMEOUT_MS = 30_000;
/** Node-local log of refused reads: 'D' || recordId || u64 time || requester -> [version, purpose, emergency, reason, code]. */
const DENIED_NAMESPACE = 0x44;

/**
 * Off-chain record data on this node: ciphertexts and key envelopes checked against the chain before they
 * are stored, and reads served only once their receipt is on chain, so the chain is the complete audit trail.
 */
export class RecordService {
  readonly #m: RecordServiceModules;
  /** Reads refused since start (the denied-reads metric). */
  deniedReadCount = 0;
  #logWindow = { minute: -1, written: 0 };

  constructor(modules: RecordServiceModules) {
    this.#m = modules;
  }

  /** Stores a version's ciphertext after checking it against the on-chain commitment and size. */
  uploadCiphertext(record: Uint8Array, version: number, salt: Uint8Array, ciphertext: Uint8Array): Promise<void> {
    if (salt.length !== SALT_LENGTH) throw new EmrError(EmrErrorCode.BadRequest, `the salt must be ${SALT_LENGTH} bytes`);
    if (ciphertext.length > MAX_CIPHERTEXT_BYTES) {
      throw new EmrError(EmrErrorCode.TooLarge, `ciphertexts are limited to ${MAX_CIPHERTEXT_BYTES} bytes`);
    }
    return this.#m.chain.exclusive(async () => {
      const { version: v } = this.#liveVersion(record, version);
      // [REJECT] The blob is exactly what the chain committed to
      if (ciphertext.length !== v.size) {
        throw new EmrError(EmrErrorCode.SizeMismatch, `the chain records ${v.size} bytes for this version, got ${ciphertext.length}`);
      }
      if (!verifyCommitment(ciphertext, salt, v.commitment)) {
        throw new EmrError(EmrErrorCode.CommitmentMismatch, 'the ciphertext and salt do not match the commitment on chain');
      }
      await this.#m.chain.store.putBlobs([{ key: blobKey.ciphertext(record, version), value: encodeCanonical([salt, ciphertext]) }]);
    });
  }

  /** Stores key envelopes from a signed upload by the record's owner or the version's author. */
  uploadEnvelopes(requestBytes: Uint8Array, signature: Uint8Array): Promise<number> {
    let request: EnvelopeUpload;
    try {
      request = decodeEnvelopeUpload(requestBytes);
    } catch (error) {
      if (error instanceof DecodeError) throw new EmrError(EmrErrorCode.BadRequest, `the upload could not be decoded: ${error.message}`, { decodeReason: error.reason });
      throw error;
    }
    const { chain } = this.#m;
    if (request.chainId !== chain.genesisSpec.chainId) throw new EmrError(EmrErrorCode.WrongChain, `the upload is for chain "${request.chainId}"`);
    if (!verify(signature, requestBytes, request.uploader)) throw new EmrError(EmrErrorCode.BadSignature, 'the signature does not verify against the uploader key');
    return chain.exclusive(async () => {
      const { record, version } = this.#liveVersion(request.record, request.version);
      // [REJECT] Only who holds the data key uploads envelopes for it: the owner, or the version's author
      if (!bytesEqual(request.uploader, record.owner) && !bytesEqual(request.uploader, version.author)) {
        throw new EmrError(EmrErrorCode.NotUploader, "only the record's owner or this version's author may upload its envelopes");
      }
      for (const { reader, envelope } of request.envelopes) {
        if (getAccount(chain.state, reader) === undefined) throw new EmrError(EmrErrorCode.UnknownReader, `reader ${toHex(reader).slice(0, 16)}… is not registered`);
        // [REJECT] An envelope has the key-envelope format (only its reader can check the rest)
        if (envelope.length !== KEY_ENVELOPE_LENGTH || envelope[0] !== ENVELOPE_KIND || envelope[1] !== FORMAT_VERSION) {
          throw new EmrError(EmrErrorCode.MalformedEnvelope, `a key envelope is ${KEY_ENVELOPE_LENGTH} bytes starting 'K' 0x01; the one for ${toHex(reader).slice(0, 16)}… is not`);
        }
      }
      await chain.store.putBlobs(
        request.envelopes.map(({ reader, envelope }) => ({ key: blobKey.envelope(request.record, request.version, reader), value: envelope })),
      );
      return request.envelopes.length;
    });
  }

  /**
   * Stores blobs a peer sent through the same checks as uploads (a live version, the on-chain size and
   * commitment, the envelope format, registered readers), between imports so nothing lands after an erasure.
   * An envelope this node already holds is kept, never replaced by a peer's. All or nothing: on any refusal
   * it throws EmrError and stores nothing. Returns what was newly stored.
   */
  storeReplica(recordId: Uint8Array, versionNumber: number, replica: ReplicaBlobs): Promise<{ ciphertext: boolean; envelopes: number }> {
    const { salt, ciphertext } = replica;
    if ((salt === null) !== (ciphertext === null)) throw new EmrError(EmrErrorCode.BadRequest, 'a salt and a ciphertext come together');
    if (salt !== null && salt.length !== SALT_LENGTH) throw new EmrError(EmrErrorCode.BadRequest, `the salt must be ${SALT_LENGTH} bytes`);
    if (ciphertext !== null && ciphertext.length > MAX_CIPHERTEXT_BYTES) {
      throw new EmrError(EmrErrorCode.TooLarge, `ciphertexts are limited to ${MAX_CIPHERTEXT_BYTES} bytes`);
    }
    const { chain } = this.#m;
    return chain.exclusive(async () => {
      const { version } = this.#liveVersion(recordId, versionNumber);
      const writes: { key: Uint8Array; value: Uint8Array }[] = [];
      let storedCiphertext = false;
      if (salt !== null && ciphertext !== null) {
        // [REJECT] The blob is exactly what the chain committed to
        if (ciphertext.length !== version.size) {
          throw new EmrError(EmrErrorCode.SizeMismatch, `the chain records ${version.size} bytes for this version, got ${ciphertext.length}`);
        }
        if (!verifyCommitment(ciphertext, salt, version.commitment)) {
          throw new EmrError(EmrErrorCode.CommitmentMismatch, 'the ciphertext and salt do not match the commitment on chain');
        }
        const key = blobKey.ciphertext(recordId, versionNumber);
        if ((await chain.store.getBlob(key)) === undefined) {
          writes.push({ key, value: encodeCanonical([salt, ciphertext]) });
          storedCiphertext = true;
        }
      }
      const seen = new Set<string>();
      for (const { reader, envelope } of replica.envelopes) {
        const readerHex = toHex(reader);
        if (seen.has(readerHex)) throw new EmrError(EmrErrorCode.BadRequest, `two envelopes for reader ${readerHex.slice(0, 16)}…`);
        seen.add(readerHex);
        if (getAccount(chain.state, reader) === undefined) throw new EmrError(EmrErrorCode.UnknownReader, `reader ${readerHex.slice(0, 16)}… is not registered`);
        // [REJECT] An envelope has the key-envelope format (only its reader can check the rest)
        if (envelope.length !== KEY_ENVELOPE_LENGTH || envelope[0] !== ENVELOPE_KIND || envelope[1] !== FORMAT_VERSION) {
          throw new EmrError(EmrErrorCode.MalformedEnvelope, `a key envelope is ${KEY_ENVELOPE_LENGTH} bytes starting 'K' 0x01; the one for ${readerHex.slice(0, 16)}… is not`);
        }
        const key = blobKey.envelope(recordId, versionNumber, reader);
        if ((await chain.store.getBlob(key)) === undefined) writes.push({ key, value: envelope });
      }
      if (writes.length > 0) await chain.store.putBlobs(writes);
      return { ciphertext: storedCiphertext, envelopes: writes.length - (storedCiphertext ? 1 : 0) };
    });
  }

  /**
   * Serves a read: the signed read request (an access.read transaction) goes through the mempool, which
   * checks the policy; the ciphertext and the requester's envelope are returned once the receipt is on chain.
   */
  async read(txBytes: Uint8Array, timeoutMs = DEFAULT_READ_TIMEOUT_MS): Promise<ServedRead> {
    let tx: Transaction;
    try {
      tx = decodeTransaction(txBytes);
    } catch (error) {
      if (error instanceof DecodeError) throw new EmrError(error.reason, `the read request could not be decoded: ${error.message}`, { field: error.field });
      throw error;
    }
    const body = tx.body;
    if (body.type !== TxType.ReadRecord) throw new EmrError(EmrErrorCode.NotARead, 'emr_read takes a signed access.read transaction');
    // A read is served now or never: a future nonce would wait in the mempool with nothing to serve.
    const expected = getAccount(this.#m.chain.state, tx.sender)?.nonce ?? 0;
    if (tx.nonce > expected) throw new EmrError(TxErrorCode.NonceGap, `a read request must use the next nonce, ${expected}`, { txId: toHex(tx.id) });
    // The policy first (a refusal says nothing about what this node holds), then whether there is anything
    // to serve, and only then the receipt: a read that could not be served never spends one.
    try {
      this.#m.mempool.check(tx);
    } catch (error) {
      if (error instanceof MempoolError) {
        await this.#recordDenied(tx, body, error.code, error.message);
        throw new EmrError(error.code, error.message, { txId: toHex(tx.id) });
      }
      throw error;
    }
    await this.#requireServable(body, tx.sender);
    const included = this.#waitForInclusion(tx, timeoutMs);
    try {
      this.#m.mempool.add(tx);
    } catch (error) {
      included.cancel();
      if (error instanceof MempoolError) throw new EmrError(error.code, error.message, { txId: toHex(tx.id) });
      throw error;
    }
    let block: { height: number; hash: Uint8Array };
    try {
      block = await included.promise;
    } catch (error) {
      // Not recorded, so not served: and not left pending to be recorded later without an answer.
      this.#m.mempool.drop(tx);
      throw error;
    }
    return this.#m.chain.exclusive(async () => {
      const { record } = this.#liveVersion(body.record, body.version);
      const store = this.#m.chain.store;
      const stored = await store.getBlob(blobKey.ciphertext(body.record, body.version));
      if (stored === undefined) throw new EmrError(EmrErrorCode.CiphertextUnavailable, 'the read is recorded, but this node holds no ciphertext for that version yet');
      const [salt, ciphertext] = expectArray(decodeCanonical(stored, MAX_CIPHERTEXT_BYTES + 1024, 'blob'), 2, 'blob');
      let envelope = await store.getBlob(blobKey.envelope(body.record, body.version, tx.sender));
      let escrowed = false;
      if (envelope === undefined && body.emergency) {
        envelope = await this.#fromEscrow(body.record, body.version, tx.sender);
        escrowed = envelope !== undefined;
      }
      if (envelope === undefined) {
        throw new EmrError(EmrErrorCode.EnvelopeUnavailable, `the read is recorded, but no key envelope for this reader was uploaded (ask the ${bytesEqual(record.owner, tx.sender) ? 'record' : "record's owner"} to share it)`);
      }
      return {
        txId: tx.id,
        height: block.height,
        blockHash: block.hash,
        record: body.record,
        version: body.version,
        salt: expectBytes(salt, 32, 'blob.salt'),
        ciphertext: expectBytesUpTo(ciphertext, MAX_CIPHERTEXT_BYTES, 'blob.ciphertext'),
        envelope,
        escrowed,
      };
    });
  }

  /** Refused reads of a record kept by this node, oldest first. */
  async listDeniedReads(record: Uint8Array, limit = 1000): Promise<DeniedRead[]> {
    const out: DeniedRead[] = [];
    for await (const { key, value } of this.#m.chain.store.readIndex(concatBytes(Uint8Array.of(DENIED_NAMESPACE), record), limit)) {
      const time = Number(new DataView(key.buffer, key.byteOffset + 33, 8).getBigUint64(0));
      const [version, purpose, emergency, reason, code] = decodeCanonical(value, 4096, 'denied') as [number, string, boolean, string, string];
      out.push({ time, requester: key.slice(41, 73), version, purpose, emergency, reason, code });
    }
    return out;
  }

  /** [REFUSE] This node holds the ciphertext and an envelope the reader can use (its own, or escrow for break-glass). */
  async #requireServable(body: ReadRecordBody, reader: Uint8Array): Promise<void> {
    const store = this.#m.chain.store;
    const fetch = this.#m.fetchReplica;
    if (fetch !== undefined) {
      const missing =
        (await store.getBlob(blobKey.ciphertext(body.record, body.version))) === undefined ||
        (await store.getBlob(blobKey.envelope(body.record, body.version, reader))) === undefined;
      // Uploaded to another hospital and not replicated here yet: fetch it before refusing.
      if (missing) {
        await fetch(body.record, body.version, reader).catch((error: unknown) => {
          this.#m.logger.debug({ err: error }, 'fetching a replica for a read failed');
        });
      }
    }
    if ((await store.getBlob(blobKey.ciphertext(body.record, body.version))) === undefined) {
      throw new EmrError(EmrErrorCode.CiphertextUnavailable, 'this node holds no ciphertext for that version yet; nothing was recorded');
    }
    if ((await store.getBlob(blobKey.envelope(body.record, body.version, reader))) !== undefined) return;
    const escrow = this.#m.escrow;
    if (body.emergency && escrow !== undefined && (await store.getBlob(blobKey.envelope(body.record, body.version, escrow.publicKey))) !== undefined) return;
    throw new EmrError(EmrErrorCode.EnvelopeUnavailable, "no key envelope for this reader was uploaded (ask the record's owner to share it); nothing was recorded");
  }

  /** Re-wraps the data key the patient escrowed to this hospital, for the doctor whose emergency read is on chain. */
  async #fromEscrow(record: Uint8Array, version: number, reader: Uint8Array): Promise<Uint8Array | undefined> {
    const escrow = this.#m.escrow;
    if (escrow === undefined) return undefined;
    const escrowEnvelope = await this.#m.chain.store.getBlob(blobKey.envelope(record, version, escrow.publicKey));
    if (escrowEnvelope === undefined) return undefined;
    const associatedData = recordAssociatedData(this.#m.chain.genesisSpec.chainId, record, version);
    const dataKey = unwrapDataKey(escrowEnvelope, escrow.seed, associatedData);
    this.#m.logger.warn({ record: toHex(record), version, reader: toHex(reader) }, 'break-glass read: re-wrapped an escrowed data key');
    return wrapDataKey(dataKey, reader, { random: secureRandom, associatedData });
  }

  #liveVersion(id: Uint8Array, versionNumber: number): { record: RecordMeta; version: RecordVersion } {
    const state = this.#m.chain.state;
    const record = getRecord(state, id);
    if (record === undefined) throw new EmrError(EmrErrorCode.RecordNotFound, `no record ${toHex(id)}`);
    if (record.erasedAt !== null) throw new EmrError(EmrErrorCode.RecordErased, `the record was erased at height ${record.erasedAt}; its data is gone`);
    const version = getRecordVersion(state, id, versionNumber);
    if (version === undefined) throw new EmrError(EmrErrorCode.NoSuchVersion, `the record has versions 0 to ${record.versionCount - 1}`);
    return { record, version };
  }

  async #recordDenied(tx: Transaction, body: ReadRecordBody, code: string, reason: string): Promise<void> {
    this.deniedReadCount += 1;
    if (!LOGGED_REFUSALS.has(code)) return;
    const time = this.#m.clock();
    const minute = Math.floor(time / 60_000);
    if (this.#logWindow.minute !== minute) this.#logWindow = { minute, written: 0 };
    if (++this.#logWindow.written > MAX_LOGGED_REFUSALS_PER_MINUTE) {
      if (this.#logWindow.written === MAX_LOGGED_REFUSALS_PER_MINUTE + 1) this.#m.logger.warn('refused reads above the logging cap this minute; counting only');
      return;
    }
    const timeBytes = new Uint8Array(8);
    new DataView(timeBytes.buffer).setBigUint64(0, BigInt(time));
    const key = concatBytes(Uint8Array.of(DENIED_NAMESPACE), body.record, timeBytes, tx.sender);
    await this.#m.chain.store.write([
      { kind: 'index', key, value: encodeCanonical([body.version, body.purpose, body.emergency, reason.slice(0, 512), code]) },
    ]);
    this.#m.logger.info({ record: toHex(body.record), requester: toHex(tx.sender), code }, 'refused a read');
  }

  #waitForInclusion(tx: Transaction, timeoutMs: number): { promise: Promise<{ height: number; hash: Uint8Array }>; cancel(): void } {
    let cancel = (): void => {};
    const promise = new Promise<{ height: number; hash: Uint8Array }>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new EmrError(EmrErrorCode.ReadNotRecorded, `the read request was not included within ${timeoutMs} ms; nothing was served`, { txId: toHex(tx.id) }));
      }, timeoutMs);
      const unsubscribe = this.#m.chain.onHead((block, head) => {
        if (block.transactions.some((t) => bytesEqual(t.id, tx.id))) {
          clearTimeout(timer);
          unsubscribe();
          resolve({ height: head.header.height, hash: head.hash });
        } else if (!this.#m.mempool.has(tx.id)) {
          // Dropped at block building (the policy said no at that block): nothing will be served.
          clearTimeout(timer);
          unsubscribe();
          reject(new EmrError(EmrErrorCode.ReadDenied, 'the read request was dropped when its block was built; nothing was served', { txId: toHex(tx.id) }));
        }
      });
      cancel = () => {
        clearTimeout(timer);
        unsubscribe();
      };
    });
    promise.catch(() => undefined);
    return { promise, cancel };
  }
}

