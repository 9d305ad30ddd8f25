/**
 * The consensus lab's deterministic simulation (issue 7 §2): a discrete-event simulator of N nodes running
 * PoW or PoS over a simulated network, with a simulated clock (integer microseconds) and seeded random
 * streams, so the same seed and config give a bit-identical result. Pure: no I/O, no clock, no Math.random.
 *
 * What is modelled, and what is not:
 * - Blocks carry no bytes: a block is (parent, height, producer, time, transaction indices). Every block
 *   travels as one message; a node adopts it `delay + jitter + validation` after it was sent (full mesh), or
 *   relays it hop by hop over a random graph of degree D (each hop adds delay + jitter + validation; a node
 *   relays a block once, when it has first received and validated it). A node adopts a block only on top of
 *   its parent: one that arrives first is held until the parent does (it is still relayed).
 * - PoW: blocks are found as a Poisson process at 1/interval, the finder drawn by hash share (the same as
 *   every node mining independently at share/interval: mining is memoryless, so restarting on a new head
 *   changes nothing). Every block has the same work (no retarget: the production EMA keeps the rate at the
 *   target on average), so heaviest chain = highest; ties go to the block seen first.
 * - PoS: one slot every slotMs; the proposer is the production rule itself, `proposerForSlot` over the
 *   validator set sorted by id, at slot `slotBase + slot` where slotBase comes from the seed (a different
 *   seed is a different genesis time). A proposer is offline with probability `offline` (a missed slot).
 *   Fork choice is the longest chain, first seen on ties (production ranks the justified height first; the
 *   two agree unless the chain forks across a justification, which these regimes rarely do). Finality is FFG
 *   with every block a checkpoint, simplified: every validator votes once per new head; as in production a
 *   vote counts once a block carries it, that is when the observer (node 0) has the first block produced
 *   after the vote could reach its producer (the vote's arrival at the observer stands for its arrival at the
 *   producer: exact on a full mesh without jitter), and a producer's block carries its own vote for the head
 *   it built on. A block is final once more than 2/3 of the stake voted for its strict descendants (its child
 *   justified). Checked against real nodes: 4 nodes, 1 s slots, 1 ms delay, 50 tx/s gave submit -> final
 *   p50/p95/p99 2,500 / 2,952 / 2,991 ms here and 2,518 / 2,970 / 3,009 ms in the process lab (2026-11-25);
 *   counting votes on arrival, as this simulator did before, gave 1,501 ms.
 * - Transactions are submitted as a Poisson process at `loadTps` at uniformly random nodes and gossiped with
 *   the same delay model (on a graph: hop count times delay + validation, plus a jitter draw per hop). A
 *   producer includes, oldest first, up to maxBlockTxs transactions that have reached it and are not already
 *   in the chain it builds on: by its slot's start (PoS), or by the time it took the head it mined on (PoW:
 *   production builds a block when its head changes and mines it unchanged).
 */
import { proposerForSlot } from '../../src/consensus/pos/posEngine.ts';
import type { Validator } from '../../src/state/stateValues.ts';
import { mulberry32 } from '../lib/random.ts';

export type SimEngine = 'pow' | 'pos';
export type JitterDistribution = 'uniform' | 'exponential';
export type ShareDistribution = 'equal' | 'zipf';

export interface SimConfig {
  readonly engine: SimEngine;
  readonly seed: number;
  readonly nodes: number;
  /** How hash power (PoW) or stake (PoS) is split: equal, or zipf (node i gets a weight 1/(i+1)^zipfExponent). */
  readonly shares: ShareDistribution;
  readonly zipfExponent: number;
  /** One-way delay of every message, per hop. */
  readonly delayMs: number;
  /** Mean extra delay per message (0: none): exponential with this mean, or uniform on [0, 2 × jitterMs]. */
  readonly jitterMs: number;
  readonly jitterDistribution: JitterDistribution;
  /** Time a node spends validating a block before it has it (and relays it), per hop. */
  readonly validationMs: number;
  /** 0: full mesh; otherwise a connected random graph of about this degree, with gossip relaying. */
  readonly degree: number;
  /** PoW target block interval. */
  readonly intervalMs: number;
  /**
   * PoW: 0 keeps the difficulty fixed (block intervals exponential, as the stale-rate theory assumes); W > 0
   * retargets every block as production does (src/consensus/pow/powEngine.ts nextDifficulty, an EMA over W
   * blocks: next = d·(W·T + T − solve)/(W·T), solve clamped to [0, 6T]). The draw of the next block uses the
   * difficulty on the best chain's tip, which is exact while every miner is on that tip (forks are rare at
   * small delays).
   */
  readonly retargetWindow: number;
  /** PoS slot length. */
  readonly slotMs: number;
  /** PoW: blocks to find; PoS: slots to run. Used when durationMs is 0. */
  readonly blocks: number;
  /** Simulated run length in ms (0: run `blocks` blocks or slots instead). */
  readonly durationMs: number;
  /** PoS: probability a slot's proposer is offline (a missed slot). */
  readonly offline: number;
  /** Offered transaction load, transactions per second (0: no transactions). */
  readonly loadTps: number;
  readonly maxBlockTxs: number;
  /** PoW: a transaction is final once its block has this many confirmations (the block itself counts). */
  readonly confirmations: number;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  engine: 'pow',
  seed: 7,
  nodes: 100,
  shares: 'equal',
  zipfExponent: 1,
  delayMs: 100,
  jitterMs: 0,
  jitterDistribution: 'exponential',
  validationMs: 0,
  degree: 0,
  intervalMs: 2000,
  retargetWindow: 0,
  slotMs: 2000,
  blocks: 5000,
  durationMs: 0,
  offline: 0,
  loadTps: 250,
  maxBlockTxs: 1000,
  confirmations: 6,
};

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface FairnessReport {
  /** Canonical blocks counted (heights 1 to tip − margin). */
  readonly blocks: number;
  /** Each node's share of hash power or stake. */
  readonly expectedShares: readonly number[];
  /** Canonical blocks proposed by each node. */
  readonly blocksByNode: readonly number[];
  /** max over nodes of |observed share − expected share|. */
  readonly maxAbsShareDiff: number;
  /** Pearson's chi-square of blocks per node against the shares, its degrees of freedom and p-value. */
  readonly chiSquare: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  /** Gini coefficient of blocks per node, and of the shares (what it would be with perfect fairness). */
  readonly gini: number;
  readonly expectedGini: number;
}

export interface SimResult {
  readonly engine: SimEngine;
  readonly config: SimConfig;
  readonly simulatedMs: number;
  readonly topology: { readonly kind: 'full-mesh' | 'random-graph'; readonly meanDegree: number; readonly observerEccentricity: number };
  readonly blocks: {
    readonly produced: number;
    readonly tipHeight: number;
    /** Heights left out of the stale and fork figures at the tip (their fate is not settled). */
    readonly tipMargin: number;
    /** Blocks at heights 1 to tip − margin, and how many of them are off the final canonical chain. */
    readonly counted: number;
    readonly orphaned: number;
    /** Blocks that reached a node before their parent (held until the parent came). */
    readonly heldForParent: number;
  };
  /** Orphaned blocks / all blocks (counted heights). */
  readonly staleRate: number;
  /** Canonical heights at which at least one other block was found / canonical heights (counted). */
  readonly forkRate: number;
  readonly reorgs: {
    readonly count: number;
    readonly maxDepth: number;
    /** [depth, how many], depth = blocks reverted. */
    readonly depths: readonly (readonly [number, number])[];
  };
  /** From a block's production until a node has it, over every other node and every block. */
  readonly propagation: LatencySummary;
  /** Between consecutive canonical blocks' production (heights 1 to tip − margin); `cv` = standard deviation / mean. */
  readonly blockIntervals: { readonly ms: LatencySummary; readonly cv: number | null };
  readonly slots: { readonly total: number; readonly missed: number; readonly missedRate: number } | null;
  /** PoS: from a canonical block's production until it is final (as node 0 sees the votes). */
  readonly finality: {
    readonly finalizedBlocks: number;
    readonly lag: LatencySummary;
    /** Off-chain blocks that also passed 2/3 (the simplified vote model allows it under heavy forking; should be 0). */
    readonly conflictingFinalized: number;
  } | null;
  readonly txs: {
    readonly offeredTps: number;
    /** maxBlockTxs per block interval (PoS: per slot, less offline slots). */
    readonly capacityTps: number;
    readonly submitted: number;
    /** Submitted before the measurement window closed (the end less a tail to let them in). */
    readonly measured: number;
    readonly included: number;
    readonly notIncluded: number;
    readonly notFinal: number;
    readonly windowMs: number;
    /** Transactions in canonical blocks of the window, per second. */
    readonly throughputTps: number;
    /** Submit to the canonical block that includes it. */
    readonly inclusion: LatencySummary;
    /** Submit to final: PoW `confirmations` confirmations, PoS finalized. */
    readonly finality: LatencySummary;
    readonly finalityRule: string;
  };
  readonly fairness: FairnessReport;
  /** Evenly thinned samples for charts (at most SAMPLE_CAP each). */
  readonly samples: { readonly inclusionMs: readonly number[]; readonly finalityMs: readonly number[]; readonly propagationMs: readonly number[] };
}

