/**
 * The consensus lab's process mode (issue 7 §2): the same seeded EMR workload on PoW and on PoS, each on N
 * real `medchain start` processes on 127.0.0.1 (optionally with an added network delay on every node), offered
 * at a fixed rate round-robin to the nodes and watched from outside through the nodes' JSON-RPC, WebSocket
 * subscriptions, logs, /metrics and /proc. Shared by `npm run bench:consensus` and `medchain bench consensus`.
 *
 * One run per engine and delay: start the network; submit the setup waves and wait until every node has them;
 * offer the measured stream at --load for --duration (the main window: latencies, stale rate, reorgs,
 * propagation, fairness, missed slots, CPU and memory); wait until its transactions are final; offer a step
 * at --saturation-load for --saturation-duration (throughput at saturation); settle; read the final canonical
 * chain, logs and counters; stop the nodes. Figures are defined in processAnalysis.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_ADDED_DELAY_MS } from '../../src/node/addedDelay.ts';
import type { NetNode } from '../../test/helpers/network.ts';
import { killAll, rpcResult, sleep, type RpcResponse } from '../../test/helpers/process.ts';
import {
  blockIntervals,
  fairness,
  indexCanonical,
  latencies,
  missedSlots,
  propagation,
  reorgDepths,
  resources,
  staleRate,
  throughput,
  type FairnessFigures,
  type IntervalFigures,
  type LabBlock,
  type LabPhase,
  type LabRecording,
  type LabSubmission,
  type LabWindow,
  type LatencyFigures,
  type MissedSlotFigures,
  type ProcessSample,
  type PropagationFigures,
  type ReorgFigures,
  type ResourceFigures,
  type StaleFigures,
  type Summary,
  type ThroughputFigures,
  summarize,
} from './processAnalysis.ts';
import { clockTicksPerSecond, LAB_RETARGET_WINDOW, LAB_STAKE, labPost, readNodeLog, sampleProcesses, scrapeReorgCounter, startLabNetwork, waitMeshed, type LabNetwork } from './processNetwork.ts';
import { LabObserver, wallNow } from './processObserver.ts';
import { LabUploader, UPLOAD_MODES, type UploadFigures, type UploadMode } from './processUploads.ts';
import { generateLabWorkload, type LabTx, type LabWorkload } from './processWorkload.ts';
import { DEFAULT_SIM_CONFIG, simulate, type LatencySummary, type SimConfig } from './sim.ts';
import { runDirName, runMetadata, writeRunOutputs, type RunMetadata } from './output.ts';
import { charts, csvTables, summaryTable, warnings } from './processReport.ts';

export type LabEngine = 'pos' | 'pow';

export interface ProcessLabOptions {
  readonly engines: readonly LabEngine[];
  readonly nodes: number;
  /** Main window, seconds. */
  readonly durationS: number;
  /** Offered load in the main window, tx/s. */
  readonly load: number;
  /** Offered load of the saturation step, tx/s (0: no step). */
  readonly saturationLoad: number;
  readonly saturationS: number;
  /** Added network delay per run, ms (one run per engine and delay). */
  readonly delaysMs: readonly number[];
  readonly seed: number;
  readonly slotMs: number;
  readonly powTargetMs: number;
  /** PoW: confirmations after which a transaction counts as final. */
  readonly confirmations: number;
  readonly outDir: string;
  /** Write each node's log to <out>/logs/<run>/ (JSON lines). */
  readonly keepLogs: boolean;
  /** Where the clients' ciphertexts and envelopes go (processUploads.ts). */
  readonly uploads: UploadMode;
}

/** What the simulator gives for a run's settings: its latency and stale figures beside the measured ones. */
export interface SimulatorCheck {
  readonly config: SimConfig;
  readonly includedMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly finalMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly staleRate: number;
  /** Between consecutive canonical blocks; `intervalCv` = standard deviation / mean. */
  readonly intervalMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly intervalCv: number | null;
}

/** Simulated seconds per check: ten minutes keeps the percentiles steady and costs well under a second. */
const SIM_CHECK_SECONDS = 600;

/**
 * The simulator on a process run's settings (engine, nodes, slot or target interval, load, confirmations, equal
 * shares, full mesh), its one-hop delay the run's measured propagation p50 (first node to each other), which
 * holds the network and each node's validation time.
 */
