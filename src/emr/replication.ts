/**
 * Blob replication between nodes: ciphertexts and key envelopes reach other hospitals' nodes by the blob
 * request/response protocol (wire forms in codec/blobRequest.ts).
 *
 * Two kinds of request, and why each is safe to answer:
 *
 * - **read**: the requester's signed access.read transaction, already included on the server's canonical
 *   chain (the read receipt). The server checks the signature, the inclusion, that the record lives, and the
 *   record's policy again at its own next block (so a grant revoked since the receipt is honoured at once,
 *   as emr_read honours it). It answers with the version's salt, ciphertext and the receipt signer's own key
 *   envelope: what emr_read would serve that reader. A receipt is public once on chain, so anyone may replay
 *   it; what they get is ciphertext and an envelope only the receipt's signer can open.
 *
 * - **custody**: a hospital node asks for a version's ciphertext and its key envelopes so that every
 *   hospital holds a copy (availability: the uploader's node may be down when a doctor reads elsewhere). It
 *   is signed by the hospital's key over (domain, chain id, record, version, time, ...), answered only when
 *   the signer is a hospital in chain state and the time is within the server's replay window. Custody reveals
 *   no plaintext: ciphertexts are XChaCha20-Poly1305 under per-version data keys and each envelope is HPKE to
 *   one reader's key, so a custodian holds bytes it cannot open (except envelopes addressed to itself: the
 *   escrow a patient chose). Who can get a key envelope opened stays the record's policy's decision, checked
 *   by every node before it serves a read, over RPC or this protocol.
 *
 * Everything a peer sends is hostile: responses are decoded strictly with size and count limits, and stored
 * only through RecordService.storeReplica, which checks the ciphertext against the on-chain size and salted
 * commitment, the envelopes' format and readers, and the record's erasure, between block imports (so a fetch
 * that completes after an erasure stores nothing; erasure itself propagates by every node importing the
 * EraseRecord block). A peer whose blob fails those checks is penalized. Envelopes are not committed on chain:
 * a peer can substitute a well-formed envelope for a reader this node has none for. That is a denial of service
 * only (the reader's unwrap or the ciphertext's AEAD check fails; nothing is revealed), and an envelope this
 * node already holds is never replaced by a peer's; the owner's re-upload overwrites a bad one.
 */
import type { Logger } from 'pino';
import type { Chain } from '../chain/chain.ts';
import { blobKey } from '../chain/indexer.ts';
import { verifyTransactionSignature } from '../chain/signatureVerifier.ts';
import {
  BlobRefusal,
  decodeBlobRequest,
  decodeBlobResponse,
  encodeBlobBundle,
  encodeBlobRefusal,
  encodeCustodyBlobRequest,
  encodeCustodyRequest,
  encodeReadBlobRequest,
  MAX_BLOB_ENVELOPES,
  MAX_CUSTODY_READERS,
  type BlobEnvelope,
  type BlobRequest,
  type BlobResponse,
  type CustodyRequest,
} from '../codec/blobRequest.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { decodeCanonical } from '../codec/canonical.ts';
import { DecodeError } from '../codec/errors.ts';
import { expectArray, expectBytes, expectBytesUpTo } from '../codec/fields.ts';
import { decodeTransaction } from '../codec/transaction.ts';
import { sign, verify, type KeyPair } from '../crypto/ed25519.ts';
import type { Network, PeerInfo } from '../p2p/interface.ts';
import { getAccount, getRecord, getRecordVersion } from '../state/accessors.ts';
import { explainDenial } from '../state/explainDenial.ts';
import { decideAccess } from '../state/policyContext.ts';
import type { Block } from '../types/block.ts';
import type { RecordMeta, RecordVersion } from '../types/record.ts';
import { TxType, type ReadRecordBody, type Transaction } from '../types/transaction.ts';
import type { Startable } from '../util/lifecycle.ts';
import { EmrError, EmrErrorCode, MAX_CIPHERTEXT_BYTES, type RecordService, type ReplicaBlobs } from './recordService.ts';

