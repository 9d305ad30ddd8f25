import type { Logger } from 'pino';
import { ReqRespError } from './errors.ts';
import type { ChainStatus, Network } from './interface.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../state/errors.ts';
import type { Startable } from '../util/lifecycle.ts';

/** What a block's bytes claim about its place in the chain (not yet validated). */
export interface BlockRef {
  readonly hash: Uint8Array;
  readonly parentHash: Uint8Array;
  readonly height: number;
}

/** The part of the chain the syncer needs. */
export interface SyncChain {
  status(): ChainStatus;
  /**
   * Validates and imports one block. Throws BlockError: ALREADY_KNOWN is skipped, UNKNOWN_PARENT makes the
   * syncer fetch ancestors, any REJECT means the peer that served it is penalized and no longer synced from.
   */
  importBlock(bytes: Uint8Array, options?: { readonly signaturesTrusted?: boolean }): Promise<unknown>;
  /**
   * The hash, parent hash and height a block's bytes claim (throws when they cannot be decoded). Needed to
   * walk back from a block with an unknown parent; the chain's codec knows the format, the network does not.
   */
  describeBlock(bytes: Uint8Array): BlockRef;
  /** The same for an encoded header (headers_by_range answers). */
  describeHeader(bytes: Uint8Array): BlockRef;
}

/**
 * A block the operator trusts (`sync.assumeValid`, like Bitcoin Core's assumevalid): while catching up to
 * it, the syncer first fetches the header chain that ends in it, checks every link back to our head, and
 * then imports the blocks on that chain without checking their transaction signatures (every other rule
 * still holds). A peer whose headers do not lead to it is synced from with every check.
 */
export interface TrustedCheckpoint {
  readonly height: number;
  readonly hash: Uint8Array;
}

export interface SyncOptions {
  /** How often every connected peer is asked for its status, so a node that missed gossip catches up. */
  readonly statusIntervalMs: number;
  /** Least time between two progress log lines while syncing. */
  readonly progressLogIntervalMs: number;
  /** Blocks per blocks_by_range request (at most the protocol's 64). */
  readonly blocksPerRequest: number;
  /** Range requests in flight at once to the peer being synced from. */
  readonly pipelineDepth: number;
  /** Range requests started per second at most, below the server's limit (NETWORK_LIMITS.requestRate). */
  readonly maxRangeRequestsPerSecond: number;
  /** Least time between two status requests to one peer (gossip of far-ahead blocks asks for statuses). */
  readonly minStatusIntervalMs: number;
  /** Deepest walk back (one block_by_hash each) looking for a known ancestor. */
  readonly maxAncestors: number;
  /** Most bytes of ancestors held while walking back. */
  readonly maxAncestorBytes: number;
  /** Walks back started by gossip at once; more are dropped (range sync covers them). */
  readonly maxParallelAncestorFetches: number;
  /** How long a peer that failed us (timeout, empty answer) is passed over. */
  readonly retryPeerAfterMs: number;
  /** How long a peer that served an invalid block is not synced from. */
  readonly badPeerExclusionMs: number;
  /** Headers per headers_by_range request (at most the protocol's 1024). */
  readonly headersPerRequest: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  statusIntervalMs: 5_000,
  progressLogIntervalMs: 3_000,
  blocksPerRequest: 64,
  pipelineDepth: 3,
  maxRangeRequestsPerSecond: 16,
  minStatusIntervalMs: 1_000,
  maxAncestors: 1024,
  maxAncestorBytes: 64 * 1024 * 1024,
  maxParallelAncestorFetches: 2,
  retryPeerAfterMs: 10_000,
  badPeerExclusionMs: 10 * 60_000,
  headersPerRequest: 1024,
};

export interface SyncModules {
  readonly network: Network;
  readonly chain: SyncChain;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly assumeValid?: TrustedCheckpoint;
}

/**
 * The verified header chain of the trusted checkpoint: the hash at each height from `base` to the checkpoint,
 * 32 bytes each, back to back (one buffer: an array of small Uint8Arrays would cost ~4x the memory).
 */
interface TrustedHeaders {
  readonly base: number;
  readonly hashes: Uint8Array;
}

/** What `node_syncing` reports. */
export interface SyncState {
  readonly syncing: boolean;
  /** Our head height when the current (or last) sync began. */
  readonly startingHeight: number;
  readonly currentHeight: number;
  /** The highest head height a peer with a better head has told us about (at least ours). */
  readonly highestHeight: number;
}