export function simulatorCheck(options: ProcessLabOptions, engine: LabEngine, nodes: number, propagationMs: number | null): SimulatorCheck {
  const config: SimConfig = {
    ...DEFAULT_SIM_CONFIG,
    engine,
    seed: options.seed,
    nodes,
    delayMs: propagationMs !== null && Number.isFinite(propagationMs) ? Math.max(0, propagationMs) : 0,
    slotMs: options.slotMs,
    intervalMs: options.powTargetMs,
    // The lab's nodes retarget every block; so does the simulator here.
    retargetWindow: LAB_RETARGET_WINDOW,
    durationMs: SIM_CHECK_SECONDS * 1000,
    loadTps: options.load,
    confirmations: options.confirmations,
  };
  const r = simulate(config);
  const trio = (s: LatencySummary) => ({ p50: s.p50Ms, p95: s.p95Ms, p99: s.p99Ms });
  return {
    config,
    includedMs: trio(r.txs.inclusion),
    finalMs: trio(r.txs.finality),
    staleRate: r.staleRate,
    intervalMs: trio(r.blockIntervals.ms),
    intervalCv: r.blockIntervals.cv,
  };
}

export const PROCESS_LAB_USAGE =
  'medchain bench consensus [--engines pos,pow] [--nodes N] [--duration S] [--load TX_PER_S] [--saturation-load TX_PER_S] [--saturation-duration S] [--delay-ms LIST] [--seed N] [--slot-ms MS] [--pow-target-ms MS] [--confirmations K] [--uploads all|submitter|none] [--out DIR] [--keep-logs] | --sim [simulation options]';

export const PROCESS_LAB_FLAGS: readonly [string, string][] = [
  ['--engines <list>', 'consensus engines to run, comma-separated: pos, pow (default pos,pow)'],
  ['--nodes <n>', 'validator nodes per network, 2 to 16 (default 4): real medchain processes on 127.0.0.1'],
  ['--duration <s>', 'main window per run in seconds, 5 to 3600 (default 60)'],
  ['--load <tx/s>', 'offered load in the main window, round-robin to the nodes, 1 to 5000 (default 50)'],
  ['--saturation-load <tx/s>', 'offered load of the saturation step, above --load; 0 skips the step (default 1500: 4 nodes on 2 cores include about 1,000-1,450 tx/s of it; at 2,500 the load driver, sharing the cores, leaves the nodes less: 916 tx/s for PoS)'],
  ['--saturation-duration <s>', 'length of the saturation step in seconds, 5 to 600 (default 15)'],
  ['--delay-ms <list>', `added network delay in ms on every node, comma-separated for a sweep, 0 to ${MAX_ADDED_DELAY_MS} (default 0); one run per engine and delay`],
  ['--seed <n>', 'workload seed (default 7): the same seed signs the same transactions'],
  ['--slot-ms <ms>', 'PoS slot length, 100 to 60000 (default 1000)'],
  ['--pow-target-ms <ms>', 'PoW target block interval, 50 to 60000 (default 500)'],
  ['--confirmations <k>', 'PoW: blocks on top after which a transaction counts as final, 1 to 100 (default 6)'],
  ['--out <dir>', 'where the JSON, CSV and SVG files go (default bench/out/consensus)'],
  ['--uploads <mode>', 'record blobs: submitter (to the node the transaction was sent to, as a client does; custody copies go over p2p), all (to every node once it has the version: custody finds them local) or none (default submitter)'],
  ['--keep-logs', "also write every node's log (JSON lines) into the run's directory, under logs/"],
  ['--sim', 'run the deterministic simulation instead of real processes (its own options follow)'],
];

