/**
 * The consensus lab's figures, computed from what was recorded during a run of real node processes (pure:
 * no I/O, no clock), so each can be checked on a hand-made recording. Definitions:
 *
 * - submit -> included: from sending tx_submit to the moment the node it was sent to announced (newHeads) the
 *   block of the final canonical chain that holds it. A client asks its own node.
 * - submit -> final: PoS, the first `finalized` notification of that node at or above the block's height;
 *   PoW, the moment that node announced the canonical block `confirmations` heights above it.
 * - stale rate: blocks the nodes logged as produced (by hash) within the window and at or below the settled
 *   height, that are not on the final canonical chain, over all produced.
 * - reorg depth: blocks reverted by one reorganisation of one node (its newHeads `reverted` list).
 * - propagation: for each canonical block of the window, the time from the first node announcing it as head to
 *   each other node doing so (p50, p90 over block x node pairs), and to the last node.
 * - fairness: canonical blocks of the window per proposer against its expected share (stake, or hash power);
 *   Jain's index over blocks/expected (1 = exactly proportional).
 * - missed slots (PoS): slots of the window without a canonical block, charged to the slot's drawn proposer.
 * - throughput: the workload's transactions in canonical blocks whose header time lies in the window, per second.
 */
import { proposerForSlot } from '../../src/consensus/pos/posEngine.ts';

export type LabPhase = 'setup' | 'main' | 'saturation';

export interface LabWindow {
  readonly start: number;
  readonly end: number;
}

export interface LabSubmission {
  readonly id: string;
  readonly node: number;
  readonly kind: string;
  readonly phase: LabPhase;
  /** Wall-clock ms when tx_submit was sent. */
  readonly at: number;
  /** tx_submit round trip (its batch's), ms. */
  readonly rttMs: number;
  /** The refusal reason, or null when accepted. */
  readonly refused: string | null;
}

export interface LabProduced {
  readonly node: number;
  readonly height: number;
  /** The hash prefix the node logs (16 hex digits). */
  readonly hashPrefix: string;
  readonly at: number;
  readonly txs: number;
}

export interface LabBlock {
  readonly hash: string;
  readonly height: number;
  readonly parent: string;
  readonly proposer: string;
  readonly time: number;
  readonly seen: readonly (number | null)[];
  readonly txs: readonly string[];
}

export interface LabReorg {
  readonly node: number;
  readonly at: number;
  /** Blocks reverted. */
  readonly depth: number;
}

export interface LabFinality {
  readonly node: number;
  readonly at: number;
  readonly height: number;
}

export interface LabRecording {
  readonly engine: 'pos' | 'pow';
  /** Validator (node) public keys as hex, in node order. */
  readonly proposers: readonly string[];
  /** Stakes in node order (PoS; equal in the lab). */
  readonly stakes: readonly number[];
  readonly genesisTime: number;
  readonly slotMs: number | null;
  /** PoW: confirmations after which a transaction counts as final. */
  readonly confirmations: number;
  /** Every block any node announced, with its transaction ids. */
  readonly blocks: readonly LabBlock[];
  /** The final canonical chain's hashes by height, from genesis up to the settled height (all nodes agree). */
  readonly canonical: readonly string[];
  readonly submissions: readonly LabSubmission[];
  readonly produced: readonly LabProduced[];
  readonly reorgs: readonly LabReorg[];
  readonly finality: readonly LabFinality[];
}

export interface Summary {
  readonly n: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly mean: number | null;
  readonly max: number | null;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  return {
    n,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    mean: n === 0 ? null : values.reduce((s, v) => s + v, 0) / n,
    max: n === 0 ? null : Math.max(...values),
  };
}

const inWindow = (t: number, w: LabWindow): boolean => t >= w.start && t < w.end;

/** Indexes of the final canonical chain. */
export interface CanonicalIndex {
  readonly byHash: ReadonlyMap<string, LabBlock>;
  /** tx id -> the canonical block holding it. */
  readonly txBlock: ReadonlyMap<string, LabBlock>;
  /** height -> canonical block (as recorded: heights whose block was never announced are missing). */
  readonly byHeight: ReadonlyMap<number, LabBlock>;
  readonly settledHeight: number;
}

export function indexCanonical(rec: LabRecording): CanonicalIndex {
  const all = new Map(rec.blocks.map((b) => [b.hash, b]));
  const byHash = new Map<string, LabBlock>();
  const byHeight = new Map<number, LabBlock>();
  const txBlock = new Map<string, LabBlock>();
  rec.canonical.forEach((hash, height) => {
    const block = all.get(hash);
    if (block === undefined) return;
    byHash.set(hash, block);
    byHeight.set(height, block);
    for (const id of block.txs) txBlock.set(id, block);
  });
  return { byHash, byHeight, txBlock, settledHeight: rec.canonical.length - 1 };
}