type ImportOutcome = 'continue' | 'stop';

const HASH_BYTES = 32;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Catches the chain up with peers whose head is better than ours: block ranges from our height + 1,
 * imported as they arrive; walks back by hash when a block's parent is unknown (a fork, or a gossiped block
 * ahead of us). Driven by peer statuses, which it refreshes every `statusIntervalMs`.
 */
export class Syncer implements Startable {
  readonly #options: SyncOptions;
  readonly #network: Network;
  readonly #chain: SyncChain;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #statuses = new Map<string, ChainStatus>();
  /** Peers passed over until a time, and why. */
  readonly #excluded = new Map<string, { until: number; reason: string }>();
  readonly #ancestorFetches = new Set<string>();
  /** When each peer was last asked for its status (in flight or done). */
  readonly #statusAskedAt = new Map<string, number>();
  #lastRangeRequestAt = 0;
  #controller = new AbortController();
  #started = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #syncing = false;
  #startingHeight = 0;
  #targetHeight = 0;
  #progress = { at: 0, height: 0 };
  readonly #assumeValid: TrustedCheckpoint | undefined;
  #trusted: TrustedHeaders | undefined;
  /** Peers whose headers did not lead to the trusted checkpoint: synced from with every check. */
  readonly #untrustedPeers = new Set<string>();

  constructor(options: Partial<SyncOptions>, modules: SyncModules) {
    this.#options = { ...DEFAULT_SYNC_OPTIONS, ...options };
    if (this.#options.blocksPerRequest < 1 || this.#options.blocksPerRequest > 64) {
      throw new RangeError(`blocksPerRequest must be between 1 and 64, got ${this.#options.blocksPerRequest}`);
    }
    this.#network = modules.network;
    this.#chain = modules.chain;
    this.#log = modules.logger;
    this.#clock = modules.clock;
    if (this.#options.headersPerRequest < 1 || this.#options.headersPerRequest > 1024) {
      throw new RangeError(`headersPerRequest must be between 1 and 1024, got ${this.#options.headersPerRequest}`);
    }
    this.#startingHeight = modules.chain.status().headHeight;
    this.#assumeValid = modules.assumeValid;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#controller = new AbortController();
    this.#timer = setInterval(() => void this.#refreshStatuses(), this.#options.statusIntervalMs);
    this.#timer.unref();
    void this.#refreshStatuses();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#controller.abort();
    await this.#running;
  }