/** Parses the command line; throws RangeError naming the flag for a bad value (parseArgs names unknown flags). */
export function parseProcessLabArgs(args: readonly string[], defaultOutDir: string): ProcessLabOptions & { help: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      engines: { type: 'string', default: 'pos,pow' },
      nodes: { type: 'string', default: '4' },
      duration: { type: 'string', default: '60' },
      load: { type: 'string', default: '50' },
      'saturation-load': { type: 'string', default: '1500' },
      'saturation-duration': { type: 'string', default: '15' },
      'delay-ms': { type: 'string', default: '0' },
      seed: { type: 'string', default: '7' },
      'slot-ms': { type: 'string', default: '1000' },
      'pow-target-ms': { type: 'string', default: '500' },
      confirmations: { type: 'string', default: '6' },
      out: { type: 'string', default: defaultOutDir },
      'keep-logs': { type: 'boolean', default: false },
      uploads: { type: 'string', default: 'submitter' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (name: string, text: string, min: number, max: number): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
    return n;
  };
  const list = (name: string, text: string): string[] => {
    const items = text.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) throw new RangeError(`--${name} has an empty item in "${text}"`);
    if (new Set(items).size !== items.length) throw new RangeError(`--${name} names an item twice in "${text}"`);
    return items;
  };
  const engines = list('engines', values.engines);
  for (const e of engines) if (e !== 'pos' && e !== 'pow') throw new RangeError(`--engines takes pos and/or pow, got "${e}"`);
  const load = int('load', values.load, 1, 5000);
  const saturationLoad = int('saturation-load', values['saturation-load'], 0, 10_000);
  if (saturationLoad !== 0 && saturationLoad <= load) {
    throw new RangeError(`--saturation-load must be above --load (${load} tx/s) to step past it, or 0 to skip the step; got "${values['saturation-load']}"`);
  }
  const delaysMs = list('delay-ms', values['delay-ms']).map((d) => int('delay-ms', d, 0, MAX_ADDED_DELAY_MS));
  const uploads = values.uploads as UploadMode;
  if (!UPLOAD_MODES.includes(uploads)) throw new RangeError(`--uploads takes ${UPLOAD_MODES.join(', ')}, got "${values.uploads}"`);
  return {
    engines: engines as LabEngine[],
    nodes: int('nodes', values.nodes, 2, 16),
    durationS: int('duration', values.duration, 5, 3600),
    load,
    saturationLoad,
    saturationS: int('saturation-duration', values['saturation-duration'], 5, 600),
    delaysMs,
    seed: int('seed', values.seed, 0, 0xffff_ffff),
    slotMs: int('slot-ms', values['slot-ms'], 100, 60_000),
    powTargetMs: int('pow-target-ms', values['pow-target-ms'], 50, 60_000),
    confirmations: int('confirmations', values.confirmations, 1, 100),
    outDir: resolve(values.out),
    keepLogs: values['keep-logs'],
    uploads,
    help: values.help,
  };
}

// ---------------------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------------------

export interface NodeResources {
  readonly main: ResourceFigures | null;
  readonly saturation: ResourceFigures | null;
}

export interface LabRunReport {
  readonly engine: LabEngine;
  readonly delayMs: number;
  readonly nodes: number;
  readonly consensus: Record<string, unknown>;
  readonly genesisTime: number;
  readonly setup: { readonly transactions: number; readonly waves: number; readonly seconds: number };
  readonly windows: { readonly main: LabWindow; readonly saturation: LabWindow | null };
  readonly main: {
    readonly latency: Omit<LatencyFigures, 'includedSamples' | 'finalSamples'>;
    readonly throughput: ThroughputFigures;
    readonly stale: StaleFigures;
    readonly reorgs: ReorgFigures;
    readonly propagation: Omit<PropagationFigures, 'toEachSamples'>;
    readonly fairness: FairnessFigures & { readonly basis: string };
    readonly missedSlots: MissedSlotFigures | null;
    readonly blockIntervals: IntervalFigures;
  };
  readonly saturation: {
    readonly offeredLoad: number;
    readonly throughput: ThroughputFigures;
    readonly stale: StaleFigures;
    readonly reorgs: ReorgFigures;
    readonly refused: Readonly<Record<string, number>>;
    /** Pending transactions per node when the run ended (the backlog the step left). */
    readonly mempoolAtEnd: readonly (number | null)[];
  } | null;
  readonly resources: readonly NodeResources[];
  /** The clients' blob uploads (processUploads.ts), with their lag behind the block in each window. */
  readonly uploads: Omit<UploadFigures, 'lag'> & { readonly lagMs: { readonly setup: Summary; readonly main: Summary; readonly saturation: Summary | null } };
  /** Peers banned by a node during the run (from the nodes' logs): honest nodes should never ban each other. */
  readonly bans: number;
  /** The simulator (sim.ts) on this run's settings, with the measured propagation as its delay: a check of its model. */
  readonly simulated: SimulatorCheck;
  /** What the nodes themselves report, beside the lab's own figures. */
  readonly nodeReported: {
    /** medchain_reorgs_total per node (/metrics), over the whole run. */
    readonly reorgsTotal: readonly (number | null)[];
    /** 'chain reorganised' log lines per node (whole run) and their depths. */
    readonly loggedReorgs: readonly number[];
    readonly loggedReorgDepths: Readonly<Record<string, number>>;
    /** PoS: chain_getValidators of node 1 at the end (its own window of at most 256 slots, from block 1). */
    readonly validators: readonly { readonly id: string; readonly proposed: number; readonly missed: number }[] | null;
    /** Pending transactions dropped by block building, by reason (all nodes). */
    readonly dropped: Readonly<Record<string, number>>;
    /** Warning and error log messages, by text (all nodes). */
    readonly warnings: Readonly<Record<string, number>>;
  };
  readonly settledHeight: number;
  readonly problems: readonly string[];
  readonly wallSeconds: number;
  /** Latency samples (ms, 0.1 ms resolution) of the main window, for the charts. */
  readonly samples: { readonly includedMs: readonly number[]; readonly finalMs: readonly number[]; readonly propagationMs: readonly number[] };
}