export interface ReplicationOptions {
  /** How long one peer gets to answer one blob request. */
  readonly requestTimeoutMs: number;
  /** Peers asked per fetch attempt, best synced first. */
  readonly peersPerAttempt: number;
  /** Custody jobs queued at most; versions beyond it are skipped (and counted). */
  readonly maxQueue: number;
  /** Attempts per custody job before it gives up. */
  readonly maxAttempts: number;
  /** Delay before a job's first attempt (the uploader uploads just after the version is included), doubled per retry. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Custody jobs running at once. */
  readonly concurrency: number;
  /** Blob requests this node serves at once; beyond it, UNAVAILABLE. */
  readonly maxServing: number;
  /** A custody request's time must be within this of the server's clock (its replay window). */
  readonly custodyWindowMs: number;
  /** Versions of one record a grant or a reorg replay looks at, newest first. */
  readonly maxVersionsPerScan: number;
}

export const DEFAULT_REPLICATION_OPTIONS: ReplicationOptions = {
  requestTimeoutMs: 15_000,
  peersPerAttempt: 4,
  maxQueue: 4096,
  maxAttempts: 8,
  retryBaseMs: 1_000,
  retryMaxMs: 5 * 60_000,
  concurrency: 2,
  maxServing: 16,
  custodyWindowMs: 5 * 60_000,
  maxVersionsPerScan: 256,
};

export interface BlobReplicatorModules {
  readonly chain: Chain;
  readonly records: RecordService;
  readonly network: Network;
  /** This node's hospital key. Without it the node serves, and fetches with read receipts, but holds no custody. */
  readonly keyPair?: KeyPair;
  readonly logger: Logger;
  /** Wall clock in ms (custody request times and the replay window). */
  readonly clock: () => number;
}

/** A peer's refusal, as seen by the fetching node. */
export interface PeerRefusal {
  readonly peer: string;
  readonly code: string;
  readonly detail: string;
}

/** What a read fetch achieved: whether this node now holds the ciphertext and the reader's envelope. */
export interface ReadFetchOutcome {
  readonly ciphertext: boolean;
  readonly envelope: boolean;
  readonly refusals: readonly PeerRefusal[];
}

/** What a custody fetch achieved: whether this node now holds the ciphertext, and which wanted envelopes it still lacks. */
export interface CustodyFetchOutcome {
  readonly ciphertext: boolean;
  readonly missingReaders: readonly Uint8Array[];
  /** The record was erased (here or at a peer), or this node does not know the version: nothing more to fetch. */
  readonly gone: boolean;
  readonly refusals: readonly PeerRefusal[];
}

/** Counters for node_info and metrics. */
export interface ReplicationStats {
  served: number;
  refused: number;
  fetchedCiphertexts: number;
  fetchedEnvelopes: number;
  penalized: number;
  /** Custody jobs dropped: queue full, or out of attempts. */
  dropped: number;
}

interface CustodyJob {
  readonly key: string;
  readonly record: Uint8Array;
  readonly version: number;
  /** A new version: ask for every envelope, and wait for the owner's and the author's at least. */
  everyEnvelope: boolean;
  /** Envelopes the job waits for (a grantee's). */
  readonly readers: Map<string, Uint8Array>;
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  running: boolean;
  /** Merged with another request while running: run again even if this run completed. */
  dirty: boolean;
}

/** What this node lacks of one version, for a fetch. */
interface Missing {
  readonly ciphertext: boolean;
  readonly readers: Uint8Array[];
}

/** A fetch's request for one peer, and what a response to it may contain. */
interface FetchPlan {
  readonly record: Uint8Array;
  readonly version: number;
  /** Signs the request afresh for each peer (custody times), or returns the receipt request. */
  readonly request: () => Uint8Array;
  /** Envelopes a response may carry; undefined: any reader. */
  readonly allowedReaders: ReadonlySet<string> | undefined;
}

/** A peer that did not answer in time (or the replicator is stopping). */
class RequestTimeout extends Error {}

/**
 * Serves blob requests (the node's NetworkHandlers.blob), fetches a read's blobs from peers with its receipt,
 * and, on a hospital node, keeps a custody copy of every record version by asking peers for what it lacks.
 */
export class BlobReplicator implements Startable {
  readonly #o: ReplicationOptions;
  readonly #m: BlobReplicatorModules;
  readonly #jobs = new Map<string, CustodyJob>();
  readonly #ready: CustodyJob[] = [];
  readonly #runningJobs = new Set<Promise<void>>();
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopping = new AbortController();
  #serving = 0;
  readonly stats: ReplicationStats = { served: 0, refused: 0, fetchedCiphertexts: 0, fetchedEnvelopes: 0, penalized: 0, dropped: 0 };