  state(): SyncState {
    const currentHeight = this.#chain.status().headHeight;
    let highestHeight = Math.max(currentHeight, this.#syncing ? this.#targetHeight : 0);
    const ours = this.#chain.status().headScore;
    for (const status of this.#statuses.values()) {
      if (status.headScore > ours) highestHeight = Math.max(highestHeight, status.headHeight);
    }
    return {
      syncing: this.#syncing,
      startingHeight: this.#syncing ? this.#startingHeight : Math.min(this.#startingHeight, currentHeight),
      currentHeight,
      highestHeight,
    };
  }

  /** Records a peer's status (the node forwards NetworkHandlers.onPeerStatus here) and syncs if it is ahead. */
  onPeerStatus(peer: string, status: ChainStatus): void {
    this.#statuses.set(peer, status);
    if (status.headScore > this.#chain.status().headScore) this.#kick();
  }

  /**
   * A gossiped block whose parent we do not know: fetches its ancestors from the peer that sent it, back to a
   * known block, then imports them forward. A block far ahead is left to range sync. Never throws.
   */
  async onUnknownParent(peer: string, blockBytes: Uint8Array): Promise<void> {
    if (!this.#started) return;
    let ref: BlockRef;
    try {
      ref = this.#chain.describeBlock(blockBytes);
    } catch (error) {
      this.#log.debug({ peer, err: describeError(error) }, 'a block with an unknown parent cannot be described');
      return;
    }
    const ours = this.#chain.status().headHeight;
    if (ref.height > ours + this.#options.blocksPerRequest) {
      // Far ahead: a range sync is much faster than a hash walk; ask the peer where its head is.
      this.#requestStatus(peer);
      return;
    }
    const key = toHex(ref.parentHash);
    if (this.#ancestorFetches.has(key) || this.#ancestorFetches.size >= this.#options.maxParallelAncestorFetches) return;
    this.#ancestorFetches.add(key);
    try {
      await this.#importWithAncestors(peer, blockBytes, ref);
    } catch (error) {
      this.#log.error({ peer, err: error }, 'fetching the ancestors of a gossiped block failed');
    } finally {
      this.#ancestorFetches.delete(key);
    }
  }

  // ---- statuses ----

  async #refreshStatuses(): Promise<void> {
    if (!this.#started) return;
    const connected = new Set<string>();
    const requests: Promise<void>[] = [];
    for (const peer of this.#network.peers()) {
      connected.add(peer.id);
      requests.push(this.#requestStatus(peer.id));
    }
    for (const peer of this.#statuses.keys()) if (!connected.has(peer)) this.#statuses.delete(peer);
    for (const peer of this.#statusAskedAt.keys()) if (!connected.has(peer)) this.#statusAskedAt.delete(peer);
    for (const [peer, exclusion] of this.#excluded) if (exclusion.until <= this.#clock()) this.#excluded.delete(peer);
    await Promise.all(requests);
    this.#kick();
  }

  #requestStatus(peer: string): Promise<void> {
    const now = this.#clock();
    // Peers limit status requests; a burst of far-ahead gossip must not make us exceed that.
    if (now - (this.#statusAskedAt.get(peer) ?? -Infinity) < this.#options.minStatusIntervalMs) return Promise.resolve();
    this.#statusAskedAt.set(peer, now);
    return this.#network.requestStatus(peer, { signal: this.#controller.signal }).then(
      (status) => {
        this.#statuses.set(peer, status);
        if (status.headScore > this.#chain.status().headScore) this.#kick();
      },
      (error: unknown) => this.#log.debug({ peer, err: describeError(error) }, 'status request failed'),
    );
  }

  // ---- the sync loop ----

  #kick(): void {
    if (!this.#started) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#run()
      .catch((error: unknown) => this.#log.error({ err: error }, 'sync stopped by an unexpected error'))
      .finally(() => {
        this.#running = undefined;
        this.#syncing = false;
      });
  }

  async #run(): Promise<void> {
    for (;;) {
      this.#again = false;
      const peer = this.#bestPeer();
      if (peer === undefined || !this.#started) break;
      if (!this.#syncing) {
        this.#syncing = true;
        this.#startingHeight = this.#chain.status().headHeight;
        this.#progress = { at: this.#clock(), height: this.#startingHeight };
        this.#log.info({ peer, from: this.#startingHeight, target: this.#statuses.get(peer)?.headHeight }, 'sync started');
      }
      const before = this.#chain.status().headHeight;
      await this.#fetchTrustedHeaders(peer);
      await this.#syncFrom(peer);
      const after = this.#chain.status();
      if (after.headHeight === before && !this.#excluded.has(peer)) {
        // No progress and no reason recorded: pass over it for a while rather than spin.
        this.#exclude(peer, this.#options.retryPeerAfterMs, 'no progress');
      }
      if (this.#bestPeer() === undefined && !this.#again) break;
    }
    if (this.#trusted !== undefined && this.#chain.status().headHeight >= this.#assumeValid!.height) this.#trusted = undefined;
    if (this.#syncing) {
      const height = this.#chain.status().headHeight;
      this.#log.info({ height, imported: height - this.#startingHeight }, 'sync finished');
    }
  }

  /** The connected peer with the best head above ours, not passed over. */
  #bestPeer(): string | undefined {
    const now = this.#clock();
    let best: { peer: string; score: bigint } | undefined;
    const ours = this.#chain.status().headScore;
    for (const [peer, status] of this.#statuses) {
      const exclusion = this.#excluded.get(peer);
      if (exclusion !== undefined) {
        if (exclusion.until > now) continue;
        this.#excluded.delete(peer);
      }
      if (status.headScore > ours && (best === undefined || status.headScore > best.score)) best = { peer, score: status.headScore };
    }
    return best?.peer;
  }

  #exclude(peer: string, forMs: number, reason: string): void {
    this.#excluded.set(peer, { until: this.#clock() + forMs, reason });
    this.#log.debug({ peer, forMs, reason }, 'not syncing from this peer for a while');
  }

  async #syncFrom(peer: string): Promise<void> {
    const signal = this.#controller.signal;
    const inflight: Array<{ start: number; count: number; blocks: Promise<Uint8Array[]> }> = [];
    const abandon = (): void => {
      // Answers nobody waits for any more: swallow their failures (already logged by the network).
      for (const request of inflight.splice(0)) request.blocks.catch(() => undefined);
    };
    let next = this.#chain.status().headHeight + 1;
    try {
      while (this.#started) {
        const target = this.#statuses.get(peer)?.headHeight ?? 0;
        this.#targetHeight = Math.max(target, this.#chain.status().headHeight);
        if (target < next && inflight.length === 0) {
          // Its head is better but not higher: a heavier fork. Walk back from its head instead.
          if (this.#statuses.get(peer)!.headScore > this.#chain.status().headScore) await this.#syncToHeadByHash(peer);
          return;
        }
        while (inflight.length < this.#options.pipelineDepth && next <= target) {
          await this.#paceRangeRequests();
          if (!this.#started) return;
          const count = Math.min(this.#options.blocksPerRequest, target - next + 1);
          const blocks = this.#network.requestBlocksByRange(peer, next, count, { signal });
          // Awaited later, one at a time: mark the failure handled now, or a later request failing while an
          // earlier one is being imported would be an unhandled rejection (and end the process).
          blocks.catch(() => undefined);
          inflight.push({ start: next, count, blocks });
          next += count;
        }
        const request = inflight.shift();
        if (request === undefined) return;
        let blocks: Uint8Array[];
        try {
          blocks = await request.blocks;
        } catch (error) {
          if (!signal.aborted) this.#exclude(peer, this.#options.retryPeerAfterMs, `range request failed: ${describeError(error)}`);
          if (!(error instanceof ReqRespError)) this.#log.warn({ peer, err: error }, 'range request failed');
          return;
        }
        if (blocks.length === 0) {
          this.#exclude(peer, this.#options.retryPeerAfterMs, `no blocks from height ${request.start} although its head is ${target}`);
          return;
        }
        const outcome = await this.#importRange(peer, blocks);
        this.#logProgress();
        if (outcome === 'stop') return;
        if (blocks.length < request.count) {
          // A short answer (its size budget, or its head moved): the windows already asked for no longer line up.
          abandon();
          next = this.#chain.status().headHeight + 1;
        }
      }
    } finally {
      abandon();
    }
  }

  /** Waits until another range request keeps us under maxRangeRequestsPerSecond. */
  async #paceRangeRequests(): Promise<void> {
    const gap = 1000 / this.#options.maxRangeRequestsPerSecond;
    const wait = this.#lastRangeRequestAt + gap - this.#clock();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, gap)));
    this.#lastRangeRequestAt = this.#clock();
  }

  async #syncToHeadByHash(peer: string): Promise<void> {
    const status = this.#statuses.get(peer);
    if (status === undefined) return;
    let head: Uint8Array | undefined;
    try {
      head = await this.#network.requestBlockByHash(peer, status.headHash, { signal: this.#controller.signal });
    } catch (error) {
      this.#exclude(peer, this.#options.retryPeerAfterMs, `head request failed: ${describeError(error)}`);
      return;
    }
    if (head === undefined) {
      this.#exclude(peer, this.#options.retryPeerAfterMs, 'it does not serve the head it announced');
      return;
    }
    await this.#importRange(peer, [head]);
  }

  /**
   * Imports blocks in order; walks back on an unknown parent. 'stop' means this peer is done for now. The
   * whole range is queued at once, so the chain decodes the next block and checks its signatures while this
   * one executes and commits; after a failure the blocks queued behind it are settled and, if the failure
   * was resolved (its ancestors fetched), imported again.
   */
  async #importRange(peer: string, blocks: readonly Uint8Array[]): Promise<ImportOutcome> {
    const imports = blocks.map((bytes) => {
      const imported = this.#chain.importBlock(bytes, { signaturesTrusted: this.#isTrusted(bytes) });
      imported.catch(() => undefined);
      return imported;
    });
    const settleRest = (from: number): Promise<unknown> => Promise.allSettled(imports.slice(from));
    for (let i = 0; i < blocks.length; i++) {
      const bytes = blocks[i]!;
      if (!this.#started) return 'stop';
      try {
        await imports[i];
        continue;
      } catch (error) {
        await settleRest(i + 1);
        if (!(error instanceof BlockError)) {
          this.#log.error({ peer, err: error }, 'block import failed (not the block\'s fault): sync paused');
          this.#exclude(peer, this.#options.retryPeerAfterMs, 'import failed');
          return 'stop';
        }
        if (error.code === BlockErrorCode.AlreadyKnown) continue;
        if (error.code === BlockErrorCode.UnknownParent) {
          let ref: BlockRef;
          try {
            ref = this.#chain.describeBlock(bytes);
          } catch (describeFailure) {
            this.#rejectPeer(peer, `served an undecodable block (${describeError(describeFailure)})`);
            return 'stop';
          }
          if (await this.#importWithAncestors(peer, bytes, ref)) return this.#importRange(peer, blocks.slice(i + 1));
          return 'stop';
        }
        if (error.action === ErrorAction.Reject) {
          this.#rejectPeer(peer, `served an invalid block: ${error.code}: ${error.message}`);
          return 'stop';
        }
        this.#log.debug({ peer, code: error.code, err: error.message }, 'block ignored during sync; trying again later');
        this.#exclude(peer, this.#options.retryPeerAfterMs, `block ignored: ${error.code}`);
        return 'stop';
      }
    }
    return 'continue';
  }

  /**
   * Walks back from `bytes` by hash to a block we know (bounded by maxAncestors and maxAncestorBytes), then
   * imports the fetched blocks oldest first. True when `bytes` ended up imported (or known).
   */
  async #importWithAncestors(peer: string, bytes: Uint8Array, ref: BlockRef): Promise<boolean> {
    const signal = this.#controller.signal;
    const pending: Uint8Array[] = [bytes];
    let held = bytes.length;
    let wanted = ref.parentHash;
    for (let depth = 0; ; depth++) {
      if (!this.#started) return false;
      if (depth >= this.#options.maxAncestors || held > this.#options.maxAncestorBytes) {
        this.#log.warn({ peer, height: ref.height, depth, bytes: held }, 'no known ancestor within the walk-back bounds: giving up on this branch');
        this.#exclude(peer, this.#options.retryPeerAfterMs, 'walk-back too deep');
        return false;
      }
      let parent: Uint8Array | undefined;
      try {
        parent = await this.#network.requestBlockByHash(peer, wanted, { signal });
      } catch (error) {
        this.#exclude(peer, this.#options.retryPeerAfterMs, `parent request failed: ${describeError(error)}`);
        return false;
      }
      if (parent === undefined) {
        this.#log.debug({ peer, parent: toHex(wanted) }, 'the peer does not have the parent of a block it sent');
        return false;
      }
      let parentRef: BlockRef;
      try {
        parentRef = this.#chain.describeBlock(parent);
      } catch (error) {
        this.#rejectPeer(peer, `answered block_by_hash with an undecodable block (${describeError(error)})`);
        return false;
      }
      // [REJECT] block_by_hash answers with the block of that hash
      if (!bytesEqual(parentRef.hash, wanted)) {
        this.#rejectPeer(peer, `asked for block ${toHex(wanted)}, got ${toHex(parentRef.hash)}`);
        return false;
      }
      const outcome = await this.#tryImport(peer, parent);
      if (outcome === 'imported' || outcome === 'known') break;
      if (outcome === 'failed') return false;
      pending.push(parent);
      held += parent.length;
      wanted = parentRef.parentHash;
    }
    for (let i = pending.length - 1; i >= 0; i--) {
      const outcome = await this.#tryImport(peer, pending[i]!);
      if (outcome === 'failed' || outcome === 'unknown-parent') return false;
    }
    return true;
  }

  async #tryImport(peer: string, bytes: Uint8Array): Promise<'imported' | 'known' | 'unknown-parent' | 'failed'> {
    try {
      await this.#chain.importBlock(bytes);
      return 'imported';
    } catch (error) {
      if (!(error instanceof BlockError)) {
        this.#log.error({ peer, err: error }, 'block import failed (not the block\'s fault)');
        return 'failed';
      }
      if (error.code === BlockErrorCode.AlreadyKnown) return 'known';
      if (error.code === BlockErrorCode.UnknownParent) return 'unknown-parent';
      if (error.action === ErrorAction.Reject) this.#rejectPeer(peer, `served an invalid block: ${error.code}: ${error.message}`);
      else this.#log.debug({ peer, code: error.code }, 'fetched block ignored');
      return 'failed';
    }
  }

  // ---- the trusted checkpoint (sync.assumeValid) ----

  /**
   * Before syncing from `peer` below the trusted checkpoint, fetches the headers from the checkpoint down to
   * our head and checks that each is the parent of the next and the last is the checkpoint. Any failure
   * leaves that peer to a fully checked sync. Never throws.
   */
  async #fetchTrustedHeaders(peer: string): Promise<void> {
    const checkpoint = this.#assumeValid;
    const ours = this.#chain.status().headHeight;
    if (checkpoint === undefined || ours >= checkpoint.height || this.#untrustedPeers.has(peer)) return;
    if (this.#trusted !== undefined && this.#trusted.base <= ours + 1) return;
    if ((this.#statuses.get(peer)?.headHeight ?? 0) < checkpoint.height) return;
    const distrust = (reason: string, fault: boolean): void => {
      this.#untrustedPeers.add(peer);
      this.#log.warn({ peer, checkpoint: checkpoint.height, reason }, 'no trusted header chain from this peer: syncing from it with every signature checked');
      if (fault) this.#network.penalize(peer, reason);
    };
    const started = this.#clock();
    const hashes = new Uint8Array((checkpoint.height - ours) * HASH_BYTES);
    let expected = checkpoint.hash;
    let top = checkpoint.height;
    while (top > ours) {
      if (!this.#started) return;
      const start = Math.max(ours + 1, top - this.#options.headersPerRequest + 1);
      const count = top - start + 1;
      let headers: Uint8Array[];
      try {
        headers = await this.#network.requestHeadersByRange(peer, start, count, { signal: this.#controller.signal });
      } catch (error) {
        distrust(`headers_by_range failed: ${describeError(error)}`, false);
        return;
      }
      if (headers.length !== count) {
        distrust(`asked for ${count} headers from height ${start}, got ${headers.length}`, false);
        return;
      }
      for (let i = count - 1; i >= 0; i--) {
        let ref: BlockRef;
        try {
          ref = this.#chain.describeHeader(headers[i]!);
        } catch (error) {
          distrust(`served an undecodable header (${describeError(error)})`, true);
          return;
        }
        // [REJECT] headers_by_range answers with the headers of the heights asked for
        if (ref.height !== start + i) {
          distrust(`asked for the header at height ${start + i}, got height ${ref.height}`, true);
          return;
        }
        // Not a fault: the peer may follow another branch; the checkpoint is the operator's word, not the network's.
        if (!bytesEqual(ref.hash, expected)) {
          distrust(`its header at height ${ref.height} is ${toHex(ref.hash)}, the trusted chain has ${toHex(expected)}`, false);
          return;
        }
        hashes.set(ref.hash, (ref.height - ours - 1) * HASH_BYTES);
        expected = ref.parentHash;
      }
      top = start - 1;
    }
    this.#trusted = { base: ours + 1, hashes };
    this.#log.info(
      { peer, from: ours + 1, checkpoint: checkpoint.height, ms: this.#clock() - started },
      'header chain to the trusted checkpoint verified: its blocks are imported without signature checks',
    );
  }

  /** True when `bytes` is a block on the verified header chain of the trusted checkpoint. */
  #isTrusted(bytes: Uint8Array): boolean {
    const trusted = this.#trusted;
    if (trusted === undefined) return false;
    let ref: BlockRef;
    try {
      ref = this.#chain.describeBlock(bytes);
    } catch {
      return false;
    }
    const at = (ref.height - trusted.base) * HASH_BYTES;
    return at >= 0 && at < trusted.hashes.length && bytesEqual(trusted.hashes.subarray(at, at + HASH_BYTES), ref.hash);
  }

  #rejectPeer(peer: string, reason: string): void {
    this.#log.warn({ peer, reason }, 'peer served a bad block: penalized, not synced from');
    this.#network.penalize(peer, reason);
    this.#exclude(peer, this.#options.badPeerExclusionMs, reason);
  }

  #logProgress(): void {
    const now = this.#clock();
    const elapsed = now - this.#progress.at;
    if (elapsed < this.#options.progressLogIntervalMs) return;
    const height = this.#chain.status().headHeight;
    const perSecond = ((height - this.#progress.height) * 1000) / Math.max(1, elapsed);
    const remaining = Math.max(0, this.#targetHeight - height);
    this.#log.info(
      {
        height,
        target: this.#targetHeight,
        blocksPerSecond: Math.round(perSecond * 10) / 10,
        etaSeconds: perSecond > 0 ? Math.round(remaining / perSecond) : null,
      },
      `syncing ${height}/${this.#targetHeight}`,
    );
    this.#progress = { at: now, height };
  }
}