const TICK_MS = 10;
const SETUP_BATCH = 200;
const SETUP_TIMEOUT_MS = 120_000;
const DRAIN_TIMEOUT_MS = 45_000;
const SETTLE_TIMEOUT_MS = 30_000;

type Log = (line: string) => void;

/** Sends transactions as JSON-RPC batches and records each one's fate. */
class Submitter {
  readonly records: LabSubmission[] = [];
  /** tx id -> the node it was sent to. */
  readonly sentTo = new Map<string, number>();
  readonly #nodes: readonly NetNode[];
  readonly #inflight = new Set<Promise<void>>();

  constructor(nodes: readonly NetNode[]) {
    this.#nodes = nodes;
  }

  /** One batch to one node; resolves when its answer is recorded. */
  send(node: number, txs: readonly LabTx[], phase: LabPhase): Promise<void> {
    const at = wallNow();
    for (const t of txs) this.sentTo.set(t.id, node);
    const body = JSON.stringify(txs.map((t, id) => ({ jsonrpc: '2.0', id, method: 'tx_submit', params: [t.hex] })));
    const sending = labPost(this.#nodes[node]!.rpcUrl, body).then(
      ({ status, text }) => {
        const rttMs = wallNow() - at;
        let answers: RpcResponse[] = [];
        try {
          const parsed: unknown = JSON.parse(text);
          answers = Array.isArray(parsed) ? (parsed as RpcResponse[]) : [];
        } catch {
          // Recorded below as refused with the HTTP status.
        }
        const byId = new Map(answers.map((a) => [a.id, a]));
        txs.forEach((t, id) => {
          const answer = byId.get(id);
          const refused = answer === undefined ? `HTTP_${status}` : answer.error === undefined ? null : String(answer.error.data?.reason ?? answer.error.message);
          this.records.push({ id: t.id, node, kind: t.kind, phase, at, rttMs, refused });
        });
      },
      (error: unknown) => {
        const rttMs = wallNow() - at;
        for (const t of txs) this.records.push({ id: t.id, node, kind: t.kind, phase, at, rttMs, refused: `RPC_FAILED: ${(error as Error).message}` });
      },
    );
    this.#inflight.add(sending);
    void sending.finally(() => this.#inflight.delete(sending));
    return sending;
  }

  /**
   * Offers `txs` at `load` tx/s: transaction i is sent at start + i / load, to node (offset + i) mod N, each
   * tick's due transactions in one batch per node. Returns the window it took.
   */
  async offer(txs: readonly LabTx[], load: number, offset: number, phase: LabPhase, signal: AbortSignal | undefined): Promise<LabWindow> {
    const n = this.#nodes.length;
    const start = wallNow();
    let next = 0;
    while (next < txs.length && signal?.aborted !== true) {
      const due = Math.min(txs.length, Math.floor(((wallNow() - start) * load) / 1000) + 1);
      if (due > next) {
        const perNode: LabTx[][] = this.#nodes.map(() => []);
        for (let i = next; i < due; i++) perNode[(offset + i) % n]!.push(txs[i]!);
        perNode.forEach((batch, node) => {
          if (batch.length > 0) void this.send(node, batch, phase);
        });
        next = due;
      }
      await sleep(TICK_MS);
    }
    const end = start + (txs.length / load) * 1000;
    await this.drain();
    return { start, end };
  }

  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }
}

/** Resolves when `check` holds, or after `timeoutMs` (false); checks every `everyMs`. */
async function until(check: () => boolean, timeoutMs: number, signal: AbortSignal | undefined, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline || signal?.aborted === true) return false;
    await sleep(everyMs);
  }
  return true;
}

function interrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new LabInterrupted();
}