  constructor(options: Partial<ReplicationOptions>, modules: BlobReplicatorModules) {
    this.#o = { ...DEFAULT_REPLICATION_OPTIONS, ...options };
    this.#m = modules;
  }

  async start(): Promise<void> {
    this.#stopping = new AbortController();
    const { keyPair, chain, logger } = this.#m;
    if (keyPair === undefined) return;
    if (getAccount(chain.state, keyPair.publicKey)?.role !== 'hospital') {
      logger.warn({ key: toHex(keyPair.publicKey) }, 'blob custody is off: this node key is not a hospital in chain state');
      return;
    }
    this.#unsubscribe = chain.onHead((block, head) => this.#onBlock(block, !bytesEqual(head.hash, chain.head.hash)));
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#stopping.abort();
    for (const job of this.#jobs.values()) clearTimeout(job.timer);
    this.#jobs.clear();
    this.#ready.length = 0;
    await Promise.allSettled([...this.#runningJobs]);
    this.#settle();
  }

  /** Custody jobs queued or running. */
  get pendingJobs(): number {
    return this.#jobs.size;
  }

  /** Resolves once no custody job is queued or running (each has succeeded or given up). */
  settled(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    if (this.#idle === undefined) {
      let resolve = (): void => {};
      const promise = new Promise<void>((r) => (resolve = r));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  // -------------------------------------------------------------------------------------------------------
  // Serving
  // -------------------------------------------------------------------------------------------------------

  /** Answers one blob request from `peer` (NetworkHandlers.blob). Never throws: a refusal names its reason. */
  async handleRequest(bytes: Uint8Array, peer: string): Promise<Uint8Array> {
    // [REFUSE] At most maxServing requests at once: each may hold a full ciphertext in memory
    if (this.#serving >= this.#o.maxServing) return this.#refuse(peer, BlobRefusal.Unavailable, 'too many blob requests in flight; try another peer');
    this.#serving += 1;
    try {
      return await this.#serve(bytes, peer);
    } catch (error) {
      this.#m.logger.error({ err: error, peer }, 'a blob request failed on this node');
      return this.#refuse(peer, BlobRefusal.Unavailable, 'this node could not answer; try another peer');
    } finally {
      this.#serving -= 1;
    }
  }

  async #serve(bytes: Uint8Array, peer: string): Promise<Uint8Array> {
    let request: BlobRequest;
    try {
      request = decodeBlobRequest(bytes);
    } catch (error) {
      if (error instanceof DecodeError) return this.#refuse(peer, BlobRefusal.Malformed, `the request could not be decoded: ${error.message}`);
      throw error;
    }
    return request.kind === 'read' ? this.#serveRead(request.receipt, peer) : this.#serveCustody(request.request, request.signed, request.signature, peer);
  }

  async #serveRead(receipt: Uint8Array, peer: string): Promise<Uint8Array> {
    const { chain } = this.#m;
    let tx: Transaction;
    try {
      tx = decodeTransaction(receipt);
    } catch (error) {
      if (error instanceof DecodeError) return this.#refuse(peer, BlobRefusal.Malformed, `the receipt could not be decoded: ${error.message}`);
      throw error;
    }
    const body = tx.body;
    // [REFUSE] The receipt is an access.read transaction for this chain, signed by its sender
    if (body.type !== TxType.ReadRecord) return this.#refuse(peer, BlobRefusal.Malformed, 'a read request carries a signed access.read transaction');
    if (tx.chainId !== chain.genesisSpec.chainId) return this.#refuse(peer, BlobRefusal.Malformed, `the receipt is for chain "${tx.chainId}"`);
    if (!verifyTransactionSignature(tx)) return this.#refuse(peer, BlobRefusal.BadSignature, 'the receipt signature does not verify against its sender');
    const answer = await chain.exclusive(async (): Promise<Uint8Array | HeldBlobs> => {
      // [REFUSE] The receipt is on this node's canonical chain: every read served is in the audit trail
      if ((await chain.getTxLocation(tx.id)) === undefined) {
        return this.#refuse(peer, BlobRefusal.NotIncluded, `receipt ${toHex(tx.id).slice(0, 16)}… is not on this node's canonical chain`);
      }
      const live = this.#liveVersion(body.record, body.version, peer);
      if (live instanceof Uint8Array) return live;
      const denied = this.#policyRefusal(live.record, tx.sender, body, peer);
      if (denied !== undefined) return denied;
      const bundle = await this.#readBundle(body.record, body.version, true, [tx.sender]);
      if (bundle.ciphertext === null && bundle.envelopes.length === 0) return this.#refuse(peer, BlobRefusal.NotFound, 'this node holds no blobs for that version');
      return bundle;
    });
    return answer instanceof Uint8Array ? answer : this.#send(answer);
  }

  async #serveCustody(request: CustodyRequest, signed: Uint8Array, signature: Uint8Array, peer: string): Promise<Uint8Array> {
    const { chain, clock } = this.#m;
    if (request.chainId !== chain.genesisSpec.chainId) return this.#refuse(peer, BlobRefusal.Malformed, `the request is for chain "${request.chainId}"`);
    // [REFUSE] The request was made now (± the replay window): an old signed request is not a standing pass
    const skew = Math.abs(clock() - request.time);
    if (skew > this.#o.custodyWindowMs) return this.#refuse(peer, BlobRefusal.StaleRequest, `the request time is ${Math.round(skew / 1000)} s from this node's clock`);
    // [REFUSE] Signed by the requester, a hospital in chain state
    if (!verify(signature, signed, request.requester)) return this.#refuse(peer, BlobRefusal.BadSignature, 'the signature does not verify against the requester key');
    if (getAccount(chain.state, request.requester)?.role !== 'hospital') {
      return this.#refuse(peer, BlobRefusal.NotAHospital, 'only hospital nodes hold custody copies');
    }
    // [REFUSE] Sent by the peer it was signed for: another peer that was asked the same cannot replay it
    if (request.peer !== peer) return this.#refuse(peer, BlobRefusal.WrongPeer, 'the request was signed for another peer');
    const answer = await chain.exclusive(async (): Promise<Uint8Array | HeldBlobs> => {
      const live = this.#liveVersion(request.record, request.version, peer);
      if (live instanceof Uint8Array) return live;
      const bundle = await this.#readBundle(request.record, request.version, request.ciphertext, request.readers.length === 0 ? undefined : request.readers);
      if (bundle.ciphertext === null && bundle.envelopes.length === 0) return this.#refuse(peer, BlobRefusal.NotFound, 'this node holds none of the requested blobs');
      return bundle;
    });
    return answer instanceof Uint8Array ? answer : this.#send(answer);
  }

  /** The record and version when the record lives here, or the refusal to send. */
  #liveVersion(id: Uint8Array, versionNumber: number, peer: string): { record: RecordMeta; version: RecordVersion } | Uint8Array {
    const state = this.#m.chain.state;
    const record = getRecord(state, id);
    if (record === undefined) return this.#refuse(peer, BlobRefusal.NotFound, `no record ${toHex(id).slice(0, 16)}… on this node`);
    // [REFUSE] An erased record's blobs are gone, here and everywhere
    if (record.erasedAt !== null) return this.#refuse(peer, BlobRefusal.Erased, `the record was erased at height ${record.erasedAt}`);
    const version = getRecordVersion(state, id, versionNumber);
    if (version === undefined) return this.#refuse(peer, BlobRefusal.NotFound, `the record has versions 0 to ${record.versionCount - 1}`);
    return { record, version };
  }

  /** [REFUSE] The record's policy lets the receipt's signer read now (as the mempool checks emr_read's request). */
  #policyRefusal(record: RecordMeta, reader: Uint8Array, body: ReadRecordBody, peer: string): Uint8Array | undefined {
    if (bytesEqual(record.owner, reader)) return undefined;
    const { chain, clock } = this.#m;
    const at = chain.nextBlockContext(Math.max(clock(), chain.head.header.time));
    const request = { requester: reader, action: 'read' as const, purpose: body.purpose, emergency: body.emergency };
    const decision = decideAccess(chain.state, record, request, at);
    if (decision.decision === 'allow') return undefined;
    return this.#refuse(peer, BlobRefusal.Denied, `the record's policy does not let this reader read now (${explainDenial(chain.state, record, request, at.time)})`);
  }

  /** What this node holds of a version: the ciphertext if asked, and the envelopes of `readers` (undefined: all). */
  async #readBundle(record: Uint8Array, version: number, withCiphertext: boolean, readers: readonly Uint8Array[] | undefined): Promise<HeldBlobs> {
    const store = this.#m.chain.store;
    let salt: Uint8Array | null = null;
    let ciphertext: Uint8Array | null = null;
    if (withCiphertext) {
      const stored = await store.getBlob(blobKey.ciphertext(record, version));
      if (stored !== undefined) {
        const [s, c] = expectArray(decodeCanonical(stored, MAX_CIPHERTEXT_BYTES + 1024, 'blob'), 2, 'blob');
        salt = expectBytes(s, 32, 'blob.salt');
        ciphertext = expectBytesUpTo(c, MAX_CIPHERTEXT_BYTES, 'blob.ciphertext');
      }
    }
    const envelopes: BlobEnvelope[] = [];
    if (readers === undefined) {
      const prefix = blobKey.envelopesPrefix(record, version);
      for await (const { key, value } of store.readBlobs(prefix, MAX_BLOB_ENVELOPES)) envelopes.push({ reader: key.slice(prefix.length), envelope: value });
    } else {
      for (const reader of readers) {
        const envelope = await store.getBlob(blobKey.envelope(record, version, reader));
        if (envelope !== undefined) envelopes.push({ reader, envelope });
      }
    }
    return { salt, ciphertext, envelopes };
  }

  #send(bundle: HeldBlobs): Uint8Array {
    this.stats.served += 1;
    return encodeBlobBundle(bundle.salt, bundle.ciphertext, bundle.envelopes);
  }