export interface LatencyFigures {
  readonly submitted: number;
  readonly accepted: number;
  /** Refusals at tx_submit by reason. */
  readonly refused: Readonly<Record<string, number>>;
  /** Accepted but not in the settled canonical chain. */
  readonly notIncluded: number;
  /** Included but not final by the end of the run. */
  readonly notFinal: number;
  readonly submitRttMs: Summary;
  readonly includedMs: Summary;
  readonly finalMs: Summary;
  /** The raw latencies, for charts (ms). */
  readonly includedSamples: readonly number[];
  readonly finalSamples: readonly number[];
}

/** When `node` announced `block` (or, if it never did, the first node that did). */
function seenBy(block: LabBlock, node: number): number | null {
  const own = block.seen[node];
  if (own !== null && own !== undefined) return own;
  const any = block.seen.filter((s): s is number => s !== null);
  return any.length === 0 ? null : Math.min(...any);
}

/** submit -> included and submit -> final latencies of one phase's transactions. */
export function latencies(rec: LabRecording, phase: LabPhase, index: CanonicalIndex = indexCanonical(rec)): LatencyFigures {
  const subs = rec.submissions.filter((s) => s.phase === phase);
  const refused: Record<string, number> = {};
  const included: number[] = [];
  const final: number[] = [];
  let notIncluded = 0;
  let notFinal = 0;
  // Per node, its finality notifications in order (heights only rise).
  const finality = rec.proposers.map((_, node) => rec.finality.filter((f) => f.node === node).sort((a, b) => a.at - b.at));
  for (const s of subs) {
    if (s.refused !== null) {
      refused[s.refused] = (refused[s.refused] ?? 0) + 1;
      continue;
    }
    const block = index.txBlock.get(s.id);
    const at = block === undefined ? null : seenBy(block, s.node);
    if (block === undefined || at === null) {
      notIncluded++;
      continue;
    }
    included.push(at - s.at);
    let finalAt: number | null = null;
    if (rec.engine === 'pos') {
      finalAt = finality[s.node]!.find((f) => f.height >= block.height)?.at ?? null;
    } else {
      const deep = index.byHeight.get(block.height + rec.confirmations);
      finalAt = deep === undefined ? null : seenBy(deep, s.node);
    }
    if (finalAt === null) notFinal++;
    else final.push(finalAt - s.at);
  }
  const accepted = subs.filter((s) => s.refused === null);
  return {
    submitted: subs.length,
    accepted: accepted.length,
    refused,
    notIncluded,
    notFinal,
    submitRttMs: summarize(subs.map((s) => s.rttMs)),
    includedMs: summarize(included),
    finalMs: summarize(final),
    includedSamples: included,
    finalSamples: final,
  };
}

export interface ThroughputFigures {
  /** Workload transactions sent per second in the window. */
  readonly offeredTxPerSec: number;
  /** Workload transactions in canonical blocks whose header time is in the window, per second. */
  readonly includedTxPerSec: number;
  readonly includedTxs: number;
  readonly blocks: number;
  readonly seconds: number;
}

export function throughput(rec: LabRecording, window: LabWindow, index: CanonicalIndex = indexCanonical(rec)): ThroughputFigures {
  const ours = new Set(rec.submissions.filter((s) => s.phase !== 'setup' && s.refused === null).map((s) => s.id));
  const seconds = (window.end - window.start) / 1000;
  let includedTxs = 0;
  let blocks = 0;
  for (const block of index.byHash.values()) {
    if (!inWindow(block.time, window)) continue;
    blocks++;
    for (const id of block.txs) if (ours.has(id)) includedTxs++;
  }
  const offered = rec.submissions.filter((s) => s.phase !== 'setup' && inWindow(s.at, window)).length;
  return { offeredTxPerSec: offered / seconds, includedTxPerSec: includedTxs / seconds, includedTxs, blocks, seconds };
}

export interface StaleFigures {
  /** Blocks logged as produced in the window, at or below the settled height. */
  readonly produced: number;
  readonly stale: number;
  /** stale / produced (null with nothing produced). */
  readonly rate: number | null;
  /** Stale blocks that some node had announced as its head before they were abandoned. */
  readonly staleSeenAsHead: number;
  /** Produced in the window above the settled height (not counted). */
  readonly unsettled: number;
}