/** Samples kept per series for charts. */
export const SAMPLE_CAP = 4096;
/** The largest network simulated; random graphs keep an N×N hop table, so they stop earlier. */
export const MAX_NODES = 20_000;
export const MAX_GRAPH_NODES = 5000;
/** Transactions one run may hold (about 30 bytes each). */
export const MAX_TXS = 30_000_000;
/** Memory for the per-node block bits of one run. */
export const MAX_BITSET_BYTES = 1536 * 2 ** 20;

// ---------------------------------------------------------------------------------------------------------
// Random numbers

export { mulberry32 };

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A counter-based 32-bit hash of four integers: random numbers addressed by (stream, tx, node, hop). */
export function hash4(a: number, b: number, c: number, d: number): number {
  let h = fmix32((a ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ (b >>> 0)) >>> 0);
  h = fmix32((h + Math.imul(c >>> 0, 0x27d4eb2f)) >>> 0);
  return fmix32((h ^ Math.imul(d >>> 0, 0x165667b1)) >>> 0);
}

const STREAM_BLOCKS = 1;
const STREAM_NET = 2;
const STREAM_TX = 3;
const STREAM_TX_JITTER = 4;
const STREAM_GRAPH = 5;
const STREAM_SLOT_BASE = 6;

/** 1 − e^(−delay/interval): the probability that another block is found while one propagates. */
export function theoreticalStaleRate(delayOverInterval: number): number {
  return 1 - Math.exp(-delayOverInterval);
}

// ---------------------------------------------------------------------------------------------------------
// Latency statistics: a log-linear histogram over integer microseconds (exact below 2,048 us, within 0.1 %
// above), so quantiles over millions of samples cost no memory.

const EXACT_BUCKETS = 2048;
const SUB_BUCKETS = 1024;
const HISTOGRAM_BUCKETS = EXACT_BUCKETS + 43 * SUB_BUCKETS;

function bucketOf(us: number): number {
  if (us < EXACT_BUCKETS) return us < 0 ? 0 : us;
  if (us < 0x8000_0000) {
    const shift = 31 - Math.clz32(us) - 10;
    return EXACT_BUCKETS + (shift - 1) * SUB_BUCKETS + ((us >>> shift) - SUB_BUCKETS);
  }
  let e = Math.floor(Math.log2(us));
  if (2 ** e > us) e--;
  else if (2 ** (e + 1) <= us) e++;
  const shift = e - 10;
  return EXACT_BUCKETS + (shift - 1) * SUB_BUCKETS + (Math.floor(us / 2 ** shift) - SUB_BUCKETS);
}

