/**
 * The consensus lab's simulation mode (issue 7 §2): `medchain bench consensus --sim` parses its flags with
 * parseSimArgs and runs runSimBench. Runs the deterministic simulator (sim.ts) for PoW and PoS at the offered
 * load and at saturation, the PoW stale-rate sweep against 1 − e^(−d/T), prints the tables and writes JSON,
 * CSV and SVG with the seed, config, machine and versions.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_BLOCK_TXS } from '../../src/types/primitives.ts';
import { textTable } from '../lib/report.ts';
import { cdfSvg, histogramSvg, lineChartSvg, type LineSeries, type SampleSeries } from './charts.ts';
import { runDirName, runMetadata, writeRunOutputs, type CsvCell, type RunMetadata } from './output.ts';
import {
  DEFAULT_SIM_CONFIG,
  DEFAULT_SWEEP,
  MAX_GRAPH_NODES,
  MAX_NODES,
  MAX_TXS,
  runStaleSweep,
  simulate,
  theoreticalStaleRate,
  validateSimConfig,
  type LatencySummary,
  type ShareDistribution,
  type SimConfig,
  type SimEngine,
  type SimResult,
  type SweepPoint,
} from './sim.ts';

/** The simulation's settings (SimConfig, run once per engine) and what the bench adds around the runs. */
export interface SimOptions extends Omit<SimConfig, 'engine'> {
  readonly engines: readonly SimEngine[];
  /** Offered load of the saturation run as a multiple of capacity (0: no saturation run). */
  readonly saturation: number;
  /** d/T of each stale-rate sweep point (empty: no sweep). Runs when pow is among the engines. */
  readonly sweepRatios: readonly number[];
  /** At least this many blocks per sweep point. */
  readonly sweepBlocks: number;
  readonly outDir: string;
}

export interface SimEngineReport {
  /** At the offered load. */
  readonly main: SimResult;
  /** At `saturation` × capacity, or null. */
  readonly saturation: SimResult | null;
  readonly wallMs: number;
}

export interface SimReport {
  readonly metadata: RunMetadata;
  readonly options: SimOptions;
  readonly engines: Partial<Record<SimEngine, SimEngineReport>>;
  readonly sweep: {
    readonly tolerance: number;
    readonly targetForks: number;
    readonly points: readonly SweepPoint[];
    /** Every point within tolerance (null: no sweep ran). */
    readonly pass: boolean | null;
    readonly wallMs: number;
  } | null;
  readonly outDir: string;
  readonly files: readonly string[];
  readonly wallMs: number;
}

const DEFAULT_RATIOS = DEFAULT_SWEEP.ratios.join(',');

export const SIM_USAGE =
  'medchain bench consensus --sim [--seed N] [--nodes N] [--engine pow,pos] [--shares equal|zipf[:S]] [--delay-ms MS] [--jitter MS] [--jitter-dist exponential|uniform] [--validation-ms MS] [--degree D] [--interval-ms MS] [--slot-ms MS] [--blocks N | --duration S] [--load TPS] [--saturation X] [--offline P] [--max-block-txs N] [--confirmations K] [--sweep LIST|off] [--sweep-blocks N] [--out DIR]';