export function staleRate(rec: LabRecording, window: LabWindow): StaleFigures {
  let produced = 0;
  let stale = 0;
  let staleSeenAsHead = 0;
  let unsettled = 0;
  for (const p of rec.produced) {
    if (!inWindow(p.at, window)) continue;
    const canonicalHash = rec.canonical[p.height];
    if (canonicalHash === undefined) {
      unsettled++;
      continue;
    }
    produced++;
    if (canonicalHash.startsWith(p.hashPrefix)) continue;
    stale++;
    if (rec.blocks.some((b) => b.hash.startsWith(p.hashPrefix) && b.seen.some((s) => s !== null))) staleSeenAsHead++;
  }
  return { produced, stale, rate: produced === 0 ? null : stale / produced, staleSeenAsHead, unsettled };
}

export interface IntervalFigures {
  /** Between consecutive canonical blocks' production, as their producers logged it (ms). */
  readonly ms: Summary;
  /** Standard deviation / mean: 1 for exponential intervals (PoW at a fixed difficulty), 0 for exact slots. */
  readonly cv: number | null;
}

/**
 * Canonical block intervals: for each settled canonical block produced in the window whose parent's production
 * was also logged, the time between the two. The producers' log times are when each block was found (PoW) or
 * built (PoS), which header times are not: a PoW header carries the time its template was built.
 */
export function blockIntervals(rec: LabRecording, window: LabWindow): IntervalFigures {
  const producedAt = new Map<number, number>();
  for (const p of rec.produced) {
    // A block logged more than once (a node that restarted) counts its last log.
    if (rec.canonical[p.height]?.startsWith(p.hashPrefix) === true) producedAt.set(p.height, Math.max(p.at, producedAt.get(p.height) ?? -Infinity));
  }
  const gaps: number[] = [];
  for (let height = 2; height < rec.canonical.length; height++) {
    const end = producedAt.get(height);
    const start = producedAt.get(height - 1);
    if (end === undefined || start === undefined || !inWindow(end, window)) continue;
    gaps.push(end - start);
  }
  const ms = summarize(gaps);
  const mean = ms.mean;
  const cv = mean === null || mean <= 0 || gaps.length < 2 ? null : Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length) / mean;
  return { ms, cv };
}

export interface ReorgFigures {
  readonly count: number;
  /** depth -> reorgs of that depth. */
  readonly depths: Readonly<Record<string, number>>;
  readonly maxDepth: number;
  /** Per node. */
  readonly perNode: readonly number[];
}

export function reorgDepths(rec: LabRecording, window: LabWindow): ReorgFigures {
  const depths: Record<string, number> = {};
  const perNode = rec.proposers.map(() => 0);
  let count = 0;
  let maxDepth = 0;
  for (const r of rec.reorgs) {
    if (!inWindow(r.at, window)) continue;
    count++;
    depths[String(r.depth)] = (depths[String(r.depth)] ?? 0) + 1;
    perNode[r.node] = (perNode[r.node] ?? 0) + 1;
    maxDepth = Math.max(maxDepth, r.depth);
  }
  return { count, depths, maxDepth, perNode };
}

export interface PropagationFigures {
  /** First node's announcement -> each other node's, over block x node pairs (ms). */
  readonly toEachMs: Summary;
  /** First node's announcement -> the last node's, per block (ms). */
  readonly toLastMs: Summary;
  readonly blocks: number;
  /** Canonical blocks of the window some node never announced (it jumped past them, or lagged). */
  readonly incomplete: number;
  readonly toEachSamples: readonly number[];
}

export function propagation(rec: LabRecording, window: LabWindow, index: CanonicalIndex = indexCanonical(rec)): PropagationFigures {
  const toEach: number[] = [];
  const toLast: number[] = [];
  let blocks = 0;
  let incomplete = 0;
  for (const block of index.byHash.values()) {
    if (block.height === 0 || !inWindow(block.time, window)) continue;
    if (block.seen.some((s) => s === null)) {
      incomplete++;
      continue;
    }
    const seen = block.seen as number[];
    const first = Math.min(...seen);
    const firstNode = seen.indexOf(first);
    seen.forEach((s, i) => {
      if (i !== firstNode) toEach.push(s - first);
    });
    toLast.push(Math.max(...seen) - first);
    blocks++;
  }
  return { toEachMs: summarize(toEach), toLastMs: summarize(toLast), blocks, incomplete, toEachSamples: toEach };
}

export interface FairnessFigures {
  readonly blocks: readonly number[];
  readonly share: readonly (number | null)[];
  readonly expectedShare: readonly number[];
  /** share / expected per node. */
  readonly ratio: readonly (number | null)[];
  /** Jain's fairness index over the ratios: 1 when every node's share matches its expected one. */
  readonly jain: number | null;
  /** Largest |share - expected| over the nodes. */
  readonly maxDeviation: number | null;
}