function bucketMidpoint(index: number): number {
  if (index < EXACT_BUCKETS) return index;
  const shift = Math.floor((index - EXACT_BUCKETS) / SUB_BUCKETS) + 1;
  const mantissa = SUB_BUCKETS + ((index - EXACT_BUCKETS) % SUB_BUCKETS);
  return mantissa * 2 ** shift + (2 ** shift - 1) / 2;
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(HISTOGRAM_BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  /** Records `times` samples of `us` microseconds (an integer). */
  record(us: number, times = 1): void {
    this.#counts[bucketOf(us)]! += times;
    this.#count += times;
    this.#sum += us * times;
    if (us < this.#min) this.#min = us;
    if (us > this.#max) this.#max = us;
  }

  get count(): number {
    return this.#count;
  }

  /** Nearest-rank quantile in ms (NaN when empty), clamped to the smallest and largest sample. */
  quantileMs(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, bucketMidpoint(i))) / 1000;
    }
    return this.#max / 1000;
  }

  summary(): LatencySummary {
    const n = this.#count;
    const round = (ms: number): number => (Number.isNaN(ms) ? ms : Math.round(ms * 1000) / 1000);
    return {
      count: n,
      meanMs: n === 0 ? Number.NaN : round(this.#sum / n / 1000),
      p50Ms: round(this.quantileMs(0.5)),
      p90Ms: round(this.quantileMs(0.9)),
      p95Ms: round(this.quantileMs(0.95)),
      p99Ms: round(this.quantileMs(0.99)),
      maxMs: n === 0 ? Number.NaN : this.#max / 1000,
    };
  }
}

/** Keeps every stride-th sample, doubling the stride whenever it holds `cap`: an even thinning, deterministic. */
class Thinner {
  #kept: number[] = [];
  #stride = 1;
  #seen = 0;
  readonly #cap: number;

  constructor(cap: number) {
    this.#cap = cap;
  }

  add(value: number): void {
    if (this.#seen++ % this.#stride !== 0) return;
    this.#kept.push(value);
    if (this.#kept.length >= this.#cap) {
      this.#kept = this.#kept.filter((_, i) => i % 2 === 0);
      this.#stride *= 2;
    }
  }

  get values(): number[] {
    return this.#kept;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The event queue: a binary heap of (key, sequence) with key = time × 4 + priority, so at one instant
// deliveries come before votes and votes before production (a block arriving exactly at a slot start is in
// time), and events of one key keep their order. Events live in typed arrays, nothing is allocated per event.

const PRIO_DELIVER = 0;
const PRIO_VOTE = 1;
const PRIO_PRODUCE = 2;
const KIND_DELIVER = 0;
const KIND_VOTE = 1;
const KIND_PRODUCE = 2;

class EventQueue {
  #key = new Float64Array(256);
  #seq = new Float64Array(256);
  #kind = new Uint8Array(256);
  #a = new Int32Array(256);
  #b = new Int32Array(256);
  #heap = new Int32Array(256);
  #size = 0;
  #free: number[] = [];
  #next = 0;
  #sequence = 0;
  /** The event last popped. */
  key = 0;
  kind = 0;
  a = 0;
  b = 0;

  get size(): number {
    return this.#size;
  }

  topKey(): number {
    return this.#size === 0 ? Number.POSITIVE_INFINITY : this.#key[this.#heap[0]!]!;
  }

  push(key: number, kind: number, a: number, b: number): void {
    let id = this.#free.pop();
    if (id === undefined) {
      id = this.#next++;
      if (id >= this.#key.length) this.#grow();
    }
    this.#key[id] = key;
    this.#seq[id] = this.#sequence++;
    this.#kind[id] = kind;
    this.#a[id] = a;
    this.#b[id] = b;
    this.#heap = grow(this.#heap, this.#size + 1);
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(id, this.#heap[parent]!)) break;
      this.#heap[i] = this.#heap[parent]!;
      i = parent;
    }
    this.#heap[i] = id;
  }

  /** Removes the earliest event into key/kind/a/b. */
  pop(): void {
    const id = this.#heap[0]!;
    this.key = this.#key[id]!;
    this.kind = this.#kind[id]!;
    this.a = this.#a[id]!;
    this.b = this.#b[id]!;
    this.#free.push(id);
    const last = this.#heap[--this.#size]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.#size) break;
      const right = left + 1;
      const child = right < this.#size && this.#less(this.#heap[right]!, this.#heap[left]!) ? right : left;
      if (!this.#less(this.#heap[child]!, last)) break;
      this.#heap[i] = this.#heap[child]!;
      i = child;
    }
    this.#heap[i] = last;
  }

  #less(x: number, y: number): boolean {
    const kx = this.#key[x]!;
    const ky = this.#key[y]!;
    return kx < ky || (kx === ky && this.#seq[x]! < this.#seq[y]!);
  }

  #grow(): void {
    const n = this.#key.length * 2;
    this.#key = grow(this.#key, n);
    this.#seq = grow(this.#seq, n);
    this.#kind = grow(this.#kind, n);
    this.#a = grow(this.#a, n);
    this.#b = grow(this.#b, n);
  }
}

/** Events that all happen a fixed time after they are sent arrive in the order sent: a ring buffer suffices. */
class DelayLine {
  #time = new Float64Array(1024);
  #a = new Int32Array(1024);
  #b = new Int32Array(1024);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  topTime(): number {
    return this.#length === 0 ? Number.POSITIVE_INFINITY : this.#time[this.#head]!;
  }

  push(time: number, a: number, b: number): void {
    if (this.#length === this.#time.length) this.#grow();
    const i = (this.#head + this.#length) % this.#time.length;
    this.#time[i] = time;
    this.#a[i] = a;
    this.#b[i] = b;
    this.#length++;
  }

  /** Removes the oldest entry; returns [time, a, b] through the out array. */
  shift(out: number[]): void {
    out[0] = this.#time[this.#head]!;
    out[1] = this.#a[this.#head]!;
    out[2] = this.#b[this.#head]!;
    this.#head = (this.#head + 1) % this.#time.length;
    this.#length--;
  }

  #grow(): void {
    const n = this.#time.length * 2;
    const time = new Float64Array(n);
    const a = new Int32Array(n);
    const b = new Int32Array(n);
    for (let k = 0; k < this.#length; k++) {
      const i = (this.#head + k) % this.#time.length;
      time[k] = this.#time[i]!;
      a[k] = this.#a[i]!;
      b[k] = this.#b[i]!;
    }
    this.#time = time;
    this.#a = a;
    this.#b = b;
    this.#head = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Growable typed arrays

type GrowableArray = Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

/** `a` itself if it holds `need` elements, else a copy of the same type at least twice as long. */
function grow<T extends GrowableArray>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (length: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// Topology

interface Graph {
  /** CSR adjacency. */
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
}

/**
 * A connected random graph of about `degree` links per node: a random ring (2 links each) plus random pairs
 * of the remaining stubs (a configuration model without self-links or repeated links).
 */
function randomGraph(n: number, degree: number, random: () => number): Graph {
  const edges = new Set<number>();
  const adjacency: number[][] = Array.from({ length: n }, () => []);
  const link = (x: number, y: number): void => {
    if (x === y) return;
    const key = x < y ? x * n + y : y * n + x;
    if (edges.has(key)) return;
    edges.add(key);
    adjacency[x]!.push(y);
    adjacency[y]!.push(x);
  };
  const shuffle = (xs: number[]): void => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = xs[i]!;
      xs[i] = xs[j]!;
      xs[j] = t;
    }
  };
  const ring = Array.from({ length: n }, (_, i) => i);
  shuffle(ring);
  for (let i = 0; i < n; i++) link(ring[i]!, ring[(i + 1) % n]!);
  const stubs: number[] = [];
  for (let i = 0; i < n; i++) for (let k = 2; k < degree; k++) stubs.push(i);
  shuffle(stubs);
  for (let i = 0; i + 1 < stubs.length; i += 2) link(stubs[i]!, stubs[i + 1]!);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + adjacency[i]!.length;
  const targets = new Int32Array(offsets[n]!);
  for (let i = 0; i < n; i++) targets.set(adjacency[i]!.sort((x, y) => x - y), offsets[i]!);
  return { offsets, targets };
}

/** Hop counts from `source` to every node (breadth-first). */
function hopsFrom(graph: Graph, source: number, out: Uint8Array | Int32Array, offset: number, queue: Int32Array): void {
  const n = graph.offsets.length - 1;
  for (let i = 0; i < n; i++) out[offset + i] = 255;
  out[offset + source] = 0;
  queue[0] = source;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const u = queue[head++]!;
    const next = Math.min(255, out[offset + u]! + 1);
    for (let e = graph.offsets[u]!; e < graph.offsets[u + 1]!; e++) {
      const v = graph.targets[e]!;
      if (out[offset + v] === 255) {
        out[offset + v] = next;
        queue[tail++] = v;
      }
    }
  }
}

/** A block on its way to every node, in arrival order (uniform: every other node at the same time). */
interface Flight {
  readonly id: number;
  block: number;
  producer: number;
  uniform: boolean;
  time: number;
  readonly order: Int32Array;
  readonly times: Float64Array;
  pos: number;
  end: number;
}

// ---------------------------------------------------------------------------------------------------------
// The simulation

/** Checks a config; throws RangeError naming the bad field. */
export function validateSimConfig(c: SimConfig): void {
  const need = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`simulation config: ${what}`);
  };
  need(c.engine === 'pow' || c.engine === 'pos', `engine must be pow or pos, got ${String(c.engine)}`);
  need(Number.isInteger(c.seed) && c.seed >= 0 && c.seed <= 0xffff_ffff, `seed must be an integer from 0 to 4294967295, got ${c.seed}`);
  need(Number.isInteger(c.nodes) && c.nodes >= 1 && c.nodes <= MAX_NODES, `nodes must be an integer from 1 to ${MAX_NODES}, got ${c.nodes}`);
  need(c.shares === 'equal' || c.shares === 'zipf', `shares must be equal or zipf, got ${String(c.shares)}`);
  need(Number.isFinite(c.zipfExponent) && c.zipfExponent >= 0 && c.zipfExponent <= 10, `zipfExponent must be from 0 to 10, got ${c.zipfExponent}`);
  need(Number.isFinite(c.delayMs) && c.delayMs >= 0 && c.delayMs <= 3_600_000, `delayMs must be from 0 to 3600000, got ${c.delayMs}`);
  need(Number.isFinite(c.jitterMs) && c.jitterMs >= 0 && c.jitterMs <= 3_600_000, `jitterMs must be from 0 to 3600000, got ${c.jitterMs}`);
  need(c.jitterDistribution === 'uniform' || c.jitterDistribution === 'exponential', `jitterDistribution must be uniform or exponential`);
  need(Number.isFinite(c.validationMs) && c.validationMs >= 0 && c.validationMs <= 3_600_000, `validationMs must be from 0 to 3600000, got ${c.validationMs}`);
  need(Number.isInteger(c.degree) && c.degree >= 0, `degree must be 0 (full mesh) or an integer of at least 2, got ${c.degree}`);
  if (c.degree > 0) {
    need(c.degree >= 2 && c.degree < c.nodes, `degree must be from 2 to nodes − 1 (${c.nodes - 1}), got ${c.degree}`);
    need(c.nodes <= MAX_GRAPH_NODES, `a random graph has at most ${MAX_GRAPH_NODES} nodes, got ${c.nodes}`);
  }
  need(Number.isFinite(c.intervalMs) && c.intervalMs >= 1 && c.intervalMs <= 86_400_000, `intervalMs must be from 1 to 86400000, got ${c.intervalMs}`);
  need(Number.isInteger(c.retargetWindow) && c.retargetWindow >= 0 && c.retargetWindow <= 1_000_000, `retargetWindow must be an integer from 0 (fixed difficulty) to 1000000, got ${c.retargetWindow}`);
  need(Number.isFinite(c.slotMs) && c.slotMs >= 1 && c.slotMs <= 86_400_000, `slotMs must be from 1 to 86400000, got ${c.slotMs}`);
  need(Number.isInteger(c.blocks) && c.blocks >= 1 && c.blocks <= 10_000_000, `blocks must be an integer from 1 to 10000000, got ${c.blocks}`);
  need(Number.isFinite(c.durationMs) && c.durationMs >= 0 && c.durationMs <= 1e12, `durationMs must be from 0 to 1e12, got ${c.durationMs}`);
  need(Number.isFinite(c.offline) && c.offline >= 0 && c.offline < 1, `offline must be a probability from 0 to below 1, got ${c.offline}`);
  need(Number.isFinite(c.loadTps) && c.loadTps >= 0 && c.loadTps <= 10_000_000, `loadTps must be from 0 to 10000000, got ${c.loadTps}`);
  need(Number.isInteger(c.maxBlockTxs) && c.maxBlockTxs >= 1, `maxBlockTxs must be a positive integer, got ${c.maxBlockTxs}`);
  need(Number.isInteger(c.confirmations) && c.confirmations >= 1 && c.confirmations <= 1000, `confirmations must be an integer from 1 to 1000, got ${c.confirmations}`);
  // Each block keeps a bit per node (has it; PoS: its votes cover it).
  const blocks = c.durationMs > 0 ? (c.durationMs / (c.engine === 'pos' ? c.slotMs : c.intervalMs)) * 1.1 : c.blocks;
  const bytes = blocks * Math.ceil(c.nodes / 32) * 4 * (c.engine === 'pos' ? 2 : 1);
  need(bytes <= MAX_BITSET_BYTES, `${Math.round(blocks)} blocks × ${c.nodes} nodes needs ${Math.round(bytes / 2 ** 20)} MiB of block bits, over ${MAX_BITSET_BYTES / 2 ** 20} MiB: fewer blocks or nodes`);
}

/** Hash or stake share of each node. */
export function sharesOf(c: Pick<SimConfig, 'nodes' | 'shares' | 'zipfExponent'>): number[] {
  const weights = Array.from({ length: c.nodes }, (_, i) => (c.shares === 'equal' ? 1 : 1 / (i + 1) ** c.zipfExponent));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

const US = 1000;

class Simulation {
  readonly #c: SimConfig;
  readonly #n: number;
  readonly #pos: boolean;
  readonly #words: number;
  readonly #queue = new EventQueue();
  readonly #votes = new DelayLine();
  readonly #voteOut: number[] = [0, 0, 0];
  /** Votes that reached the observer and are not in a block it has yet, in arrival order from #pendingFrom. */
  readonly #pendingVoter: number[] = [];
  readonly #pendingHead: number[] = [];
  readonly #pendingAt: number[] = [];
  #pendingFrom = 0;

  // Network
  readonly #delayUs: number;
  readonly #validationUs: number;
  readonly #jitterUs: number;
  readonly #graph: Graph | null;
  /** Hops between every pair (graph with transactions only), row = origin. */
  readonly #hops: Uint8Array | null;
  /** Hops from every node to the finality observer (node 0). */
  readonly #hopsToObserver: Int32Array;
  readonly #netRandom: () => number;
  readonly #txJitterSeed: number;
  #flights: Flight[] = [];
  #freeFlights: number[] = [];
  // Dijkstra scratch
  readonly #dist: Float64Array;
  readonly #done: Uint8Array;
  #heapKey: Float64Array = new Float64Array(0);
  #heapNode: Int32Array = new Int32Array(0);
  readonly #sortKeys: Float64Array;

  // Shares
  readonly #shares: number[];
  readonly #cumulative: Float64Array;
  readonly #stake: Float64Array;
  readonly #totalStake: number;
  readonly #validators: Validator[];
  readonly #slotBase: number;
  readonly #blockRandom: () => number;

  // Blocks: struct of arrays, block 0 is genesis
  #blockCount = 1;
  #parent = new Int32Array(1024).fill(-1);
  #height = new Int32Array(1024);
  #producer = new Int32Array(1024).fill(-1);
  #time = new Float64Array(1024);
  /** PoW: each block's difficulty relative to genesis's (1 throughout at a fixed difficulty); #newBlock sets it. */
  #difficulty = new Float64Array(1024).fill(1);
  #txStart = new Int32Array(1024);
  #txCount = new Int32Array(1024);
  #voted = new Float64Array(1024);
  #finalizedAt = new Float64Array(1024).fill(-1);
  #blockTxs = new Int32Array(1024);
  #blockTxsLength = 0;
  /** has[block × words + node/32]: the node has the block (connected to its chain). */
  #has: Uint32Array<ArrayBuffer>;
  /** covered[block × words + node/32]: node's votes cover the block (voted for a descendant). */
  #covered: Uint32Array<ArrayBuffer>;
  /** The best block produced so far: the chain the shared pending list is relative to. */
  #best = 0;

  // Nodes
  readonly #head: Int32Array;
  /** When each node took its current head: a PoW miner builds its block then and mines it unchanged. */
  readonly #headSince: Float64Array;
  readonly #waiting: (Map<number, number[]> | undefined)[];

  // Transactions
  readonly #txRandom: () => number;
  #txCountTotal = 0;
  #txSubmit = new Float64Array(1024);
  #txOrigin = new Int32Array(1024);
  #txNext = new Int32Array(1024);
  #txPrev = new Int32Array(1024);
  #txInList = new Uint8Array(1024);
  #txMark = new Int32Array(1024);
  #markStamp = 0;
  #listHead = -1;
  #listTail = -1;
  #nextTxTime: number;
  readonly #txGapUs: number;

  // Figures
  #produced = 0;
  #slots = 0;
  #missedSlots = 0;
  #heldForParent = 0;
  #reorgs = 0;
  readonly #reorgDepths = new Map<number, number>();
  readonly #propagation = new LatencyHistogram();
  readonly #propagationSamples = new Thinner(SAMPLE_CAP);
  #end = 0;

  constructor(config: SimConfig) {
    validateSimConfig(config);
    const c = config;
    this.#c = c;
    const n = c.nodes;
    this.#n = n;
    this.#pos = c.engine === 'pos';
    this.#words = Math.ceil(n / 32);
    this.#has = new Uint32Array(1024 * this.#words);
    this.#covered = new Uint32Array(this.#pos ? 1024 * this.#words : 0);
    for (let i = 0; i < n; i++) this.#has[i >>> 5]! |= 1 << (i & 31);
    this.#head = new Int32Array(n);
    this.#headSince = new Float64Array(n);
    this.#waiting = new Array<Map<number, number[]> | undefined>(n).fill(undefined);
    this.#delayUs = Math.round(c.delayMs * US);
    this.#validationUs = Math.round(c.validationMs * US);
    this.#jitterUs = c.jitterMs * US;
    this.#netRandom = mulberry32(hash4(c.seed, STREAM_NET, 0, 0));
    this.#blockRandom = mulberry32(hash4(c.seed, STREAM_BLOCKS, 0, 0));
    this.#txRandom = mulberry32(hash4(c.seed, STREAM_TX, 0, 0));
    this.#txJitterSeed = hash4(c.seed, STREAM_TX_JITTER, 0, 0);
    this.#dist = new Float64Array(n);
    this.#done = new Uint8Array(n);
    this.#sortKeys = new Float64Array(Math.max(0, n - 1));
    this.#hopsToObserver = new Int32Array(n).fill(1);
    this.#hopsToObserver[0] = 0;
    if (c.degree > 0) {
      this.#graph = randomGraph(n, c.degree, mulberry32(hash4(c.seed, STREAM_GRAPH, 0, 0)));
      const queue = new Int32Array(n);
      hopsFrom(this.#graph, 0, this.#hopsToObserver, 0, queue);
      if (c.loadTps > 0) {
        this.#hops = new Uint8Array(n * n);
        for (let i = 0; i < n; i++) hopsFrom(this.#graph, i, this.#hops, i * n, queue);
      } else {
        this.#hops = null;
      }
      const edges = this.#graph.targets.length;
      this.#heapKey = new Float64Array(edges + n);
      this.#heapNode = new Int32Array(edges + n);
    } else {
      this.#graph = null;
      this.#hops = null;
    }

    this.#shares = sharesOf(c);
    this.#cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.#cumulative[i] = sum += this.#shares[i]!;
    // Stakes are integers (the production draw is over u64 amounts); the expected shares follow the integers.
    this.#stake = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += this.#stake[i] = Math.max(1, Math.round(this.#shares[i]! * 1e9));
    this.#totalStake = total;
    this.#validators = [];
    if (this.#pos) {
      for (let i = 0; i < n; i++) {
        const id = new Uint8Array(32);
        new DataView(id.buffer).setUint32(0, i);
        this.#validators.push({ id, stake: BigInt(this.#stake[i]!) });
      }
    }
    this.#slotBase = hash4(c.seed, STREAM_SLOT_BASE, 0, 0);
    this.#txGapUs = c.loadTps > 0 ? 1e6 / c.loadTps : Number.POSITIVE_INFINITY;
    this.#nextTxTime = c.loadTps > 0 ? this.#txGap() : Number.POSITIVE_INFINITY;
  }

  // -------------------------------------------------------------------------------------------------------
  // Main loop

  run(): SimResult {
    const c = this.#c;
    if (this.#pos) {
      const slots = c.durationMs > 0 ? Math.floor(c.durationMs / c.slotMs) : c.blocks;
      // Slot starts are rounded to the microsecond clock from the slot number, so they never drift.
      this.#end = Math.round(slots * c.slotMs * US);
      if (slots >= 1) this.#queue.push(Math.round(c.slotMs * US) * 4 + PRIO_PRODUCE, KIND_PRODUCE, 1, slots);
    } else {
      this.#end = c.durationMs > 0 ? c.durationMs * US : Number.POSITIVE_INFINITY;
      const first = this.#blockGap();
      if (first <= this.#end) this.#queue.push(first * 4 + PRIO_PRODUCE, KIND_PRODUCE, 0, 0);
    }
    const q = this.#queue;
    const out = this.#voteOut;
    for (;;) {
      const heapKey = q.topKey();
      const voteTime = this.#votes.topTime();
      if (heapKey === Number.POSITIVE_INFINITY && voteTime === Number.POSITIVE_INFINITY) break;
      if (voteTime * 4 + PRIO_VOTE < heapKey) {
        this.#votes.shift(out);
        this.#voteArrives(out[1]!, out[2]!, out[0]!);
        continue;
      }
      q.pop();
      const time = Math.floor(q.key / 4);
      if (q.kind === KIND_DELIVER) this.#stepFlight(this.#flights[q.a]!);
      else if (q.kind === KIND_VOTE) this.#voteArrives(q.a, q.b, time);
      else if (this.#pos) this.#slot(q.a, q.b, time);
      else this.#powFind(time);
    }
    if (!this.#pos && c.durationMs === 0) this.#end = this.#time[this.#blockCount - 1]!;
    return this.#analyse();
  }

  #nextKey(): number {
    return Math.min(this.#queue.topKey(), this.#votes.topTime() * 4 + PRIO_VOTE);
  }

  /** Time to the next PoW block at `difficulty` (relative to genesis's): exponential, mean T × difficulty. */
  #blockGap(difficulty = 1): number {
    return Math.round(-Math.log(1 - this.#blockRandom()) * this.#c.intervalMs * difficulty * US);
  }

  /** The difficulty of a child of `parent`: production's per-block retarget, or fixed. */
  #retarget(parent: number): number {
    const w = this.#c.retargetWindow;
    const grandparent = this.#parent[parent]!;
    // As production: the first block after genesis keeps the initial difficulty.
    if (w === 0 || grandparent < 0) return this.#difficulty[parent]!;
    return retargetDifficulty(this.#difficulty[parent]!, (this.#time[parent]! - this.#time[grandparent]!) / US, this.#c.intervalMs, w);
  }

  #powFind(time: number): void {
    const u = this.#blockRandom();
    // The finder, drawn by hash share: the first node whose cumulative share exceeds u.
    let lo = 0;
    let hi = this.#n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    this.#produce(lo, time);
    const blocksDone = this.#c.durationMs === 0 && this.#produced >= this.#c.blocks;
    if (blocksDone) return;
    // The next block is drawn on the best tip's difficulty: the difficulty of its child.
    const next = time + this.#blockGap(this.#retarget(this.#best));
    if (next <= this.#end) this.#queue.push(next * 4 + PRIO_PRODUCE, KIND_PRODUCE, 0, 0);
  }

  #slot(slot: number, slots: number, time: number): void {
    this.#slots++;
    const id = proposerForSlot(this.#validators, this.#slotBase + slot);
    if (id === undefined) throw new Error('no proposer: the validator set has no stake');
    const proposer = ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
    // Drawn every slot, so the offline probability does not shift the rest of the stream.
    const offline = this.#blockRandom() < this.#c.offline;
    if (offline) this.#missedSlots++;
    else this.#produce(proposer, time);
    if (slot < slots) this.#queue.push(Math.round((slot + 1) * this.#c.slotMs * US) * 4 + PRIO_PRODUCE, KIND_PRODUCE, slot + 1, slots);
  }

  // -------------------------------------------------------------------------------------------------------
  // Blocks

  #newBlock(parent: number, producer: number, time: number): number {
    const b = this.#blockCount++;
    if (b >= this.#parent.length) {
      const need = b + 1;
      this.#parent = grow(this.#parent, need);
      this.#height = grow(this.#height, need);
      this.#producer = grow(this.#producer, need);
      this.#time = grow(this.#time, need);
      this.#difficulty = grow(this.#difficulty, need);
      this.#txStart = grow(this.#txStart, need);
      this.#txCount = grow(this.#txCount, need);
      this.#voted = grow(this.#voted, need);
      const finalized = grow(this.#finalizedAt, need);
      if (finalized !== this.#finalizedAt) finalized.fill(-1, this.#finalizedAt.length);
      this.#finalizedAt = finalized;
    }
    this.#has = grow(this.#has, (b + 1) * this.#words);
    if (this.#pos) this.#covered = grow(this.#covered, (b + 1) * this.#words);
    this.#parent[b] = parent;
    this.#height[b] = this.#height[parent]! + 1;
    this.#producer[b] = producer;
    this.#time[b] = time;
    this.#difficulty[b] = this.#retarget(parent);
    this.#txStart[b] = this.#blockTxsLength;
    this.#txCount[b] = 0;
    return b;
  }

  #produce(producer: number, time: number): void {
    this.#produced++;
    const parent = this.#head[producer]!;
    const b = this.#newBlock(parent, producer, time);
    if (this.#c.loadTps > 0) {
      this.#generateTxs(time);
      // PoS builds at the slot's start; a PoW miner found this block on the template it built when it took its
      // head (production rebuilds only on a new head), so a transaction that reached it since waits a block more.
      this.#selectTxs(b, producer, this.#pos ? time : this.#headSince[producer]!, parent);
    }
    this.#has[b * this.#words + (producer >>> 5)]! |= 1 << (producer & 31);
    if (producer === 0) this.#observerHas(b, time);
    this.#adopt(producer, b, time);
    if (this.#height[b]! > this.#height[this.#best]!) this.#moveBest(b);
    this.#launch(b, producer, time);
  }

  #hasBlock(node: number, block: number): boolean {
    return ((this.#has[block * this.#words + (node >>> 5)]! >>> (node & 31)) & 1) === 1;
  }

  #deliver(node: number, block: number, time: number): void {
    if (this.#hasBlock(node, block)) return;
    const parent = this.#parent[block]!;
    if (!this.#hasBlock(node, parent)) {
      // [IGNORE until the parent comes] A block is only adopted on top of its parent.
      this.#heldForParent++;
      let held = this.#waiting[node];
      if (held === undefined) this.#waiting[node] = held = new Map();
      const siblings = held.get(parent);
      if (siblings === undefined) held.set(parent, [block]);
      else siblings.push(block);
      return;
    }
    this.#connect(node, block, time);
  }

  #connect(node: number, block: number, time: number): void {
    this.#has[block * this.#words + (node >>> 5)]! |= 1 << (node & 31);
    if (node === 0) this.#observerHas(block, time);
    this.#adopt(node, block, time);
    const held = this.#waiting[node];
    if (held === undefined) return;
    const children = held.get(block);
    if (children === undefined) return;
    held.delete(block);
    for (const child of children) if (!this.#hasBlock(node, child)) this.#connect(node, child, time);
  }

  /** Fork choice at `node`: a higher block wins, ties keep the block seen first; a switch off the head is a reorg. */
  #adopt(node: number, block: number, time: number): void {
    const head = this.#head[node]!;
    const height = this.#height;
    if (height[block]! <= height[head]!) return;
    let x = block;
    while (height[x]! > height[head]!) x = this.#parent[x]!;
    if (x !== head) {
      let y = head;
      while (x !== y) {
        x = this.#parent[x]!;
        y = this.#parent[y]!;
      }
      const depth = height[head]! - height[x]!;
      this.#reorgs++;
      this.#reorgDepths.set(depth, (this.#reorgDepths.get(depth) ?? 0) + 1);
    }
    this.#head[node] = block;
    this.#headSince[node] = time;
    if (this.#pos) this.#sendVote(node, block, time);
  }

  #lca(a: number, b: number): number {
    const height = this.#height;
    while (height[a]! > height[b]!) a = this.#parent[a]!;
    while (height[b]! > height[a]!) b = this.#parent[b]!;
    while (a !== b) {
      a = this.#parent[a]!;
      b = this.#parent[b]!;
    }
    return a;
  }

  // -------------------------------------------------------------------------------------------------------
  // Network

  #jitter(u: number): number {
    if (this.#jitterUs === 0) return 0;
    return Math.round(this.#c.jitterDistribution === 'exponential' ? -Math.log(1 - u) * this.#jitterUs : u * 2 * this.#jitterUs);
  }

  #allocFlight(): Flight {
    const id = this.#freeFlights.pop();
    if (id !== undefined) return this.#flights[id]!;
    const uniform = this.#graph === null && this.#jitterUs === 0;
    const flight: Flight = {
      id: this.#flights.length,
      block: 0,
      producer: 0,
      uniform,
      time: 0,
      order: new Int32Array(uniform ? 0 : this.#n),
      times: new Float64Array(uniform ? 0 : this.#n),
      pos: 0,
      end: 0,
    };
    this.#flights.push(flight);
    return flight;
  }

  /** Sends a new block to every node: works out when each has it, records the propagation times, queues it. */
  #launch(block: number, producer: number, t0: number): void {
    const n = this.#n;
    if (n === 1) return;
    const f = this.#allocFlight();
    const id = f.id;
    f.block = block;
    f.producer = producer;
    f.pos = 0;
    const hop = this.#delayUs + this.#validationUs;
    if (f.uniform) {
      f.time = t0 + hop;
      f.end = n - 1;
      this.#propagation.record(hop, n - 1);
      this.#propagationSamples.add(hop / US);
    } else if (this.#graph === null) {
      // Full mesh with jitter: sort the nodes by arrival, packing (extra delay, node) into one float key.
      const bits = 2 ** Math.ceil(Math.log2(n));
      const keys = this.#sortKeys;
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (i === producer) continue;
        const extra = Math.min(this.#jitter(this.#netRandom()), 2 ** 52 / bits - 1);
        keys[k++] = extra * bits + i;
      }
      keys.sort();
      for (let k2 = 0; k2 < n - 1; k2++) {
        const key = keys[k2]!;
        const node = key % bits;
        const delay = hop + (key - node) / bits;
        f.order[k2] = node;
        f.times[k2] = t0 + delay;
        this.#propagation.record(delay);
        this.#propagationSamples.add(delay / US);
      }
      f.end = n - 1;
    } else {
      this.#gossip(f, producer, t0);
    }
    if (f.end === 0) {
      this.#freeFlights.push(id);
      return;
    }
    this.#queue.push((f.uniform ? f.time : f.times[0]!) * 4 + PRIO_DELIVER, KIND_DELIVER, id, 0);
  }

  /** Gossip over the graph: every node relays once, when it first has the block (Dijkstra on random hop times). */
  #gossip(f: Flight, producer: number, t0: number): void {
    const graph = this.#graph!;
    const n = this.#n;
    const dist = this.#dist;
    const done = this.#done;
    dist.fill(Number.POSITIVE_INFINITY);
    done.fill(0);
    const hk = this.#heapKey;
    const hn = this.#heapNode;
    let size = 0;
    const push = (key: number, node: number): void => {
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (hk[p]! < key || (hk[p] === key && hn[p]! <= node)) break;
        hk[i] = hk[p]!;
        hn[i] = hn[p]!;
        i = p;
      }
      hk[i] = key;
      hn[i] = node;
    };
    const popInto = (): number => {
      const node = hn[0]!;
      const lastKey = hk[--size]!;
      const lastNode = hn[size]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        const c = r < size && (hk[r]! < hk[l]! || (hk[r] === hk[l] && hn[r]! < hn[l]!)) ? r : l;
        if (hk[c]! > lastKey || (hk[c] === lastKey && hn[c]! > lastNode)) break;
        hk[i] = hk[c]!;
        hn[i] = hn[c]!;
        i = c;
      }
      hk[i] = lastKey;
      hn[i] = lastNode;
      return node;
    };
    dist[producer] = t0;
    push(t0, producer);
    let k = 0;
    const hop = this.#delayUs + this.#validationUs;
    while (size > 0) {
      const u = popInto();
      if (done[u] === 1) continue;
      done[u] = 1;
      if (u !== producer) {
        f.order[k] = u;
        f.times[k] = dist[u]!;
        k++;
        const delay = dist[u]! - t0;
        this.#propagation.record(delay);
        this.#propagationSamples.add(delay / US);
      }
      for (let e = graph.offsets[u]!; e < graph.offsets[u + 1]!; e++) {
        const v = graph.targets[e]!;
        if (done[v] === 1) continue;
        const t = dist[u]! + hop + this.#jitter(this.#netRandom());
        if (t < dist[v]!) {
          dist[v] = t;
          push(t, v);
        }
      }
    }
    f.end = k;
    if (k < n - 1) throw new Error('the random graph is not connected');
  }

  #stepFlight(f: Flight): void {
    if (f.uniform && this.#deliverEverywhere(f)) return;
    for (;;) {
      const k = f.pos++;
      const node = f.uniform ? (k < f.producer ? k : k + 1) : f.order[k]!;
      const time = f.uniform ? f.time : f.times[k]!;
      this.#deliver(node, f.block, time);
      if (f.pos >= f.end) {
        this.#freeFlights.push(f.id);
        return;
      }
      const nextKey = (f.uniform ? f.time : f.times[f.pos]!) * 4 + PRIO_DELIVER;
      if (nextKey > this.#nextKey()) {
        this.#queue.push(nextKey, KIND_DELIVER, f.id, 0);
        return;
      }
    }
  }

  /**
   * A uniform flight (full mesh, fixed delay) reaches every node at one instant, and its parent, sent earlier
   * over the same delay, is already everywhere: the nodes take it in one pass, in node order, as the general
   * path would. Returns false (nothing done) when the parent is missing somewhere.
   */
  #deliverEverywhere(f: Flight): boolean {
    if (f.pos !== 0) return false;
    const words = this.#words;
    const n = this.#n;
    const block = f.block;
    const parent = this.#parent[block]!;
    const has = this.#has;
    for (let w = 0; w < words; w++) {
      const mask = w === words - 1 && n % 32 !== 0 ? 2 ** (n % 32) - 1 : 0xffff_ffff;
      if ((has[parent * words + w]! & mask) >>> 0 !== mask) return false;
    }
    for (let w = 0; w < words; w++) has[block * words + w] = 0xffff_ffff;
    if (f.producer !== 0) this.#observerHas(block, f.time);
    const head = this.#head;
    const height = this.#height[block]!;
    for (let i = 0; i < n; i++) {
      if (i === f.producer) continue;
      const current = head[i]!;
      if (current === parent) {
        head[i] = block;
        this.#headSince[i] = f.time;
        if (this.#pos) this.#sendVote(i, block, f.time);
      } else if (height > this.#height[current]!) {
        this.#adopt(i, block, f.time);
      }
    }
    this.#freeFlights.push(f.id);
    return true;
  }

  // -------------------------------------------------------------------------------------------------------
  // PoS votes and finality

  #sendVote(voter: number, head: number, time: number): void {
    // The observer's own vote still has to reach a proposer before a block can carry it: one hop.
    const hops = Math.max(1, this.#hopsToObserver[voter]!);
    const hop = this.#delayUs + this.#validationUs;
    if (this.#jitterUs === 0 && this.#graph === null) {
      this.#votes.push(time + hop, voter, head);
      return;
    }
    let arrival = time;
    for (let h = 0; h < hops; h++) arrival += hop + this.#jitter(this.#netRandom());
    this.#queue.push(arrival * 4 + PRIO_VOTE, KIND_VOTE, voter, head);
  }

  /**
   * A vote for `head` reaches the observer. As in production, it counts only once a block carries it: the first
   * block the observer gets that was produced at or after this moment (the vote's arrival here stands for its
   * arrival at that block's producer, exact on a full mesh without jitter).
   */
  #voteArrives(voter: number, head: number, time: number): void {
    this.#pendingVoter.push(voter);
    this.#pendingHead.push(head);
    this.#pendingAt.push(time);
  }

  /** The observer has `block` at `time`: the votes that reached it by the block's production count now. */
  #observerHas(block: number, time: number): void {
    if (!this.#pos) return;
    // The producer carries its own vote, for the head it built on, whether or not that vote has reached anyone.
    const producer = this.#producer[block]!;
    if (producer >= 0) this.#countVote(producer, this.#parent[block]!, time);
    const produced = this.#time[block]!;
    const at = this.#pendingAt;
    let i = this.#pendingFrom;
    for (; i < at.length && at[i]! <= produced; i++) this.#countVote(this.#pendingVoter[i]!, this.#pendingHead[i]!, time);
    this.#pendingFrom = i;
    if (i > 4096 && i * 2 > at.length) {
      this.#pendingVoter.splice(0, i);
      this.#pendingHead.splice(0, i);
      at.splice(0, i);
      this.#pendingFrom = 0;
    }
  }

  /** A vote for `head` is in a block the observer has: it counts for every strict ancestor it had not yet counted for. */
  #countVote(voter: number, head: number, time: number): void {
    const word = voter >>> 5;
    const bit = 1 << (voter & 31);
    const stake = this.#stake[voter]!;
    const total = this.#totalStake;
    for (let x = this.#parent[head]!; x >= 0; x = this.#parent[x]!) {
      const i = x * this.#words + word;
      if ((this.#covered[i]! & bit) !== 0) break;
      this.#covered[i]! |= bit;
      const voted = (this.#voted[x]! += stake);
      // [FINAL] More than 2/3 of the stake voted for descendants of the block (its child is justified).
      if (this.#finalizedAt[x]! < 0 && 3 * voted > 2 * total) this.#finalizedAt[x] = time;
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Transactions: a doubly linked list, in submission order, of those not in the best chain

  #txGap(): number {
    return -Math.log(1 - this.#txRandom()) * this.#txGapUs;
  }

  #generateTxs(upTo: number): void {
    while (Math.round(this.#nextTxTime) <= upTo) {
      const j = this.#txCountTotal++;
      if (j >= MAX_TXS) throw new RangeError(`more than ${MAX_TXS} transactions: lower the load or the run length`);
      if (j >= this.#txSubmit.length) {
        const need = j + 1;
        this.#txSubmit = grow(this.#txSubmit, need);
        this.#txOrigin = grow(this.#txOrigin, need);
        this.#txNext = grow(this.#txNext, need);
        this.#txPrev = grow(this.#txPrev, need);
        this.#txInList = grow(this.#txInList, need);
        this.#txMark = grow(this.#txMark, need);
      }
      this.#txSubmit[j] = Math.round(this.#nextTxTime);
      this.#txOrigin[j] = Math.floor(this.#txRandom() * this.#n);
      this.#txMark[j] = 0;
      this.#txNext[j] = -1;
      this.#txPrev[j] = this.#listTail;
      if (this.#listTail >= 0) this.#txNext[this.#listTail] = j;
      else this.#listHead = j;
      this.#listTail = j;
      this.#txInList[j] = 1;
      this.#nextTxTime += this.#txGap();
    }
  }

  /** When transaction j reaches `node`. */
  #txArrival(j: number, node: number): number {
    const origin = this.#txOrigin[j]!;
    const submit = this.#txSubmit[j]!;
    if (origin === node) return submit;
    const hop = this.#delayUs + this.#validationUs;
    const hops = this.#hops === null ? 1 : this.#hops[origin * this.#n + node]!;
    let t = submit + hops * hop;
    if (this.#jitterUs > 0) for (let h = 0; h < hops; h++) t += this.#jitter(hash4(this.#txJitterSeed, j, node, h) / 4294967296);
    return t;
  }

  #listRemove(j: number): void {
    if (this.#txInList[j] === 0) return;
    this.#txInList[j] = 0;
    const prev = this.#txPrev[j]!;
    const next = this.#txNext[j]!;
    if (prev >= 0) this.#txNext[prev] = next;
    else this.#listHead = next;
    if (next >= 0) this.#txPrev[next] = prev;
    else this.#listTail = prev;
  }

  /** Puts back transactions (ascending) of blocks that left the best chain, in submission order. */
  #listInsertSorted(txs: readonly number[]): void {
    let cursor = this.#listHead;
    for (const j of txs) {
      if (this.#txInList[j] === 1) continue;
      while (cursor >= 0 && cursor < j) cursor = this.#txNext[cursor]!;
      const prev = cursor >= 0 ? this.#txPrev[cursor]! : this.#listTail;
      this.#txPrev[j] = prev;
      this.#txNext[j] = cursor;
      if (prev >= 0) this.#txNext[prev] = j;
      else this.#listHead = j;
      if (cursor >= 0) this.#txPrev[cursor] = j;
      else this.#listTail = j;
      this.#txInList[j] = 1;
    }
  }

  /** The best chain moves to `block`: transactions of blocks it leaves go back, those of blocks it gains come out. */
  #moveBest(block: number): void {
    const old = this.#best;
    this.#best = block;
    if (this.#c.loadTps === 0) return;
    if (this.#parent[block] === old) {
      this.#removeBlockTxs(block);
      return;
    }
    const fork = this.#lca(old, block);
    const back: number[] = [];
    for (let x = old; x !== fork; x = this.#parent[x]!) {
      for (let k = this.#txStart[x]!; k < this.#txStart[x]! + this.#txCount[x]!; k++) back.push(this.#blockTxs[k]!);
    }
    back.sort((a, b) => a - b);
    this.#listInsertSorted(back);
    for (let x = block; x !== fork; x = this.#parent[x]!) this.#removeBlockTxs(x);
  }

  #removeBlockTxs(block: number): void {
    const start = this.#txStart[block]!;
    for (let k = start; k < start + this.#txCount[block]!; k++) this.#listRemove(this.#blockTxs[k]!);
  }

  /**
   * Fills block b (by `producer` at `time` on `parent`) with the oldest transactions that reached the producer
   * and are not in its chain: not in the best chain (the list) or in best-chain blocks after the fork point,
   * less those in the parent's own blocks after the fork point.
   */
  #selectTxs(b: number, producer: number, time: number, parent: number): void {
    const capacity = this.#c.maxBlockTxs;
    const stamp = ++this.#markStamp;
    const fork = this.#lca(parent, this.#best);
    for (let x = parent; x !== fork; x = this.#parent[x]!) {
      for (let k = this.#txStart[x]!; k < this.#txStart[x]! + this.#txCount[x]!; k++) this.#txMark[this.#blockTxs[k]!] = stamp;
    }
    let extra: number[] = [];
    for (let x = this.#best; x !== fork; x = this.#parent[x]!) {
      for (let k = this.#txStart[x]!; k < this.#txStart[x]! + this.#txCount[x]!; k++) {
        const j = this.#blockTxs[k]!;
        if (this.#txMark[j] !== stamp) extra.push(j);
      }
    }
    if (extra.length > 1) extra = extra.sort((x, y) => x - y);
    this.#blockTxs = grow(this.#blockTxs, this.#blockTxsLength + capacity);
    const start = this.#blockTxsLength;
    let count = 0;
    let listed = this.#listHead;
    let e = 0;
    while (count < capacity) {
      let j: number;
      if (e < extra.length && (listed < 0 || extra[e]! < listed)) {
        j = extra[e++]!;
      } else if (listed >= 0) {
        j = listed;
        if (this.#txSubmit[j]! > time) {
          listed = -1;
          continue;
        }
        listed = this.#txNext[j]!;
      } else {
        break;
      }
      if (this.#txMark[j] === stamp) continue;
      if (this.#txArrival(j, producer) > time) continue;
      this.#blockTxs[start + count++] = j;
    }
    this.#blockTxsLength = start + count;
    this.#txStart[b] = start;
    this.#txCount[b] = count;
  }

  // -------------------------------------------------------------------------------------------------------
  // Figures

  #analyse(): SimResult {
    const c = this.#c;
    const n = this.#n;
    const blocks = this.#blockCount;
    const tip = this.#best;
    const tipHeight = this.#height[tip]!;
    const blockMs = this.#pos ? c.slotMs : c.intervalMs;
    const hopMs = c.delayMs + c.jitterMs + c.validationMs;
    const eccentricity = c.degree > 0 ? Math.max(...this.#hopsToObserver) : 1;
    // Heights near the tip may still change hands: leave out ~10 blocks plus a few propagation times.
    const tipMargin = Math.min(tipHeight, 10 + Math.ceil((4 * hopMs * 2 * eccentricity) / blockMs));
    const lastCounted = tipHeight - tipMargin;

    const canonical = new Uint8Array(blocks);
    const canonicalAt = new Int32Array(tipHeight + 1);
    for (let x = tip; x >= 0; x = this.#parent[x]!) {
      canonical[x] = 1;
      canonicalAt[this.#height[x]!] = x;
    }
    const perHeight = new Int32Array(tipHeight + 1);
    let counted = 0;
    let orphaned = 0;
    for (let b = 1; b < blocks; b++) {
      const h = this.#height[b]!;
      if (h > lastCounted) continue;
      counted++;
      perHeight[h]!++;
      if (canonical[b] === 0) orphaned++;
    }
    let contested = 0;
    for (let h = 1; h <= lastCounted; h++) if (perHeight[h]! > 1) contested++;

    // Canonical block intervals: exponential (cv 1) under a fixed PoW difficulty, about the slot under PoS.
    const intervals = new LatencyHistogram();
    let intervalSum = 0;
    let intervalSquares = 0;
    for (let h = 2; h <= lastCounted; h++) {
      const gap = this.#time[canonicalAt[h]!]! - this.#time[canonicalAt[h - 1]!]!;
      intervals.record(gap);
      intervalSum += gap / US;
      intervalSquares += (gap / US) ** 2;
    }
    const intervalMean = lastCounted >= 3 ? intervalSum / (lastCounted - 1) : 0;
    const intervalCv = intervalMean > 0 ? Math.sqrt(Math.max(0, intervalSquares / (lastCounted - 1) - intervalMean ** 2)) / intervalMean : null;

    // Fairness over canonical blocks of the counted heights.
    const expectedShares = Array.from(this.#stake, (s) => s / this.#totalStake);
    if (!this.#pos) for (let i = 0; i < n; i++) expectedShares[i] = this.#shares[i]!;
    const blocksByNode = new Array<number>(n).fill(0);
    for (let h = 1; h <= lastCounted; h++) blocksByNode[this.#producer[canonicalAt[h]!]!]!++;
    const fairness = fairnessOf(expectedShares, blocksByNode);

    // Transactions: first (only) inclusion on the canonical chain.
    const tailMs = Math.min(this.#end / US / 2, ((this.#pos ? 2 : c.confirmations) + 10) * blockMs + 20 * hopMs * eccentricity);
    const windowEnd = this.#end - tailMs * US;
    if (c.loadTps > 0) this.#generateTxs(Math.floor(windowEnd));
    const inclusion = new LatencyHistogram();
    const finality = new LatencyHistogram();
    const inclusionSamples = new Thinner(SAMPLE_CAP);
    const finalitySamples = new Thinner(SAMPLE_CAP);
    let measured = 0;
    for (let j = 0; j < this.#txCountTotal; j++) if (this.#txSubmit[j]! <= windowEnd) measured++;
    let included = 0;
    let notFinal = 0;
    let windowTxs = 0;
    const onChain = new Uint8Array(this.#txCountTotal);
    for (let h = 1; h <= tipHeight; h++) {
      const x = canonicalAt[h]!;
      const blockTime = this.#time[x]!;
      if (blockTime <= windowEnd) windowTxs += this.#txCount[x]!;
      let finalTime = -1;
      if (this.#pos) finalTime = this.#finalizedAt[x]!;
      else if (h + c.confirmations - 1 <= tipHeight) finalTime = this.#time[canonicalAt[h + c.confirmations - 1]!]!;
      for (let k = this.#txStart[x]!; k < this.#txStart[x]! + this.#txCount[x]!; k++) {
        const j = this.#blockTxs[k]!;
        // [INVARIANT] A chain holds a transaction once: selection excludes those already in the parent's chain.
        if (onChain[j] === 1) throw new Error(`simulator bug: transaction ${j} is twice on the canonical chain`);
        onChain[j] = 1;
        const submit = this.#txSubmit[j]!;
        if (submit > windowEnd) continue;
        included++;
        inclusion.record(blockTime - submit);
        inclusionSamples.add((blockTime - submit) / US);
        if (finalTime < 0) {
          notFinal++;
        } else {
          finality.record(finalTime - submit);
          finalitySamples.add((finalTime - submit) / US);
        }
      }
    }

    let finalityReport: SimResult['finality'] = null;
    if (this.#pos) {
      const lag = new LatencyHistogram();
      let finalized = 0;
      for (let h = 1; h <= tipHeight; h++) {
        const x = canonicalAt[h]!;
        if (this.#finalizedAt[x]! >= 0) {
          finalized++;
          lag.record(this.#finalizedAt[x]! - this.#time[x]!);
        }
      }
      // Votes here count for every ancestor of a head and are never withdrawn, so with frequent forks two
      // siblings can both pass 2/3 (production's one-vote-per-height rule and slashing prevent that): counted.
      let conflicting = 0;
      for (let b = 1; b < blocks; b++) if (canonical[b] === 0 && this.#finalizedAt[b]! >= 0) conflicting++;
      finalityReport = { finalizedBlocks: finalized, lag: lag.summary(), conflictingFinalized: conflicting };
    }

    const depths = [...this.#reorgDepths.entries()].sort((a, b) => a[0] - b[0]);
    const capacityTps = (c.maxBlockTxs * 1000) / blockMs * (this.#pos ? 1 - c.offline : 1);
    const windowMs = windowEnd / US;
    return {
      engine: c.engine,
      config: c,
      simulatedMs: this.#end / US,
      topology: {
        kind: this.#graph === null ? 'full-mesh' : 'random-graph',
        meanDegree: this.#graph === null ? n - 1 : this.#graph.targets.length / n,
        observerEccentricity: eccentricity,
      },
      blocks: { produced: this.#produced, tipHeight, tipMargin, counted, orphaned, heldForParent: this.#heldForParent },
      staleRate: counted === 0 ? 0 : orphaned / counted,
      forkRate: lastCounted <= 0 ? 0 : contested / lastCounted,
      reorgs: { count: this.#reorgs, maxDepth: depths.length === 0 ? 0 : depths[depths.length - 1]![0], depths },
      propagation: this.#propagation.summary(),
      blockIntervals: { ms: intervals.summary(), cv: intervalCv },
      slots: this.#pos ? { total: this.#slots, missed: this.#missedSlots, missedRate: this.#slots === 0 ? 0 : this.#missedSlots / this.#slots } : null,
      finality: finalityReport,
      txs: {
        offeredTps: c.loadTps,
        capacityTps,
        submitted: this.#txCountTotal,
        measured,
        included,
        notIncluded: measured - included,
        notFinal,
        windowMs,
        throughputTps: windowMs <= 0 ? 0 : (windowTxs * 1000) / windowMs,
        inclusion: inclusion.summary(),
        finality: finality.summary(),
        finalityRule: this.#pos ? 'finalized: votes from more than 2/3 of the stake for descendants reached node 0' : `${c.confirmations} confirmations`,
      },
      fairness,
      samples: { inclusionMs: inclusionSamples.values, finalityMs: finalitySamples.values, propagationMs: this.#propagationSamples.values },
    };
  }
}

/**
 * Production's per-block PoW retarget (src/consensus/pow/powEngine.ts nextDifficulty) in floating point, for a
 * difficulty relative to genesis's: the parent's solve time, clamped to [0, 6 targets], moves it by
 * (target − solve) / (target × window). Production's floor (minDifficulty) is left out: the lab's is 1/500 of
 * its initial difficulty, which the retarget does not come near.
 */
export function retargetDifficulty(difficulty: number, solveMs: number, targetMs: number, window: number): number {
  const solve = Math.min(Math.max(solveMs, 0), 6 * targetMs);
  return (difficulty * (window * targetMs + targetMs - solve)) / (window * targetMs);
}

/** Standard normal upper tail (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 - erf) / 2 : (1 + erf) / 2;
}

/** Chi-square upper tail by the Wilson–Hilferty cube-root approximation (good for dof ≥ 3 or so). */
export function chiSquarePValue(chiSquare: number, dof: number): number {
  if (dof <= 0) return 1;
  const v = 2 / (9 * dof);
  return normalUpperTail((Math.cbrt(chiSquare / dof) - (1 - v)) / Math.sqrt(v));
}

function gini(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const total = sorted.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) weighted += (i + 1) * sorted[i]!;
  // Rounding can leave −1e-16 for a perfectly even split.
  return Math.max(0, (2 * weighted) / (n * total) - (n + 1) / n);
}

export function fairnessOf(expectedShares: readonly number[], blocksByNode: readonly number[]): FairnessReport {
  const total = blocksByNode.reduce((a, b) => a + b, 0);
  let maxAbs = 0;
  let chi = 0;
  for (let i = 0; i < expectedShares.length; i++) {
    const expected = expectedShares[i]! * total;
    const observed = blocksByNode[i]!;
    if (total > 0) maxAbs = Math.max(maxAbs, Math.abs(observed / total - expectedShares[i]!));
    if (expected > 0) chi += (observed - expected) ** 2 / expected;
  }
  const dof = expectedShares.length - 1;
  return {
    blocks: total,
    expectedShares,
    blocksByNode,
    maxAbsShareDiff: maxAbs,
    chiSquare: chi,
    degreesOfFreedom: dof,
    pValue: total === 0 ? 1 : chiSquarePValue(chi, dof),
    gini: gini(blocksByNode),
    expectedGini: gini(expectedShares),
  };
}

/** Runs one simulation; the same config (seed included) gives the same result, bit for bit. */
export function simulate(config: SimConfig): SimResult {
  return new Simulation(config).run();
}

// ---------------------------------------------------------------------------------------------------------
// The stale-rate check

export interface SweepOptions {
  /** delay / interval at each point. */
  readonly ratios: readonly number[];
  /** At least this many blocks per point. */
  readonly minBlocks: number;
  /** Enough blocks that about this many forks are expected (relative sampling error ≈ 1/sqrt of it). */
  readonly targetForks: number;
  /** |measured − theory| / theory that passes. */
  readonly tolerance: number;
}

export const DEFAULT_SWEEP: SweepOptions = { ratios: [0.01, 0.02, 0.05, 0.1, 0.2], minBlocks: 20_000, targetForks: 2500, tolerance: 0.1 };

export interface SweepPoint {
  readonly delayOverInterval: number;
  readonly delayMs: number;
  readonly blocks: number;
  readonly seed: number;
  readonly theory: number;
  /** The checked figure: share of canonical heights where another block was found (see runStaleSweep). */
  readonly measured: number;
  readonly relativeError: number;
  /** Relative sampling error of `measured` (one standard deviation, binomial). */
  readonly samplingError: number;
  readonly pass: boolean;
  /** Orphaned blocks / all blocks, and its relative error against the same theory, for comparison. */
  readonly orphanRate: number;
  readonly orphanRelativeError: number;
  readonly reorgs: number;
  readonly maxReorgDepth: number;
}

/**
 * PoW stale rate against 1 − e^(−d/T) over a sweep of d/T: full mesh, fixed delay d (no jitter, no
 * validation time, no transactions), Poisson blocks at 1/T.
 *
 * Which count the formula predicts: once a block B is found, the others keep mining on B's parent for d; any
 * block found by someone else in that window (Poisson, rate 1/T) lands at B's height, so B's height is
 * contested with probability P(at least one arrival in d) = 1 − e^(−d/T). That is what is measured and
 * checked: canonical heights with more than one block / canonical heights. Orphaned blocks / all blocks is a
 * different quantity: the window holds Poisson(d/T) stale blocks per canonical block, so it tends to
 * (d/T)/(1 + d/T): 9 % under the formula at d/T = 0.2. It is printed beside it, not checked. The formula
 * also assumes the finder's own share is negligible (its own next block extends B): with N equal nodes the
 * expected value is 1 − e^(−(1 − 1/N)·d/T), 1 % under at N = 100.
 */
export function runStaleSweep(base: SimConfig, sweep: SweepOptions = DEFAULT_SWEEP): SweepPoint[] {
  return sweep.ratios.map((ratio, index) => {
    const theory = theoreticalStaleRate(ratio);
    const blocks = Math.max(sweep.minBlocks, Math.ceil(sweep.targetForks / theory));
    const seed = hash4(base.seed, 0x5eeb, index, 0);
    const result = simulate({
      ...base,
      engine: 'pow',
      seed,
      delayMs: ratio * base.intervalMs,
      // The theory assumes exponential intervals: a fixed difficulty.
      retargetWindow: 0,
      jitterMs: 0,
      validationMs: 0,
      degree: 0,
      loadTps: 0,
      blocks,
      durationMs: 0,
    });
    const heights = result.blocks.tipHeight - result.blocks.tipMargin;
    const measured = result.forkRate;
    const relativeError = (measured - theory) / theory;
    return {
      delayOverInterval: ratio,
      delayMs: ratio * base.intervalMs,
      blocks: result.blocks.produced,
      seed,
      theory,
      measured,
      relativeError,
      samplingError: heights > 0 && measured > 0 ? Math.sqrt((1 - measured) / (measured * heights)) : Number.NaN,
      pass: Math.abs(relativeError) <= sweep.tolerance,
      orphanRate: result.staleRate,
      orphanRelativeError: (result.staleRate - theory) / theory,
      reorgs: result.reorgs.count,
      maxReorgDepth: result.reorgs.maxDepth,
    };
  });
}