  #refuse(peer: string, code: BlobRefusal, detail: string): Uint8Array {
    this.stats.refused += 1;
    this.#m.logger.debug({ peer, code, detail }, 'refused a blob request');
    return encodeBlobRefusal(code, detail);
  }

  // -------------------------------------------------------------------------------------------------------
  // Fetching
  // -------------------------------------------------------------------------------------------------------

  /**
   * Fetches a read's ciphertext and the reader's envelope from peers with the read receipt (an included
   * access.read transaction), storing them after the commitment and erasure checks. Asks up to
   * `peersPerAttempt` peers in turn, each within `requestTimeoutMs`; resolves with what this node now holds.
   */
  async fetchForRead(receipt: Transaction): Promise<ReadFetchOutcome> {
    const body = receipt.body;
    if (body.type !== TxType.ReadRecord) throw new EmrError(EmrErrorCode.NotARead, 'a read fetch takes a signed access.read transaction');
    const reader = toHex(receipt.sender);
    const request = encodeReadBlobRequest(receipt.bytes);
    const plan: FetchPlan = { record: body.record, version: body.version, request: () => request, allowedReaders: new Set([reader]) };
    const wanted = new Map([[reader, receipt.sender]]);
    const { missing, refusals } = await this.#fetch(plan, () => this.#missing(body.record, body.version, wanted), 0);
    return { ciphertext: missing === undefined || !missing.ciphertext, envelope: missing === undefined || missing.readers.length === 0, refusals };
  }

  /**
   * Fetches a version's custody copy now (not queued): the ciphertext if this node lacks it and the envelopes
   * of `readers` (or, with no readers, every envelope peers hold). Needs the hospital key.
   */
  async fetchCustody(record: Uint8Array, version: number, readers: readonly Uint8Array[] = []): Promise<CustodyFetchOutcome> {
    const wanted = new Map(readers.map((r) => [toHex(r), r]));
    return this.#custodyAttempt(record, version, wanted, readers.length === 0, 0);
  }

  /** Queues a custody fetch of a version (merged with one already queued); `readers` adds envelopes to wait for. */
  queueCustody(record: Uint8Array, version: number, readers: readonly Uint8Array[] = [], everyEnvelope = readers.length === 0): void {
    if (this.#m.keyPair === undefined || this.#stopping.signal.aborted) return;
    const key = `${toHex(record)}:${version}`;
    let job = this.#jobs.get(key);
    if (job === undefined) {
      if (this.#jobs.size >= this.#o.maxQueue) {
        this.stats.dropped += 1;
        this.#m.logger.warn({ record: toHex(record), version, queued: this.#jobs.size }, 'the custody queue is full; skipped a version');
        return;
      }
      job = { key, record, version, everyEnvelope, readers: new Map(), attempts: 0, timer: undefined, running: false, dirty: false };
      this.#jobs.set(key, job);
      this.#schedule(job, this.#o.retryBaseMs);
    }
    job.everyEnvelope ||= everyEnvelope;
    for (const r of readers) job.readers.set(toHex(r), r);
    if (job.running) job.dirty = true;
  }

  /** New versions and read grants in a committed block become custody jobs; an erasure cancels the record's. */
  #onBlock(block: Block, replay: boolean): void {
    const added = new Map<string, { record: Uint8Array; count: number }>();
    for (const tx of block.transactions) {
      const body = tx.body;
      switch (body.type) {
        case TxType.CreateRecord:
          this.queueCustody(tx.id, 0);
          break;
        case TxType.AddRecordVersion: {
          const entry = added.get(toHex(body.record));
          if (entry === undefined) added.set(toHex(body.record), { record: body.record, count: 1 });
          else entry.count += 1;
          break;
        }
        case TxType.GrantAccess:
          // The sharing client uploads the grantee's envelopes before it sends the grant.
          if (body.scope.includes('read')) {
            for (const version of this.#recentVersions(body.record, this.#o.maxVersionsPerScan)) this.queueCustody(body.record, version, [body.grantee], false);
          }
          break;
        case TxType.EraseRecord:
          this.#cancelRecord(body.record);
          break;
        default:
          break;
      }
    }
    // The versions a block added are the newest `count` after it; in a reorg replay the state is already past
    // later blocks, so look further back (versions held here are skipped at once).
    for (const { record, count } of added.values()) {
      for (const version of this.#recentVersions(record, replay ? this.#o.maxVersionsPerScan : count)) this.queueCustody(record, version);
    }
  }

  /** The newest `count` versions of a live record. */
  #recentVersions(record: Uint8Array, count: number): number[] {
    const meta = getRecord(this.#m.chain.state, record);
    if (meta === undefined || meta.erasedAt !== null) return [];
    const out: number[] = [];
    for (let v = Math.max(0, meta.versionCount - count); v < meta.versionCount; v++) out.push(v);
    return out;
  }

  #cancelRecord(record: Uint8Array): void {
    const prefix = `${toHex(record)}:`;
    for (const [key, job] of this.#jobs) {
      if (!key.startsWith(prefix) || job.running) continue;
      clearTimeout(job.timer);
      this.#jobs.delete(key);
    }
    this.#settle();
  }

  #schedule(job: CustodyJob, delayMs: number): void {
    job.timer = setTimeout(() => {
      job.timer = undefined;
      this.#ready.push(job);
      this.#pump();
    }, delayMs);
    job.timer.unref?.();
  }

  #pump(): void {
    while (this.#runningJobs.size < this.#o.concurrency && this.#ready.length > 0) {
      const job = this.#ready.shift()!;
      if (this.#jobs.get(job.key) !== job) continue;
      job.running = true;
      const run: Promise<void> = this.#runJob(job).finally(() => {
        job.running = false;
        this.#runningJobs.delete(run);
        this.#pump();
        this.#settle();
      });
      this.#runningJobs.add(run);
    }
  }

  async #runJob(job: CustodyJob): Promise<void> {
    job.dirty = false;
    let outcome: CustodyFetchOutcome;
    try {
      outcome = await this.#custodyAttempt(job.record, job.version, job.readers, job.everyEnvelope, job.attempts);
    } catch (error) {
      this.#m.logger.error({ err: error, record: toHex(job.record), version: job.version }, 'a custody fetch failed');
      outcome = { ciphertext: false, missingReaders: [], gone: false, refusals: [] };
    }
    if (this.#jobs.get(job.key) !== job) return;
    const done = outcome.gone || (outcome.ciphertext && outcome.missingReaders.length === 0 && !job.dirty);
    job.attempts += 1;
    if (done || this.#stopping.signal.aborted) {
      this.#jobs.delete(job.key);
      return;
    }
    if (job.attempts >= this.#o.maxAttempts) {
      this.#jobs.delete(job.key);
      this.stats.dropped += 1;
      this.#m.logger.warn(
        { record: toHex(job.record), version: job.version, ciphertext: outcome.ciphertext, missingEnvelopes: outcome.missingReaders.length, refusals: outcome.refusals.map((r) => r.code) },
        'gave up fetching a custody copy',
      );
      return;
    }
    this.#schedule(job, Math.min(this.#o.retryBaseMs * 2 ** job.attempts, this.#o.retryMaxMs));
  }

  #settle(): void {
    if (this.#jobs.size === 0 && this.#idle !== undefined) {
      this.#idle.resolve();
      this.#idle = undefined;
    }
  }

  async #custodyAttempt(record: Uint8Array, version: number, readers: ReadonlyMap<string, Uint8Array>, everyEnvelope: boolean, attempt: number): Promise<CustodyFetchOutcome> {
    const { keyPair, chain } = this.#m;
    if (keyPair === undefined) throw new Error('custody fetches need the hospital key (BlobReplicatorModules.keyPair)');
    const meta = getRecord(chain.state, record);
    const versionMeta = getRecordVersion(chain.state, record, version);
    if (meta === undefined || versionMeta === undefined || meta.erasedAt !== null) return { ciphertext: false, missingReaders: [], gone: true, refusals: [] };
    const wanted = new Map(readers);
    if (everyEnvelope) {
      wanted.set(toHex(meta.owner), meta.owner);
      wanted.set(toHex(versionMeta.author), versionMeta.author);
    }
    const missingNow = () => this.#missing(record, version, wanted);
    const first = await missingNow();
    if (!first.ciphertext && first.readers.length === 0) return { ciphertext: true, missingReaders: [], gone: false, refusals: [] };
    const askFor = everyEnvelope ? [] : first.readers.slice(0, MAX_CUSTODY_READERS);
    const plan: FetchPlan = {
      record,
      version,
      request: () => {
        const body = encodeCustodyRequest({
          chainId: chain.genesisSpec.chainId,
          record,
          version,
          time: this.#m.clock(),
          requester: keyPair.publicKey,
          ciphertext: first.ciphertext,
          readers: askFor,
          peer: this.#m.network.peerId,
        });
        return encodeCustodyBlobRequest(body, sign(body, keyPair.secretKey));
      },
      allowedReaders: askFor.length === 0 ? undefined : new Set(askFor.map(toHex)),
    };
    const { missing, refusals, erased } = await this.#fetch(plan, missingNow, attempt);
    return {
      ciphertext: missing === undefined || !missing.ciphertext,
      missingReaders: missing?.readers ?? [],
      gone: erased,
      refusals,
    };
  }

  /** What this node still lacks of a version: the ciphertext, and which of `wanted` readers' envelopes. */
  async #missing(record: Uint8Array, version: number, wanted: ReadonlyMap<string, Uint8Array>): Promise<Missing> {
    const store = this.#m.chain.store;
    const ciphertext = (await store.getBlob(blobKey.ciphertext(record, version))) === undefined;
    const readers: Uint8Array[] = [];
    for (const reader of wanted.values()) {
      if ((await store.getBlob(blobKey.envelope(record, version, reader))) === undefined) readers.push(reader);
    }
    return { ciphertext, readers };
  }

  /**
   * Asks peers in turn (best synced first, rotated per attempt) until nothing is missing. Each bundle is
   * stored through RecordService.storeReplica; a peer whose bundle fails the checks is penalized.
   * `missing` is undefined when nothing is missing any more.
   */
  async #fetch(plan: FetchPlan, missingNow: () => Promise<Missing>, attempt: number): Promise<{ missing: Missing | undefined; refusals: PeerRefusal[]; erased: boolean }> {
    const refusals: PeerRefusal[] = [];
    let missing: Missing | undefined = await missingNow();
    if (!missing.ciphertext && missing.readers.length === 0) return { missing: undefined, refusals, erased: false };
    for (const peer of this.#peersToAsk(attempt)) {
      if (this.#stopping.signal.aborted) break;
      const response = await this.#ask(peer, plan.request());
      if (response === undefined) continue;
      if (response.kind === 'refused') {
        refusals.push({ peer, code: response.code, detail: response.detail });
        if (response.code === BlobRefusal.Erased) return { missing, refusals, erased: true };
        continue;
      }
      const stored = await this.#storeFrom(peer, plan, response);
      if (stored === 'erased') return { missing, refusals, erased: true };
      missing = await missingNow();
      if (!missing.ciphertext && missing.readers.length === 0) return { missing: undefined, refusals, erased: false };
    }
    return { missing, refusals, erased: false };
  }

  /** Stores a peer's bundle; penalizes the peer when it fails the checks. */
  async #storeFrom(peer: string, plan: FetchPlan, bundle: Extract<BlobResponse, { kind: 'bundle' }>): Promise<'stored' | 'refused' | 'erased'> {
    // [PENALIZE] A response carries only envelopes that were asked for
    const stray = plan.allowedReaders === undefined ? undefined : bundle.envelopes.find((e) => !plan.allowedReaders!.has(toHex(e.reader)));
    if (stray !== undefined) {
      this.#penalize(peer, 'blob response carries an envelope that was not asked for', plan);
      return 'refused';
    }
    const replica: ReplicaBlobs = { salt: bundle.salt, ciphertext: bundle.ciphertext, envelopes: bundle.envelopes };
    try {
      const stored = await this.#m.records.storeReplica(plan.record, plan.version, replica);
      if (stored.ciphertext) this.stats.fetchedCiphertexts += 1;
      this.stats.fetchedEnvelopes += stored.envelopes;
      if (stored.ciphertext || stored.envelopes > 0) {
        this.#m.logger.debug({ peer, record: toHex(plan.record), version: plan.version, ...stored }, 'stored blobs from a peer');
      }
      return 'stored';
    } catch (error) {
      if (!(error instanceof EmrError)) throw error;
      switch (error.code) {
        case EmrErrorCode.RecordErased:
          return 'erased';
        case EmrErrorCode.RecordNotFound:
        case EmrErrorCode.NoSuchVersion:
        case EmrErrorCode.UnknownReader:
          // This node may be behind the peer (a reader registered in a block not imported here yet): not a fault.
          this.#m.logger.debug({ peer, code: error.code }, 'could not store blobs from a peer yet');
          return 'refused';
        default:
          // [PENALIZE] A blob that fails its on-chain commitment or size, or a malformed envelope
          this.#penalize(peer, `blob response failed its checks (${error.code})`, plan);
          return 'refused';
      }
    }
  }

  #penalize(peer: string, reason: string, plan: FetchPlan): void {
    this.stats.penalized += 1;
    this.#m.logger.warn({ peer, record: toHex(plan.record), version: plan.version, reason }, 'penalized a peer for a bad blob');
    this.#m.network.penalize(peer, reason);
  }

  /** One request to one peer, bounded by the timeout; undefined when the peer gave no usable answer. */
  async #ask(peer: string, request: Uint8Array): Promise<BlobResponse | undefined> {
    // The deadline and shutdown cancel the request in the network layer, and stop waiting for it here in
    // any case (a network that ignores the signal cannot hold a fetch).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new RequestTimeout(`no answer within ${this.#o.requestTimeoutMs} ms`)), this.#o.requestTimeoutMs);
    const signal = AbortSignal.any([deadline.signal, this.#stopping.signal]);
    let onAbort = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new RequestTimeout('stopping'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const bytes = await Promise.race([this.#m.network.requestBlob(peer, request, { signal }), aborted]);
      try {
        return decodeBlobResponse(bytes);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        // [PENALIZE] A response that is not a well-formed, size-limited blob response
        this.stats.penalized += 1;
        this.#m.logger.warn({ peer, reason: error.reason, field: error.field }, 'penalized a peer for a malformed blob response');
        this.#m.network.penalize(peer, `malformed blob response (${error.reason} at ${error.field})`);
        return undefined;
      }
    } catch (error) {
      // A peer that is slow, gone or failing: try the next one. Not penalized; the network layer scores transport faults.
      this.#m.logger.debug({ peer, err: error }, 'a blob request got no answer');
      return undefined;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Connected peers best synced first, rotated by `attempt` so retries reach other peers; at most peersPerAttempt. */
  #peersToAsk(attempt: number): string[] {
    const peers: PeerInfo[] = [...this.#m.network.peers()].sort((a, b) => (b.status?.headHeight ?? -1) - (a.status?.headHeight ?? -1));
    if (peers.length === 0) return [];
    const start = (attempt * this.#o.peersPerAttempt) % peers.length;
    const rotated = [...peers.slice(start), ...peers.slice(0, start)];
    return rotated.slice(0, this.#o.peersPerAttempt).map((p) => p.id);
  }
}

/** What this node holds of one version, about to be sent. */
interface HeldBlobs {
  readonly salt: Uint8Array | null;
  readonly ciphertext: Uint8Array | null;
  readonly envelopes: readonly BlobEnvelope[];
}