export const SIM_FLAGS: readonly [string, string][] = [
  ['--seed <n>', `seed of every random stream (default ${DEFAULT_SIM_CONFIG.seed}): the same seed and flags give the same figures, bit for bit`],
  ['--nodes <n>', `nodes (default ${DEFAULT_SIM_CONFIG.nodes}; up to ${MAX_NODES}, ${MAX_GRAPH_NODES} on a random graph)`],
  ['--engine <list>', 'engines to simulate, comma-separated: pow, pos (default pow,pos)'],
  ['--shares <dist>', 'hash power / stake split: equal, or zipf[:S] (node i gets 1/(i+1)^S, S default 1) (default equal)'],
  ['--delay-ms <ms>', `one-way delay of every message, per hop (default ${DEFAULT_SIM_CONFIG.delayMs})`],
  ['--jitter <ms>', 'mean extra delay per message (default 0: none)'],
  ['--jitter-dist <d>', 'jitter distribution: exponential (mean --jitter) or uniform (0 to 2 × --jitter) (default exponential)'],
  ['--validation-ms <ms>', 'time a node validates a block before it has and relays it, per hop (default 0)'],
  ['--degree <d>', 'random graph of about d links per node with gossip relaying (default 0: full mesh)'],
  ['--interval-ms <ms>', `PoW target block interval (default ${DEFAULT_SIM_CONFIG.intervalMs})`],
  ['--retarget-window <w>', 'PoW difficulty: 0 fixed (exponential intervals, as the stale-rate theory assumes), or retargeted every block as production does, an EMA over w blocks (default 0; the sweep always runs fixed)'],
  ['--slot-ms <ms>', `PoS slot length (default ${DEFAULT_SIM_CONFIG.slotMs})`],
  ['--blocks <n>', `PoW blocks / PoS slots per run (default ${DEFAULT_SIM_CONFIG.blocks})`],
  ['--duration <s>', 'simulated seconds per run, instead of --blocks'],
  ['--load <tps>', `offered transactions per second, submitted at random nodes (default ${DEFAULT_SIM_CONFIG.loadTps}; 0: none)`],
  ['--saturation <x>', 'offered load of the throughput-at-saturation run, as a multiple of capacity (default 1.5; 0: skip it)'],
  ['--offline <p>', 'PoS: probability that a slot\'s proposer is offline, a missed slot (default 0)'],
  ['--max-block-txs <n>', `transactions per block at most (default ${DEFAULT_SIM_CONFIG.maxBlockTxs}; production allows ${MAX_BLOCK_TXS})`],
  ['--confirmations <k>', `PoW: confirmations that make a transaction final (default ${DEFAULT_SIM_CONFIG.confirmations})`],
  ['--sweep <list|off>', `PoW stale rate vs 1 − e^(−d/T) at these d/T, full mesh, fixed delay (default ${DEFAULT_RATIOS}; off: skip)`],
  ['--sweep-blocks <n>', `at least this many blocks per sweep point; more where forks are rare, for ${DEFAULT_SWEEP.targetForks} expected forks (default ${DEFAULT_SWEEP.minBlocks})`],
  ['--out <dir>', 'where the run directory (report.json, CSV, SVG) goes (default bench/out/consensus)'],
];

