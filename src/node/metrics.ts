// The node's Prometheus metrics, on a registry of their own (never prom-client's global one, so two nodes in
// one process, as in tests, do not share or collide). Gauges of things the node already knows (head height,
// peers, mempool size) read them at scrape time from callbacks; events (imports, gossip verdicts, reorgs) are
// counted by calling the methods below.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GossipKind, GossipVerdict } from '../p2p/interface.ts';

export const METRICS_PREFIX = 'medchain_';

const GOSSIP_KINDS: readonly GossipKind[] = ['tx', 'block', 'vote'];
const GOSSIP_VERDICTS: readonly GossipVerdict[] = ['accept', 'ignore', 'reject'];

/** A block import takes from about a millisecond (empty PoS block) to seconds (10,000 transactions, cold signatures). */
export const BLOCK_IMPORT_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Values read at scrape time. Leave one out and its gauge stays 0 (e.g. finalized height on a PoW chain);
 * a callback that throws fails the scrape, so give only callbacks that work for the node's whole lifetime.
 */
export interface NodeMetricsSources {
  readonly headHeight?: () => number;
  readonly finalizedHeight?: () => number;
  readonly peers?: () => number;
  readonly mempoolTransactions?: () => number;
  /** The height sync is heading for (the best peer's head); the head height when not syncing. */
  readonly syncTargetHeight?: () => number;
  /**
   * The node's running total of refused reads (RecordService.deniedReadCount). The counter follows it, so
   * do not also call deniedRead() for the same refusals.
   */
  readonly deniedReadsTotal?: () => number;
}

export interface NodeMetricsOptions {
  /** Process and Node.js runtime metrics (CPU, memory, event loop lag, GC), also `medchain_`-prefixed. Default true. */
  readonly processMetrics?: boolean;
}

/** The node's Prometheus registry and the metrics in it. */
export class NodeMetrics {
  readonly registry: Registry;
  readonly #blockImportSeconds: Histogram;
  readonly #blocksImported: Counter;
  readonly #gossipMessages: Counter<'topic' | 'verdict'>;
  readonly #deniedReads: Counter;
  readonly #reorgs: Counter;

  constructor(sources: NodeMetricsSources = {}, options: NodeMetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });

    sourcedGauge(registry, 'head_height', 'Height of the head block.', sources.headHeight);
    sourcedGauge(registry, 'finalized_height', 'Height of the latest finalized block (0 while nothing is finalized).', sources.finalizedHeight);
    sourcedGauge(registry, 'peers', 'Connected peers.', sources.peers);
    sourcedGauge(registry, 'mempool_transactions', 'Transactions waiting in the mempool.', sources.mempoolTransactions);
    sourcedGauge(registry, 'sync_target_height', 'The height sync is heading for (equals the head height when synced).', sources.syncTargetHeight);

    this.#blockImportSeconds = new Histogram({
      name: `${METRICS_PREFIX}block_import_seconds`,
      help: 'Time to validate, execute and commit one block, in seconds.',
      buckets: [...BLOCK_IMPORT_BUCKETS],
      registers: [registry],
    });
    this.#blocksImported = new Counter({
      name: `${METRICS_PREFIX}blocks_imported_total`,
      help: 'Blocks imported into the chain (received or produced here).',
      registers: [registry],
    });
    this.#gossipMessages = new Counter({
      name: `${METRICS_PREFIX}gossip_messages_total`,
      help: 'Gossip messages validated, by topic and verdict (reject lowers the sender\'s score).',
      labelNames: ['topic', 'verdict'] as const,
      registers: [registry],
    });
    // Every series exists from the start, so a dashboard shows rejects at 0 instead of "no data".
    for (const topic of GOSSIP_KINDS) for (const verdict of GOSSIP_VERDICTS) this.#gossipMessages.inc({ topic, verdict }, 0);

    const deniedReadsTotal = sources.deniedReadsTotal;
    let deniedSeen = 0;
    const deniedReads: Counter = new Counter({
      name: `${METRICS_PREFIX}denied_reads_total`,
      help: 'Record reads this node refused (policy refusals and malformed requests).',
      registers: [registry],
      ...(deniedReadsTotal === undefined
        ? {}
        : {
            collect() {
              // The source is a running total; a counter only goes up, so add what is new since the last scrape.
              const total = deniedReadsTotal();
              if (total > deniedSeen) deniedReads.inc(total - deniedSeen);
              deniedSeen = Math.max(deniedSeen, total);
            },
          }),
    });
    this.#deniedReads = deniedReads;
    this.#reorgs = new Counter({
      name: `${METRICS_PREFIX}reorgs_total`,
      help: 'Head changes to a block that does not extend the previous head.',
      registers: [registry],
    });
  }

  /** Records one imported block and how long its import took. */
  observeBlockImport(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`a block import time must be a non-negative number of seconds, got ${seconds}`);
    this.#blockImportSeconds.observe(seconds);
    this.#blocksImported.inc();
  }

  /** Runs `importBlock`, and on success records its duration as one imported block; a failed import is not counted. */
  async timeBlockImport<T>(importBlock: () => Promise<T>, now: () => number = performance.now.bind(performance)): Promise<T> {
    const started = now();
    const result = await importBlock();
    this.observeBlockImport(Math.max(0, now() - started) / 1000);
    return result;
  }

  /** Counts one validated gossip message. */
  gossip(topic: GossipKind, verdict: GossipVerdict): void {
    this.#gossipMessages.inc({ topic, verdict });
  }

  /** Counts refused reads (only when no deniedReadsTotal source was given). */
  deniedRead(count = 1): void {
    this.#deniedReads.inc(count);
  }

  /** Counts one reorganisation (the new head does not extend the old one). */
  reorg(): void {
    this.#reorgs.inc();
  }

  /** The Content-Type of text(): Prometheus text exposition format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format, read now. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function sourcedGauge(registry: Registry, name: string, help: string, source: (() => number) | undefined): Gauge {
  const gauge: Gauge = new Gauge({
    name: `${METRICS_PREFIX}${name}`,
    help,
    registers: [registry],
    ...(source === undefined ? {} : { collect: () => gauge.set(source()) }),
  });
  return gauge;
}