export class LabInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'LabInterrupted';
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The highest height at which every node has the same canonical block, and node 1's hashes up to it. */
async function finalCanonicalChain(nodes: readonly NetNode[], observer: LabObserver): Promise<{ hashes: string[]; extra: LabBlock[] }> {
  const heads = await Promise.all(nodes.map((n) => rpcResult<{ height: number }>(n.rpcUrl, 'chain_getHead')));
  let height = Math.min(...heads.map((h) => h.height));
  const hashAt = async (node: NetNode, h: number): Promise<string | null> =>
    (await rpcResult<{ header: { hash: string } } | null>(node.rpcUrl, 'chain_getBlock', [h]))?.header.hash ?? null;
  for (; height > 0; height--) {
    const hashes = await Promise.all(nodes.map((n) => hashAt(n, height)));
    if (hashes.every((h) => h !== null && h === hashes[0])) break;
  }
  const view = observer.canonical[0]!;
  const hashes: string[] = [];
  const extra: LabBlock[] = [];
  // Walk down from the agreed block by parent links: exact even where the observer missed an announcement.
  let hash = await hashAt(nodes[0]!, height);
  for (let h = height; h >= 0 && hash !== null; h--) {
    hashes[h] = hash;
    const known = observer.blocks.get(hash);
    if (known !== undefined && known.txs !== undefined) {
      hash = h === 0 ? null : known.parent;
      continue;
    }
    // Blocks from before the observer connected (or not fetched): read them now.
    const block = await rpcResult<{ header: { hash: string; height: number; parent: string; proposer: string; time: number }; transactions: string[] }>(nodes[0]!.rpcUrl, 'chain_getBlock', [hash]);
    extra.push({ ...block.header, seen: known?.seen ?? nodes.map(() => null), txs: block.transactions });
    hash = h === 0 ? null : block.header.parent;
  }
  if (view.get(height) !== undefined && view.get(height) !== hashes[height]) observer.problems.push(`node 1's announced block at ${height} differs from its chain_getBlock`);
  return { hashes, extra };
}