/** Canonical blocks of the window per proposer against `expectedShare` (sums to 1). */
export function fairness(rec: LabRecording, window: LabWindow, expectedShare: readonly number[], index: CanonicalIndex = indexCanonical(rec)): FairnessFigures {
  const counts = rec.proposers.map(() => 0);
  const nodeOf = new Map(rec.proposers.map((p, i) => [p, i]));
  for (const block of index.byHash.values()) {
    if (block.height === 0 || !inWindow(block.time, window)) continue;
    const node = nodeOf.get(block.proposer);
    if (node !== undefined) counts[node]!++;
  }
  const total = counts.reduce((s, c) => s + c, 0);
  const share = counts.map((c) => (total === 0 ? null : c / total));
  const ratio = share.map((s, i) => (s === null || expectedShare[i]! === 0 ? null : s / expectedShare[i]!));
  const xs = ratio.filter((r): r is number => r !== null);
  const sumSq = xs.reduce((s, x) => s + x * x, 0);
  const jain = xs.length === 0 || sumSq === 0 ? null : xs.reduce((s, x) => s + x, 0) ** 2 / (xs.length * sumSq);
  const deviations = share.map((s, i) => (s === null ? null : Math.abs(s - expectedShare[i]!))).filter((d): d is number => d !== null);
  return { blocks: counts, share, expectedShare, ratio, jain, maxDeviation: deviations.length === 0 ? null : Math.max(...deviations) };
}

export interface MissedSlotFigures {
  readonly slots: number;
  readonly filled: number;
  readonly missed: number;
  /** Per node: slots it was drawn for in the window, and how many of them have no canonical block. */
  readonly drawn: readonly number[];
  readonly missedBy: readonly number[];
}

/** PoS only: the window's slots (those fully before the settled head) and which were missed, by proposer. */
export function missedSlots(rec: LabRecording, window: LabWindow, index: CanonicalIndex = indexCanonical(rec)): MissedSlotFigures | null {
  if (rec.engine !== 'pos' || rec.slotMs === null) return null;
  const slotMs = rec.slotMs;
  const validators = rec.proposers
    .map((id, node) => ({ id: new Uint8Array(Buffer.from(id, 'hex')), stake: BigInt(rec.stakes[node] ?? 0), node, hex: id }))
    .sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0));
  const nodeOf = new Map(rec.proposers.map((p, i) => [p, i]));
  const settledTime = index.byHeight.get(index.settledHeight)?.time ?? -Infinity;
  const filled = new Set<number>();
  for (const block of index.byHash.values()) if (block.height > 0) filled.add(Math.round((block.time - rec.genesisTime) / slotMs));
  const first = Math.ceil((window.start - rec.genesisTime) / slotMs);
  const last = Math.min(Math.floor((window.end - rec.genesisTime) / slotMs) - 1, Math.floor((settledTime - rec.genesisTime) / slotMs));
  const drawn = rec.proposers.map(() => 0);
  const missedBy = rec.proposers.map(() => 0);
  let slots = 0;
  let hit = 0;
  for (let slot = Math.max(1, first); slot <= last; slot++) {
    slots++;
    const proposer = proposerForSlot(validators, slot);
    const node = proposer === undefined ? undefined : nodeOf.get(Buffer.from(proposer).toString('hex'));
    if (node !== undefined) drawn[node]!++;
    if (filled.has(slot)) hit++;
    else if (node !== undefined) missedBy[node]!++;
  }
  return { slots, filled: hit, missed: slots - hit, drawn, missedBy };
}

export interface ProcessSample {
  readonly at: number;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  readonly rssKiB: number;
  /** Peak resident set so far. */
  readonly hwmKiB: number;
}

export interface ResourceFigures {
  /** CPU time over wall time in the interval, in % of one core. */
  readonly cpuPercent: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
}

/** CPU and memory of one process between two samples. */
export function resources(from: ProcessSample, to: ProcessSample, ticksPerSecond: number): ResourceFigures {
  const seconds = (to.at - from.at) / 1000;
  return {
    cpuPercent: seconds <= 0 ? 0 : ((to.cpuTicks - from.cpuTicks) / ticksPerSecond / seconds) * 100,
    rssMiB: to.rssKiB / 1024,
    peakRssMiB: to.hwmKiB / 1024,
  };
}

/** Parses /proc/<pid>/stat and /proc/<pid>/status text into a sample. */
export function parseProcSample(stat: string, status: string, at: number): ProcessSample {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return { at, cpuTicks: utime + stime, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}