/** Parses the simulation flags; throws RangeError (or parseArgs' TypeError) naming the bad flag. */
export function parseSimArgs(args: readonly string[], defaultOutDir: string): SimOptions & { help: boolean } {
  const d = DEFAULT_SIM_CONFIG;
  const { values } = parseArgs({
    args: [...args],
    options: {
      sim: { type: 'boolean', default: false },
      seed: { type: 'string', default: String(d.seed) },
      nodes: { type: 'string', default: String(d.nodes) },
      engine: { type: 'string', default: 'pow,pos' },
      shares: { type: 'string', default: 'equal' },
      'delay-ms': { type: 'string', default: String(d.delayMs) },
      jitter: { type: 'string', default: '0' },
      'jitter-dist': { type: 'string', default: 'exponential' },
      'validation-ms': { type: 'string', default: '0' },
      degree: { type: 'string', default: '0' },
      'interval-ms': { type: 'string', default: String(d.intervalMs) },
      'retarget-window': { type: 'string', default: String(d.retargetWindow) },
      'slot-ms': { type: 'string', default: String(d.slotMs) },
      blocks: { type: 'string' },
      duration: { type: 'string' },
      load: { type: 'string', default: String(d.loadTps) },
      saturation: { type: 'string', default: '1.5' },
      offline: { type: 'string', default: '0' },
      'max-block-txs': { type: 'string', default: String(d.maxBlockTxs) },
      confirmations: { type: 'string', default: String(d.confirmations) },
      sweep: { type: 'string', default: DEFAULT_RATIOS },
      'sweep-blocks': { type: 'string', default: String(DEFAULT_SWEEP.minBlocks) },
      out: { type: 'string', default: defaultOutDir },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const number = (flag: string, text: string, min: number, max: number, integer: boolean): number => {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new RangeError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
  const engines = [...new Set(values.engine.split(',').map((e) => e.trim()))];
  for (const e of engines) if (e !== 'pow' && e !== 'pos') throw new RangeError(`--engine takes pow and/or pos, got "${e}"`);
  const sharesMatch = /^(equal|zipf)(?::(.+))?$/.exec(values.shares.trim());
  if (sharesMatch === null || (sharesMatch[1] === 'equal' && sharesMatch[2] !== undefined)) {
    throw new RangeError(`--shares takes equal or zipf[:S], got "${values.shares}"`);
  }
  const jitterDistribution = values['jitter-dist'].trim();
  if (jitterDistribution !== 'exponential' && jitterDistribution !== 'uniform') {
    throw new RangeError(`--jitter-dist takes exponential or uniform, got "${values['jitter-dist']}"`);
  }
  if (values.blocks !== undefined && values.duration !== undefined) throw new RangeError('give --blocks or --duration, not both');
  const sweepText = values.sweep.trim();
  const sweepRatios = sweepText === 'off' || sweepText === 'none' || sweepText === '' ? [] : sweepText.split(',').map((r) => number('sweep', r.trim(), 0.001, 10, false));
  const nodes = number('nodes', values.nodes, 1, MAX_NODES, true);
  const degree = number('degree', values.degree, 0, MAX_NODES, true);
  if (degree === 1 || (degree > 0 && degree >= nodes)) throw new RangeError(`--degree must be 0 (full mesh) or from 2 to nodes − 1 (${nodes - 1}), got ${degree}`);
  if (degree > 0 && nodes > MAX_GRAPH_NODES) throw new RangeError(`--nodes: a random graph (--degree) has at most ${MAX_GRAPH_NODES} nodes, got ${nodes}`);
  const options: SimOptions & { help: boolean } = {
    seed: number('seed', values.seed, 0, 0xffff_ffff, true),
    engines: engines as SimEngine[],
    nodes,
    shares: sharesMatch[1] as ShareDistribution,
    zipfExponent: sharesMatch[2] === undefined ? 1 : number('shares', sharesMatch[2], 0, 10, false),
    delayMs: number('delay-ms', values['delay-ms'], 0, 3_600_000, false),
    jitterMs: number('jitter', values.jitter, 0, 3_600_000, false),
    jitterDistribution,
    validationMs: number('validation-ms', values['validation-ms'], 0, 3_600_000, false),
    degree,
    intervalMs: number('interval-ms', values['interval-ms'], 1, 86_400_000, false),
    retargetWindow: number('retarget-window', values['retarget-window'], 0, 1_000_000, true),
    slotMs: number('slot-ms', values['slot-ms'], 1, 86_400_000, false),
    blocks: values.blocks === undefined ? d.blocks : number('blocks', values.blocks, 1, 10_000_000, true),
    durationMs: values.duration === undefined ? 0 : number('duration', values.duration, 0.001, 1e9, false) * 1000,
    loadTps: number('load', values.load, 0, 10_000_000, false),
    saturation: number('saturation', values.saturation, 0, 100, false),
    offline: number('offline', values.offline, 0, 0.99, false),
    maxBlockTxs: number('max-block-txs', values['max-block-txs'], 1, MAX_BLOCK_TXS, true),
    confirmations: number('confirmations', values.confirmations, 1, 1000, true),
    sweepRatios,
    sweepBlocks: number('sweep-blocks', values['sweep-blocks'], 100, 10_000_000, true),
    outDir: resolve(values.out),
    help: values.help,
  };
  for (const engine of options.engines) {
    const config = configFor(options, engine);
    const seconds = runSeconds(config);
    if (config.loadTps * seconds > MAX_TXS) {
      throw new RangeError(`--load ${config.loadTps} tx/s over ${Math.round(seconds)} simulated seconds is more than the ${MAX_TXS} transactions a run holds: lower --load, --blocks or --duration`);
    }
    validateSimConfig(config);
  }
  if (options.engines.includes('pow')) {
    for (const ratio of options.sweepRatios) {
      const blocks = Math.max(options.sweepBlocks, Math.ceil(DEFAULT_SWEEP.targetForks / theoreticalStaleRate(ratio)));
      try {
        validateSimConfig({ ...configFor(options, 'pow'), delayMs: ratio * options.intervalMs, blocks, durationMs: 0, loadTps: 0, degree: 0 });
      } catch (error) {
        throw new RangeError(`--sweep point ${ratio} (${blocks} blocks): ${(error as Error).message}`);
      }
    }
  }
  return options;
}

/** The simulator config of one engine's main run. */
export function configFor(options: SimOptions, engine: SimEngine): SimConfig {
  return {
    engine,
    seed: options.seed,
    nodes: options.nodes,
    shares: options.shares,
    zipfExponent: options.zipfExponent,
    delayMs: options.delayMs,
    jitterMs: options.jitterMs,
    jitterDistribution: options.jitterDistribution,
    validationMs: options.validationMs,
    degree: options.degree,
    intervalMs: options.intervalMs,
    retargetWindow: options.retargetWindow,
    slotMs: options.slotMs,
    blocks: options.blocks,
    durationMs: options.durationMs,
    offline: options.offline,
    loadTps: options.loadTps,
    maxBlockTxs: options.maxBlockTxs,
    confirmations: options.confirmations,
  };
}

function runSeconds(c: SimConfig): number {
  return c.durationMs > 0 ? c.durationMs / 1000 : (c.blocks * (c.engine === 'pos' ? c.slotMs : c.intervalMs)) / 1000;
}

function capacityTps(c: SimConfig): number {
  return c.engine === 'pos' ? ((c.maxBlockTxs * 1000) / c.slotMs) * (1 - c.offline) : (c.maxBlockTxs * 1000) / c.intervalMs;
}

/** The saturation run: the same network, offered `factor` × capacity, over at most 1,000 blocks and ~3M transactions. */
function saturationConfig(c: SimConfig, factor: number): SimConfig {
  const blocks = Math.max(200, Math.min(1000, c.durationMs > 0 ? Math.ceil(c.durationMs / (c.engine === 'pos' ? c.slotMs : c.intervalMs)) : c.blocks, Math.floor(3e6 / (factor * c.maxBlockTxs))));
  return { ...c, loadTps: factor * capacityTps(c), blocks, durationMs: 0 };
}

/** The command line that repeats a run with these options. */
export function simCommandLine(o: SimOptions): string {
  const parts = ['medchain bench consensus --sim', `--seed ${o.seed}`, `--nodes ${o.nodes}`, `--engine ${o.engines.join(',')}`];
  parts.push(`--shares ${o.shares === 'zipf' ? `zipf:${o.zipfExponent}` : 'equal'}`, `--delay-ms ${o.delayMs}`, `--jitter ${o.jitterMs}`, `--jitter-dist ${o.jitterDistribution}`);
  parts.push(`--validation-ms ${o.validationMs}`, `--degree ${o.degree}`, `--interval-ms ${o.intervalMs}`, `--retarget-window ${o.retargetWindow}`, `--slot-ms ${o.slotMs}`);
  parts.push(o.durationMs > 0 ? `--duration ${o.durationMs / 1000}` : `--blocks ${o.blocks}`, `--load ${o.loadTps}`, `--saturation ${o.saturation}`);
  parts.push(`--offline ${o.offline}`, `--max-block-txs ${o.maxBlockTxs}`, `--confirmations ${o.confirmations}`);
  parts.push(`--sweep ${o.sweepRatios.length === 0 ? 'off' : o.sweepRatios.join(',')}`, `--sweep-blocks ${o.sweepBlocks}`);
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------------------
// Printing

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmtMs = (n: number): string => (Number.isFinite(n) ? (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)) : 'n/a');
const fmtPct = (x: number, digits = 2): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)} %` : 'n/a');
const fmtSigned = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %` : 'n/a');
const triple = (s: LatencySummary): string => (s.count === 0 ? 'n/a' : `${fmtMs(s.p50Ms)} / ${fmtMs(s.p95Ms)} / ${fmtMs(s.p99Ms)}`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function describe(o: SimOptions): string {
  const network = o.degree === 0 ? 'full mesh' : `random graph of degree ${o.degree}, gossip`;
  const jitter = o.jitterMs === 0 ? 'no jitter' : `${o.jitterDistribution} jitter mean ${o.jitterMs} ms`;
  const length = o.durationMs > 0 ? `${o.durationMs / 1000} simulated s` : `${fmtInt(o.blocks)} blocks/slots`;
  return [
    `seed ${o.seed}`,
    `${o.nodes} nodes (${o.shares === 'zipf' ? `zipf:${o.zipfExponent}` : 'equal'} shares)`,
    `${network}, delay ${o.delayMs} ms, ${jitter}, validation ${o.validationMs} ms`,
    `PoW interval ${o.intervalMs} ms (${o.retargetWindow === 0 ? 'fixed difficulty' : `retargeted, window ${o.retargetWindow}`}), PoS slot ${o.slotMs} ms`,
    length,
    `load ${fmtInt(o.loadTps)} tx/s, ≤ ${fmtInt(o.maxBlockTxs)} tx/block`,
  ].join(' · ');
}

function reorgText(r: SimResult): string {
  if (r.reorgs.count === 0) return 'none';
  return r.reorgs.depths.map(([depth, count]) => `${depth}:${fmtInt(count)}`).join(' ');
}

function summaryTable(engines: Partial<Record<SimEngine, SimEngineReport>>): string {
  const names = (['pow', 'pos'] as const).filter((e) => engines[e] !== undefined);
  const row = (label: string, cell: (e: SimEngineReport) => string): string[] => [label, ...names.map((n) => cell(engines[n]!))];
  const rows = [
    row('throughput at saturation (tx/s)', (e) => (e.saturation === null ? 'skipped' : `${fmtInt(e.saturation.txs.throughputTps)} of ${fmtInt(e.saturation.txs.capacityTps)} capacity`)),
    row('  offered at saturation (tx/s)', (e) => (e.saturation === null ? '' : fmtInt(e.saturation.txs.offeredTps))),
    row('throughput at offered load (tx/s)', (e) => `${fmtInt(e.main.txs.throughputTps)} of ${fmtInt(e.main.txs.offeredTps)} offered`),
    row('submit→inclusion p50/p95/p99 (ms)', (e) => triple(e.main.txs.inclusion)),
    row('submit→finality p50/p95/p99 (ms)', (e) => triple(e.main.txs.finality)),
    row('  finality', (e) => (e.main.engine === 'pos' ? 'finalized (>2/3 stake votes)' : e.main.txs.finalityRule)),
    row('  not included / not final', (e) => `${fmtInt(e.main.txs.notIncluded)} / ${fmtInt(e.main.txs.notFinal)} of ${fmtInt(e.main.txs.measured)}`),
    row('stale rate (orphans / blocks)', (e) => `${fmtPct(e.main.staleRate)} (${fmtInt(e.main.blocks.orphaned)} of ${fmtInt(e.main.blocks.counted)})`),
    row('fork rate (contested heights)', (e) => fmtPct(e.main.forkRate)),
    row('reorgs (node head switches)', (e) => `${fmtInt(e.main.reorgs.count)}, deepest ${e.main.reorgs.maxDepth}`),
    row('  reorg depth:count', (e) => reorgText(e.main)),
    row('block interval p50/p95/p99 (ms), cv', (e) => `${triple(e.main.blockIntervals.ms)}, ${e.main.blockIntervals.cv === null ? 'n/a' : e.main.blockIntervals.cv.toFixed(2)}`),
    row('block propagation p50/p90 (ms)', (e) => `${fmtMs(e.main.propagation.p50Ms)} / ${fmtMs(e.main.propagation.p90Ms)}`),
    row('missed slots', (e) => (e.main.slots === null ? 'n/a' : `${fmtInt(e.main.slots.missed)} of ${fmtInt(e.main.slots.total)} (${fmtPct(e.main.slots.missedRate)})`)),
    row('block finality lag p50/p95 (ms)', (e) => (e.main.finality === null ? 'n/a' : `${fmtMs(e.main.finality.lag.p50Ms)} / ${fmtMs(e.main.finality.lag.p95Ms)}`)),
    row('  off-chain blocks past 2/3 votes', (e) => (e.main.finality === null ? 'n/a' : fmtInt(e.main.finality.conflictingFinalized))),
    row('fairness: max |share − expected|', (e) => `${(e.main.fairness.maxAbsShareDiff * 100).toFixed(2)} pp over ${fmtInt(e.main.fairness.blocks)} blocks`),
    row('fairness: chi² (dof, p)', (e) => `${e.main.fairness.chiSquare.toFixed(1)} (${e.main.fairness.degreesOfFreedom}, p=${e.main.fairness.pValue.toFixed(3)})`),
    row('fairness: Gini blocks/node (of shares)', (e) => `${e.main.fairness.gini.toFixed(3)} (${e.main.fairness.expectedGini.toFixed(3)})`),
    row('blocks produced / simulated time', (e) => `${fmtInt(e.main.blocks.produced)} / ${fmtInt(e.main.simulatedMs / 1000)} s`),
    row('wall time', (e) => seconds(e.wallMs)),
  ];
  return textTable(['metric', ...names], rows);
}

function sweepTable(points: readonly SweepPoint[], tolerance: number): string {
  return textTable(
    ['d/T', 'delay ms', 'blocks', 'theory', 'measured', 'error', '±1σ', 'orphans/blocks', 'its error', `within ${tolerance * 100} %`],
    points.map((p) => [
      String(p.delayOverInterval),
      fmtMs(p.delayMs),
      fmtInt(p.blocks),
      fmtPct(p.theory, 3),
      fmtPct(p.measured, 3),
      fmtSigned(p.relativeError),
      `${(p.samplingError * 100).toFixed(1)} %`,
      fmtPct(p.orphanRate, 3),
      fmtSigned(p.orphanRelativeError),
      p.pass ? 'PASS' : 'FAIL',
    ]),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Files

type Table = { header: readonly string[]; rows: CsvCell[][] };

const SUMMARY_HEADER = [
  'engine', 'run', 'seed', 'nodes', 'topology', 'mean_degree', 'delay_ms', 'jitter_ms', 'jitter_dist', 'validation_ms', 'block_ms', 'blocks_produced', 'simulated_s',
  'offered_tps', 'capacity_tps', 'throughput_tps', 'measured_txs', 'not_included', 'not_final',
  'inclusion_p50_ms', 'inclusion_p95_ms', 'inclusion_p99_ms', 'inclusion_mean_ms', 'finality_p50_ms', 'finality_p95_ms', 'finality_p99_ms', 'finality_rule',
  'stale_rate', 'fork_rate', 'orphaned', 'counted_blocks', 'reorgs', 'max_reorg_depth', 'propagation_p50_ms', 'propagation_p90_ms', 'propagation_p99_ms',
  'slots', 'missed_slots', 'missed_slot_rate', 'finality_lag_p50_ms', 'conflicting_finalized', 'fairness_max_abs_share_diff', 'fairness_chi_square', 'fairness_dof', 'fairness_p_value', 'gini', 'expected_gini',
] as const;

function summaryRow(r: SimResult, run: string): CsvCell[] {
  const c = r.config;
  return [
    r.engine, run, c.seed, c.nodes, r.topology.kind, r.topology.meanDegree, c.delayMs, c.jitterMs, c.jitterDistribution, c.validationMs, r.engine === 'pos' ? c.slotMs : c.intervalMs,
    r.blocks.produced, r.simulatedMs / 1000, r.txs.offeredTps, r.txs.capacityTps, r.txs.throughputTps, r.txs.measured, r.txs.notIncluded, r.txs.notFinal,
    r.txs.inclusion.p50Ms, r.txs.inclusion.p95Ms, r.txs.inclusion.p99Ms, r.txs.inclusion.meanMs, r.txs.finality.p50Ms, r.txs.finality.p95Ms, r.txs.finality.p99Ms, r.txs.finalityRule,
    r.staleRate, r.forkRate, r.blocks.orphaned, r.blocks.counted, r.reorgs.count, r.reorgs.maxDepth, r.propagation.p50Ms, r.propagation.p90Ms, r.propagation.p99Ms,
    r.slots?.total, r.slots?.missed, r.slots?.missedRate, r.finality?.lag.p50Ms, r.finality?.conflictingFinalized, r.fairness.maxAbsShareDiff, r.fairness.chiSquare, r.fairness.degreesOfFreedom, r.fairness.pValue, r.fairness.gini, r.fairness.expectedGini,
  ];
}

/** A result without its chart samples (they go to latency-samples.csv). */
function withoutSamples(r: SimResult): Omit<SimResult, 'samples'> {
  const { samples: _samples, ...rest } = r;
  return rest;
}

function files(report: Omit<SimReport, 'files' | 'outDir' | 'wallMs'>): { csv: Record<string, Table>; svg: Record<string, string> } {
  const engines = (['pow', 'pos'] as const).filter((e) => report.engines[e] !== undefined).map((e) => [e, report.engines[e]!] as const);
  const csv: Record<string, Table> = {};
  const svg: Record<string, string> = {};
  csv['summary'] = {
    header: SUMMARY_HEADER,
    rows: engines.flatMap(([, e]) => [summaryRow(e.main, 'offered'), ...(e.saturation === null ? [] : [summaryRow(e.saturation, 'saturation')])]),
  };
  csv['fairness'] = {
    header: ['engine', 'node', 'expected_share', 'canonical_blocks', 'observed_share'],
    rows: engines.flatMap(([name, e]) => e.main.fairness.blocksByNode.map((b, i) => [name, i, e.main.fairness.expectedShares[i], b, e.main.fairness.blocks === 0 ? 0 : b / e.main.fairness.blocks])),
  };
  csv['reorgs'] = { header: ['engine', 'depth', 'count'], rows: engines.flatMap(([name, e]) => e.main.reorgs.depths.map(([depth, count]) => [name, depth, count])) };
  csv['latency-samples'] = {
    header: ['engine', 'kind', 'ms'],
    rows: engines.flatMap(([name, e]) => [
      ...e.main.samples.inclusionMs.map((v) => [name, 'submit-to-inclusion', v]),
      ...e.main.samples.finalityMs.map((v) => [name, 'submit-to-finality', v]),
      ...e.main.samples.propagationMs.map((v) => [name, 'block-propagation', v]),
    ]),
  };
  const subtitle = `seed ${report.options.seed} · ${report.options.nodes} nodes · delay ${report.options.delayMs} ms · load ${report.options.loadTps} tx/s`;
  const latencySeries: SampleSeries[] = engines.flatMap(([name, e]) => [
    { label: `${name} submit→inclusion`, values: e.main.samples.inclusionMs },
    { label: `${name} submit→finality`, values: e.main.samples.finalityMs },
  ]);
  svg['latency-cdf'] = cdfSvg({ title: 'Transaction latency (simulation)', subtitle, xLabel: 'ms (log scale)', series: latencySeries, logX: true });
  for (const [name, e] of engines) {
    svg[`latency-${name}`] = histogramSvg({
      title: `${name.toUpperCase()}: transaction latency distribution`,
      subtitle: `${subtitle} · finality: ${e.main.txs.finalityRule}`,
      xLabel: 'ms',
      series: [
        { label: 'submit→inclusion', values: e.main.samples.inclusionMs },
        { label: 'submit→finality', values: e.main.samples.finalityMs },
      ],
    });
  }
  svg['propagation-cdf'] = cdfSvg({
    title: 'Block propagation: production until a node has it',
    subtitle,
    xLabel: 'ms',
    series: engines.map(([name, e]) => ({ label: name, values: e.main.samples.propagationMs })),
  });
  // Observed / expected canonical blocks per node: 1 is perfectly fair, whatever the split of shares.
  const fairnessSeries: LineSeries[] = engines.map(([name, e]) => ({
    label: `${name}: observed / expected blocks`,
    points: e.main.fairness.blocksByNode.map((b, i) => {
      const expected = e.main.fairness.expectedShares[i]! * e.main.fairness.blocks;
      return [i, expected === 0 ? 0 : b / expected] as const;
    }),
    line: false,
  }));
  fairnessSeries.push({ label: 'fair (1)', points: [[0, 1], [report.options.nodes - 1, 1]], dashed: true, markers: false, colour: '#888888' });
  svg['fairness'] = lineChartSvg({
    title: 'Fairness: canonical blocks per node / its hash or stake share',
    subtitle: `${subtitle} · shares ${report.options.shares === 'zipf' ? `zipf:${report.options.zipfExponent} (node 0 largest)` : 'equal'}`,
    xLabel: 'node',
    yLabel: 'observed / expected blocks',
    series: fairnessSeries,
  });
  if (report.sweep !== null) {
    const points = report.sweep.points;
    csv['sweep'] = {
      header: ['delay_over_interval', 'delay_ms', 'interval_ms', 'blocks', 'seed', 'theory', 'measured_fork_rate', 'relative_error', 'sampling_error', 'pass', 'orphan_rate', 'orphan_relative_error', 'reorgs', 'max_reorg_depth'],
      rows: points.map((p) => [p.delayOverInterval, p.delayMs, report.options.intervalMs, p.blocks, p.seed, p.theory, p.measured, p.relativeError, p.samplingError, p.pass, p.orphanRate, p.orphanRelativeError, p.reorgs, p.maxReorgDepth]),
    };
    const tol = report.sweep.tolerance;
    svg['stale-vs-delay'] = lineChartSvg({
      title: 'PoW stale rate vs delay: simulation and 1 − e^(−d/T)',
      subtitle: `full mesh, fixed delay, ${report.options.nodes} nodes, T = ${report.options.intervalMs} ms · seed ${report.options.seed} · check: within ${tol * 100} % → ${report.sweep.pass === true ? 'PASS' : 'FAIL'}`,
      xLabel: 'delay / block interval (d/T, log scale)',
      yLabel: 'stale rate',
      logX: true,
      series: [
        { label: 'measured: contested heights / heights', points: points.map((p) => [p.delayOverInterval, p.measured] as const) },
        { label: 'theory 1 − e^(−d/T)', points: points.map((p) => [p.delayOverInterval, p.theory] as const), dashed: true, markers: false },
        { label: `theory ± ${tol * 100} %`, points: points.map((p) => [p.delayOverInterval, p.theory * (1 + tol)] as const), dashed: true, markers: false, colour: '#bbbbbb' },
        { label: '', points: points.map((p) => [p.delayOverInterval, p.theory * (1 - tol)] as const), dashed: true, markers: false, colour: '#bbbbbb' },
        { label: 'orphans / all blocks', points: points.map((p) => [p.delayOverInterval, p.orphanRate] as const), colour: '#2f7d5b' },
      ],
      formatY: (y) => `${(y * 100).toPrecision(2)} %`,
    });
  }
  return { csv, svg };
}

// ---------------------------------------------------------------------------------------------------------
// Running

/** Runs the simulation lab: both engines at the offered load and at saturation, the PoW stale-rate sweep; prints and writes. */
export async function runSimBench(options: SimOptions, log: (line: string) => void): Promise<SimReport> {
  const startedAt = new Date();
  const started = performance.now();
  const command = simCommandLine(options);
  const metadata = runMetadata(options.seed, { engines: Object.fromEntries(options.engines.map((e) => [e, configFor(options, e)])), sweep: options.sweepRatios }, command, startedAt);
  log(`consensus lab, simulation mode: ${describe(options)}`);
  log(`repeat with: ${command}`);
  const engines: Partial<Record<SimEngine, SimEngineReport>> = {};
  for (const engine of options.engines) {
    const t0 = performance.now();
    const config = configFor(options, engine);
    const main = simulate(config);
    log(`  ${engine}: ${fmtInt(main.blocks.produced)} blocks, ${fmtInt(main.txs.submitted)} transactions at ${fmtInt(config.loadTps)} tx/s (${seconds(performance.now() - t0)})`);
    let saturation: SimResult | null = null;
    if (options.saturation > 0) {
      const t1 = performance.now();
      const satConfig = saturationConfig(config, options.saturation);
      saturation = simulate(satConfig);
      log(`  ${engine} at saturation: ${fmtInt(saturation.blocks.produced)} blocks, ${fmtInt(satConfig.loadTps)} tx/s offered (${seconds(performance.now() - t1)})`);
    }
    engines[engine] = { main, saturation, wallMs: performance.now() - t0 };
  }
  let sweep: SimReport['sweep'] = null;
  if (options.engines.includes('pow') && options.sweepRatios.length > 0) {
    const t0 = performance.now();
    const settings = { ...DEFAULT_SWEEP, ratios: options.sweepRatios, minBlocks: options.sweepBlocks };
    const points = runStaleSweep(configFor(options, 'pow'), settings);
    sweep = { tolerance: settings.tolerance, targetForks: settings.targetForks, points, pass: points.every((p) => p.pass), wallMs: performance.now() - t0 };
    log(`  pow stale-rate sweep: ${points.length} points, ${fmtInt(points.reduce((a, p) => a + p.blocks, 0))} blocks (${seconds(sweep.wallMs)})`);
  }

  log('');
  log(summaryTable(engines));
  if (sweep !== null) {
    log('');
    log(`PoW stale rate vs theory 1 − e^(−d/T): full mesh, fixed delay, ${options.nodes} nodes, T = ${options.intervalMs} ms`);
    log('(measured = canonical heights where another block was found; orphans/blocks tends to (d/T)/(1+d/T) and is shown, not checked)');
    log(sweepTable(sweep.points, sweep.tolerance));
    const passed = sweep.points.filter((p) => p.pass).length;
    log(`stale-rate check: ${sweep.pass === true ? 'PASS' : 'FAIL'} (${passed} of ${sweep.points.length} points within ${sweep.tolerance * 100} % of theory)`);
  }

  const partial = { metadata, options, engines, sweep };
  const outDir = resolve(options.outDir, runDirName('sim', startedAt));
  const { csv, svg } = files(partial);
  const json = {
    ...partial,
    engines: Object.fromEntries(
      Object.entries(engines).map(([name, e]) => [name, { main: withoutSamples(e.main), saturation: e.saturation === null ? null : withoutSamples(e.saturation), wallMs: e.wallMs }]),
    ),
    wallMs: performance.now() - started,
  };
  const written = await writeRunOutputs(outDir, { json, csv, svg });
  const wallMs = performance.now() - started;
  log('');
  log(`wrote ${written.length} files to ${outDir}`);
  log(`runtime ${seconds(wallMs)}`);
  return { ...partial, outDir, files: written, wallMs };
}