async function runOne(options: ProcessLabOptions, workload: LabWorkload, engine: LabEngine, delayMs: number, log: Log, signal: AbortSignal | undefined, logDir: string): Promise<LabRunReport> {
  const started = Date.now();
  const mainCount = Math.ceil(options.load * options.durationS);
  const mainTxs = workload.measured.slice(0, mainCount);
  const saturationTxs = workload.measured.slice(mainCount);
  const label = `${engine} delay ${delayMs} ms`;
  log(`[${label}] starting ${options.nodes} nodes`);
  const lab: LabNetwork = await startLabNetwork(
    { engine, hospitals: workload.hospitals, accounts: workload.accounts, slotMs: options.slotMs, powTargetMs: options.powTargetMs, delayMs },
    signal,
  );
  const observer = new LabObserver(lab.nodes.map((n) => n.rpcUrl));
  try {
    const nodes = lab.nodes;
    await waitMeshed(nodes, 2);
    interrupted(signal);
    await observer.start();
    const submitter = new Submitter(nodes);
    const uploader = new LabUploader(nodes, observer, options.uploads, [...workload.setup.flat(), ...workload.measured], (id) => submitter.sentTo.get(id), workload.seed);
    uploader.start();

    // ---- setup waves ----
    const setupStarted = Date.now();
    let setupTxs = 0;
    for (const [w, wave] of workload.setup.entries()) {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < wave.length; i += SETUP_BATCH) sends.push(submitter.send((i / SETUP_BATCH) % nodes.length, wave.slice(i, i + SETUP_BATCH), 'setup'));
      await Promise.all(sends);
      setupTxs += wave.length;
      const ids = new Set(wave.map((t) => t.id));
      const refused = submitter.records.filter((r) => r.phase === 'setup' && ids.has(r.id) && r.refused !== null);
      if (refused.length > 0) throw new Error(`setup wave ${w + 1}: ${refused.length} transactions refused, e.g. a ${refused[0]!.kind}: ${refused[0]!.refused}`);
      const everywhere = (): boolean => wave.every((t) => nodes.every((_, n) => observer.inclusionOn(n, t.id) !== undefined));
      if (!(await until(everywhere, SETUP_TIMEOUT_MS, signal))) {
        interrupted(signal);
        const missing = wave.filter((t) => !nodes.every((_, n) => observer.inclusionOn(n, t.id) !== undefined)).length;
        throw new Error(`setup wave ${w + 1}: ${missing} of ${wave.length} transactions not on every node after ${SETUP_TIMEOUT_MS / 1000} s`);
      }
    }
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    log(`[${label}] setup: ${setupTxs} transactions in ${workload.setup.length} waves on every node after ${setupSeconds.toFixed(1)} s`);

    // ---- main window ----
    const ticks = clockTicksPerSecond();
    const mainFrom = await sampleProcesses(nodes);
    log(`[${label}] main window: ${mainTxs.length} transactions at ${options.load} tx/s for ${options.durationS} s`);
    const mainWindow = await submitter.offer(mainTxs, options.load, 0, 'main', signal);
    const mainTo = await sampleProcesses(nodes);
    interrupted(signal);
    // Wait until the window's transactions are final on the node each was sent to (or time out: reported).
    const accepted = submitter.records.filter((r) => r.phase === 'main' && r.refused === null);
    const finalOn = (r: LabSubmission): boolean => {
      const block = observer.inclusionOn(r.node, r.id);
      if (block === undefined) return false;
      return engine === 'pos' ? observer.finalizedHeight(r.node) >= block.height : observer.headHeight[r.node]! >= block.height + options.confirmations;
    };
    const drained = await until(() => accepted.every(finalOn), DRAIN_TIMEOUT_MS, signal);
    interrupted(signal);
    log(`[${label}] main window done; ${drained ? 'every accepted transaction final' : `not all final after ${DRAIN_TIMEOUT_MS / 1000} s (reported)`}`);

    // ---- saturation step ----
    let saturationWindow: LabWindow | null = null;
    let satFrom: (ProcessSample | null)[] = [];
    let satTo: (ProcessSample | null)[] = [];
    if (options.saturationLoad > 0 && saturationTxs.length > 0) {
      log(`[${label}] saturation step: ${saturationTxs.length} transactions at ${options.saturationLoad} tx/s for ${options.saturationS} s`);
      satFrom = await sampleProcesses(nodes);
      saturationWindow = await submitter.offer(saturationTxs, options.saturationLoad, mainTxs.length, 'saturation', signal);
      satTo = await sampleProcesses(nodes);
      interrupted(signal);
    }

    // ---- settle: every block of the windows below a height all nodes agree on ----
    const lastHeight = Math.max(...observer.headHeight);
    const settleMore = engine === 'pos' ? 2 : options.confirmations;
    await until(() => Math.min(...observer.headHeight) >= lastHeight + settleMore, SETTLE_TIMEOUT_MS, signal);
    interrupted(signal);
    const mempoolAtEnd = await Promise.all(nodes.map((n) => rpcResult<{ mempoolSize: number }>(n.rpcUrl, 'node_info').then((i) => i.mempoolSize, () => null)));
    const { hashes, extra } = await finalCanonicalChain(nodes, observer);
    const reorgsTotal = await Promise.all(nodes.map(scrapeReorgCounter));
    const validators =
      engine === 'pos'
        ? (await rpcResult<{ validators: { id: string; proposed: number; missed: number }[] }>(nodes[0]!.rpcUrl, 'chain_getValidators')).validators.map((v) => ({
            id: v.id,
            proposed: v.proposed,
            missed: v.missed,
          }))
        : null;
    await observer.settle();
    const uploads = await uploader.stop();
    const logs = nodes.map((n, i) => readNodeLog(n.proc?.stdout ?? [], i));
    const endSamples = await sampleProcesses(nodes);

    // ---- figures ----
    const blocks: LabBlock[] = [...observer.blocks.values()].filter((b) => b.txs !== undefined).map((b) => ({ ...b, txs: b.txs! }));
    const known = new Set(blocks.map((b) => b.hash));
    for (const b of extra) if (!known.has(b.hash)) blocks.push(b);
    const recording: LabRecording = {
      engine,
      proposers: workload.hospitals.map((h) => Buffer.from(h.publicKey).toString('hex')),
      stakes: workload.hospitals.map(() => LAB_STAKE),
      genesisTime: lab.genesisTime,
      slotMs: engine === 'pos' ? options.slotMs : null,
      confirmations: options.confirmations,
      blocks,
      canonical: hashes,
      submissions: submitter.records,
      produced: logs.flatMap((l) => l.produced),
      reorgs: observer.reorgs.map((r) => ({ node: r.node, at: r.at, depth: r.reverted.length })),
      finality: observer.finality.map((f) => ({ node: f.node, at: f.at, height: f.height })),
    };
    const index = indexCanonical(recording);
    const latency = latencies(recording, 'main', index);
    const prop = propagation(recording, mainWindow, index);
    const resourcesOf = (from: (ProcessSample | null)[], to: (ProcessSample | null)[], node: number): ResourceFigures | null => {
      const a = from[node];
      const b = to[node];
      return a === null || a === undefined || b === null || b === undefined ? null : resources(a, b, ticks);
    };
    const nodeResources: NodeResources[] = nodes.map((_, i) => {
      const main = resourcesOf(mainFrom, mainTo, i);
      const sat = saturationWindow === null ? null : resourcesOf(satFrom, satTo, i);
      // Peak memory is the process's high-water mark at the end of the run.
      const peak = endSamples[i]?.hwmKiB;
      return {
        main: main === null ? null : { ...main, peakRssMiB: peak === undefined ? main.peakRssMiB : peak / 1024 },
        saturation: sat === null ? null : { ...sat, peakRssMiB: peak === undefined ? sat.peakRssMiB : peak / 1024 },
      };
    });
    // Expected shares: stake (equal) for PoS; for PoW the nodes' share of CPU time in the window, the hash
    // power each could spend (the miners share 2 cores with everything else).
    const cpu = nodeResources.map((r) => r.main?.cpuPercent ?? 0);
    const cpuTotal = cpu.reduce((s, c) => s + c, 0);
    const expected = engine === 'pos' || cpuTotal === 0 ? nodes.map(() => 1 / nodes.length) : cpu.map((c) => c / cpuTotal);
    const loggedDepths: Record<string, number> = {};
    for (const l of logs) for (const r of l.reorgs) loggedDepths[String(r.reverted)] = (loggedDepths[String(r.reverted)] ?? 0) + 1;
    const sum = (records: readonly Readonly<Record<string, number>>[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    const { includedSamples, finalSamples, ...latencyFigures } = latency;
    const { toEachSamples, ...propagationFigures } = prop;
    const satRefused: Record<string, number> = {};
    for (const r of submitter.records) if (r.phase === 'saturation' && r.refused !== null) satRefused[r.refused] = (satRefused[r.refused] ?? 0) + 1;
    const report: LabRunReport = {
      engine,
      delayMs,
      nodes: nodes.length,
      consensus: lab.consensus,
      genesisTime: lab.genesisTime,
      setup: { transactions: setupTxs, waves: workload.setup.length, seconds: setupSeconds },
      windows: { main: mainWindow, saturation: saturationWindow },
      main: {
        latency: latencyFigures,
        throughput: throughput(recording, mainWindow, index),
        stale: staleRate(recording, mainWindow),
        reorgs: reorgDepths(recording, mainWindow),
        propagation: propagationFigures,
        fairness: { ...fairness(recording, mainWindow, expected, index), basis: engine === 'pos' ? 'stake (equal)' : 'CPU time in the window (hash power proxy)' },
        missedSlots: missedSlots(recording, mainWindow, index),
        blockIntervals: blockIntervals(recording, mainWindow),
      },
      saturation:
        saturationWindow === null
          ? null
          : {
              offeredLoad: options.saturationLoad,
              throughput: throughput(recording, saturationWindow, index),
              stale: staleRate(recording, saturationWindow),
              reorgs: reorgDepths(recording, saturationWindow),
              refused: satRefused,
              mempoolAtEnd,
            },
      resources: nodeResources,
      uploads: {
        mode: uploads.mode,
        stored: uploads.stored,
        refused: uploads.refused,
        lagMs: {
          setup: summarize(uploads.lag.filter((l) => l.at < mainWindow.start).map((l) => l.ms)),
          main: summarize(uploads.lag.filter((l) => l.at >= mainWindow.start && l.at < mainWindow.end).map((l) => l.ms)),
          saturation: saturationWindow === null ? null : summarize(uploads.lag.filter((l) => l.at >= saturationWindow.start && l.at < saturationWindow.end).map((l) => l.ms)),
        },
      },
      simulated: simulatorCheck(options, engine, nodes.length, propagationFigures.toEachMs.p50),
      bans: Object.entries(sum(logs.map((l) => l.warnings)))
        .filter(([msg]) => msg.startsWith('peer banned'))
        .reduce((s, [, n]) => s + n, 0),
      nodeReported: {
        reorgsTotal,
        loggedReorgs: logs.map((l) => l.reorgs.length),
        loggedReorgDepths: loggedDepths,
        validators,
        dropped: sum(logs.map((l) => l.dropped)),
        warnings: sum(logs.map((l) => l.warnings)),
      },
      settledHeight: hashes.length - 1,
      problems: observer.problems,
      wallSeconds: (Date.now() - started) / 1000,
      samples: { includedMs: includedSamples.map(round1), finalMs: finalSamples.map(round1), propagationMs: toEachSamples.map(round1) },
    };
    log(`[${label}] done in ${report.wallSeconds.toFixed(0)} s`);
    return report;
  } finally {
    await observer.close();
    if (options.keepLogs) {
      const dir = join(logDir, `${engine}-delay-${delayMs}ms`);
      await mkdir(dir, { recursive: true });
      for (const node of lab.nodes) await writeFile(join(dir, `${node.name}.log`), [...(node.proc?.stdout ?? []), ...(node.proc?.stderr ?? [])].join('\n') + '\n');
      log(`[${label}] node logs in ${dir}`);
    }
    await lab.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// All runs
// ---------------------------------------------------------------------------------------------------------

export interface ProcessLabResult {
  readonly options: ProcessLabOptions;
  readonly workload: { readonly seed: number; readonly measured: number; readonly setup: number; readonly patients: number; readonly doctors: number; readonly mix: Readonly<Record<string, number>> };
  readonly runs: readonly LabRunReport[];
  readonly wallSeconds: number;
}

/** Runs every engine at every delay, one network after the other. */
export async function runProcessLab(options: ProcessLabOptions, log: Log, signal?: AbortSignal, logDir = join(options.outDir, 'logs')): Promise<ProcessLabResult> {
  const started = Date.now();
  const measured = Math.ceil(options.load * options.durationS) + (options.saturationLoad > 0 ? Math.ceil(options.saturationLoad * options.saturationS) : 0);
  const workload = generateLabWorkload({ seed: options.seed, validators: options.nodes, measuredTxs: measured });
  const setup = workload.setup.reduce((s, w) => s + w.length, 0);
  log(`workload (seed ${options.seed}): ${setup} setup and ${measured} measured transactions signed, ${workload.patients} patients and ${workload.doctors} doctors in genesis`);
  const runs: LabRunReport[] = [];
  // However this process ends (an uncaught error, process.exit on a second Ctrl+C), no node outlives it.
  const killNodes = (): void => void killAll();
  process.on('exit', killNodes);
  try {
    for (const delayMs of options.delaysMs) {
      for (const engine of options.engines) {
        interrupted(signal);
        runs.push(await runOne(options, workload, engine, delayMs, log, signal, logDir));
      }
    }
  } finally {
    process.off('exit', killNodes);
  }
  return {
    options,
    workload: { seed: options.seed, measured, setup, patients: workload.patients, doctors: workload.doctors, mix: workload.mixCounts },
    runs,
    wallSeconds: (Date.now() - started) / 1000,
  };
}

/** The command line that repeats a run with these options. */
export function processCommandLine(o: ProcessLabOptions): string {
  return [
    'medchain bench consensus',
    `--engines ${o.engines.join(',')}`,
    `--nodes ${o.nodes}`,
    `--duration ${o.durationS}`,
    `--load ${o.load}`,
    `--saturation-load ${o.saturationLoad}`,
    `--saturation-duration ${o.saturationS}`,
    `--delay-ms ${o.delaysMs.join(',')}`,
    `--seed ${o.seed}`,
    `--slot-ms ${o.slotMs}`,
    `--pow-target-ms ${o.powTargetMs}`,
    `--confirmations ${o.confirmations}`,
    `--uploads ${o.uploads}`,
  ].join(' ');
}

export interface ProcessBenchReport extends ProcessLabResult {
  readonly metadata: RunMetadata;
  readonly outDir: string;
  readonly files: readonly string[];
}

/** Runs the lab, prints the table and writes report.json, CSV and SVG files into a new directory under --out. */
export async function runProcessBench(options: ProcessLabOptions, log: Log, signal?: AbortSignal): Promise<ProcessBenchReport> {
  const startedAt = new Date();
  const command = processCommandLine(options);
  const metadata = runMetadata(options.seed, options, command, startedAt);
  log(`consensus lab, process mode: ${options.engines.join(' and ')} on ${options.nodes} medchain processes each, ${options.load} tx/s for ${options.durationS} s` +
    (options.saturationLoad > 0 ? `, then ${options.saturationLoad} tx/s for ${options.saturationS} s` : '') + `, added delay ${options.delaysMs.join(', ')} ms`);
  log(`machine: ${metadata.machine.cores} cores (${metadata.machine.cpuModel}), node ${metadata.versions.node}, load average ${metadata.machine.loadAverage.join(' ')}, git ${metadata.git.commit?.slice(0, 12) ?? 'unknown'}${metadata.git.dirty === true ? ' (dirty)' : ''}`);
  log(`repeat with: ${command}`);
  const outDir = resolve(options.outDir, runDirName('process', startedAt));
  const result = await runProcessLab(options, log, signal, join(outDir, 'logs'));
  log('');
  log(summaryTable(result));
  const notes = warnings(result);
  if (notes.length > 0) {
    log('');
    for (const n of notes) log(`! ${n}`);
  }
  const json = { metadata, ...result, loadAverageEnd: loadavg() };
  const files = await writeRunOutputs(outDir, { json, csv: csvTables(result), svg: charts(result) });
  log('');
  log(`wrote ${files.length} files to ${outDir}`);
  log(`runtime ${result.wallSeconds.toFixed(0)} s`);
  return { ...result, metadata, outDir, files };
}
