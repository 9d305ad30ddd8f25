/**
 * Issue 7 §1: block validation throughput, every figure measured side by side in one run (the machines are
 * shared and noisy, so only ratios from one run mean anything). Shared by `npm run bench:validate` and
 * `medchain bench validate`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeBlock } from '../../src/codec/block.ts';
import type { Transaction } from '../../src/types/transaction.ts';
import { mainThreadVerifyRate, RawVerifyPool } from './ceiling.ts';
import { measureEthereumjs, nativeSecp256k1Loaded, type EthereumjsResult } from './ethereumjs.ts';
import { barChartSvg, textTable, type BarGroup } from './report.ts';
import { THREAD_ROLES, totalCpuMs, type ThreadCpuMs } from './threadCpu.ts';
import { runValidation, type ValidationResult } from './validation.ts';
import { generateWorkload, type Workload, type WorkloadMix } from './workload.ts';

export interface ValidateBenchOptions {
  readonly seed: number;
  readonly mixes: readonly WorkloadMix[];
  /** Transactions per block, one workload per mix and size. */
  readonly sizes: readonly number[];
  /** Measured blocks per workload. */
  readonly blocks: number;
  /** Transfers in the ethereumjs block (0: skip ethereumjs). */
  readonly ethTxs: number;
  readonly ethRounds: number;
  /** Times every import configuration is run (in turn); the fastest run of each is reported. */
  readonly rounds: number;
  readonly outDir: string;
}

/** bench/out in the repository (gitignored). */
export const DEFAULT_BENCH_OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));

export const VALIDATE_BENCH_USAGE = 'medchain bench validate [--seed N] [--mix emr,plain] [--sizes 1000,5000] [--blocks N] [--rounds N] [--eth-txs N] [--eth-rounds N] [--out DIR]';

export const VALIDATE_BENCH_FLAGS: readonly [string, string][] = [
  ['--seed <n>', 'workload seed (default 7): the same seed gives the same blocks'],
  ['--mix <list>', 'workload mixes, comma-separated: emr, plain (default emr,plain)'],
  ['--sizes <list>', 'transactions per block, comma-separated, 1 to 10000 (default 1000,5000)'],
  ['--blocks <n>', 'measured blocks per workload (default 8)'],
  ['--eth-txs <n>', 'transfers in the ethereumjs block (default 1000; 0 skips ethereumjs)'],
  ['--eth-rounds <n>', 'cold runBlock runs per ethereumjs variant (default 3)'],
  ['--rounds <n>', 'runs of each import configuration, in turn; the fastest is reported (default 2: a shared machine has load spikes)'],
  ['--out <dir>', 'where the JSON and SVG go (default bench/out)'],
];

/** Parses the command line; throws RangeError with a sentence for a bad value. */
export function parseValidateBenchArgs(args: readonly string[], defaultOutDir: string): ValidateBenchOptions & { help: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seed: { type: 'string', default: '7' },
      mix: { type: 'string', default: 'emr,plain' },
      sizes: { type: 'string', default: '1000,5000' },
      blocks: { type: 'string', default: '8' },
      'eth-txs': { type: 'string', default: '1000' },
      'eth-rounds': { type: 'string', default: '3' },
      rounds: { type: 'string', default: '2' },
      out: { type: 'string', default: defaultOutDir },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const int = (name: string, text: string, min: number, max: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
    return n;
  };
  const mixes = values.mix.split(',').map((m) => m.trim());
  for (const m of mixes) if (m !== 'emr' && m !== 'plain') throw new RangeError(`--mix takes emr and/or plain, got "${m}"`);
  return {
    seed: int('seed', values.seed, 0, 0xffff_ffff),
    mixes: mixes as WorkloadMix[],
    sizes: values.sizes.split(',').map((s) => int('sizes', s.trim(), 1, 10_000)),
    blocks: int('blocks', values.blocks, 1, 1000),
    ethTxs: int('eth-txs', values['eth-txs'], 0, 10_000),
    ethRounds: int('eth-rounds', values['eth-rounds'], 1, 100),
    rounds: int('rounds', values.rounds, 1, 20),
    outDir: resolve(values.out),
    help: values.help,
  };
}

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const rate = (txs: number, ms: number): number => (txs * 1000) / ms;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)} %`);
const times = (x: number): string => `${x.toFixed(2)}x`;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

interface RunFigures {
  readonly txPerSec: number;
  /** Wall time per block: block by block the median import; pipelined the whole range's time over its blocks. */
  readonly msPerBlock: number;
  /** Median time per block in each import phase, in ms. */
  readonly phaseMs: Record<string, number>;
  /** Each phase's median time as a share of the block time (msPerBlock). */
  readonly phases: Record<string, number>;
  readonly peakRssMiB: number;
  /** CPU ms per block of each kind of thread (null: not Linux). */
  readonly cpuMsPerBlock: ThreadCpuMs | null;
  /** The raw verify ceiling sampled just before and just after this run (the machine is shared: load drifts). */
  ceiling: { workers1: number; workers2: number };
}

interface WorkloadReport {
  readonly workload: string;
  readonly mix: WorkloadMix;
  readonly txsPerBlock: number;
  readonly measuredBlocks: number;
  readonly setupBlocks: number;
  readonly mixCounts: Readonly<Record<string, number>>;
  readonly loadBefore: string;
  readonly ceiling: { readonly mainThread: number; readonly workers1: number; readonly workers2: number };
  /** Block by block: each import awaited before the next is handed over (how sync and `medchain import` call it today). */
  readonly sequential: { readonly cold1: RunFigures; readonly cold2: RunFigures; readonly warm2: RunFigures };
  /** Pipelined: the measured blocks queued at once, as a range; the next block decodes and verifies while one commits. */
  readonly pipelined: { readonly cold1: RunFigures; readonly cold2: RunFigures; readonly warm2: RunFigures };
  readonly ratios: Record<string, number | null>;
  /** What the cores leave for work other than signatures, per target (pipelined runs); null where thread CPU cannot be read. */
  budget: CpuBudget | null;
  readonly targets: Record<string, { readonly value: number | null; readonly target: string; readonly met: boolean | null }>;
}

export interface ValidateBenchReport {
  readonly generatedAt: string;
  readonly options: ValidateBenchOptions;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number; readonly node: string; readonly loadStart: string; readonly loadEnd: string };
  readonly workloads: readonly WorkloadReport[];
  readonly ethereumjs: { readonly txsPerBlock: number; readonly nativeBinary: boolean; readonly installed: number | null; readonly native: number | null; readonly note: string } | null;
  readonly peakRssMiB: number;
  readonly files: { readonly json: string; readonly svg: string };
}

/** Tracks the largest resident set seen, sampled on a timer and at every measured block. */
class RssPeak {
  #peak = 0;
  #runPeak = 0;
  readonly #timer = setInterval(() => this.sample(), 20);

  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.#peak) this.#peak = rss;
    if (rss > this.#runPeak) this.#runPeak = rss;
  }

  /** Peak since the previous call, in MiB. */
  takeRunPeak(): number {
    this.sample();
    const peak = this.#runPeak;
    this.#runPeak = 0;
    return peak / 2 ** 20;
  }

  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.#peak / 2 ** 20;
  }
}

/**
 * A CPU-bound pipelined import on C cores takes at least (verify + everything else) / C per block. So a target
 * block time T is reachable only if the non-signature CPU (every thread but the verify workers: main thread,
 * LevelDB's writes, GC) fits in C x T - verify. A necessary condition, not a sufficient one: it assumes the
 * threads never wait for each other. The warm path's main thread does all of its block's work serially.
 */
interface CpuBudget {
  readonly cores: number;
  /** Cold, 2 workers, ms per block: the verify workers, and all the other threads. */
  readonly verifyMs: number;
  readonly nonSignatureMs: number;
  /** The most non-signature CPU that leaves room for >= 80 % of the 2-worker ceiling, and for 2 workers >= 1.8x 1. */
  readonly allowedFor80PercentOfCeiling: number;
  readonly allowedFor2WorkersAt18x: number;
  /** The warm path's main thread, and the most it may take for warm >= 5x cold (the measured cold block time / 5). */
  readonly warmMainMs: number;
  readonly allowedWarmMainFor5x: number;
}

function cpuBudget(report: WorkloadReport): CpuBudget | null {
  const { cold1, cold2, warm2 } = report.pipelined;
  if (cold2.cpuMsPerBlock === null || warm2.cpuMsPerBlock === null) return null;
  const cores = availableParallelism();
  const verifyMs = cold2.cpuMsPerBlock.verify;
  const ceilingMs = (report.txsPerBlock * 1000) / report.ceiling.workers2;
  return {
    cores,
    verifyMs,
    nonSignatureMs: totalCpuMs(cold2.cpuMsPerBlock) - verifyMs,
    allowedFor80PercentOfCeiling: (cores * ceilingMs) / 0.8 - verifyMs,
    allowedFor2WorkersAt18x: (cores * cold1.msPerBlock) / 1.8 - verifyMs,
    warmMainMs: warm2.cpuMsPerBlock.main,
    allowedWarmMainFor5x: cold2.msPerBlock / 5,
  };
}

const PHASES = ['decode', 'txRoot', 'checks', 'execute', 'prepare', 'stageNext', 'verifyWait', 'writeWait', 'write'] as const;

const PHASE_LABELS: Partial<Record<string, string>> = {
  txRoot: 'tx root',
  verifyWait: 'verify wait',
  stageNext: 'next block',
  writeWait: 'write wait',
  write: 'LevelDB write',
};

function figures(result: ValidationResult, peakRssMiB: number): RunFigures {
  // A pipelined import's blocks do not finish evenly (a block staged ahead has part of its signatures checked
  // during its predecessor's turn, so completions come in uneven pairs): its figure is the whole range's time
  // per block, pipeline fill included. Block by block, each import stands alone and the median is taken.
  const ms = result.pipelined ? result.blockMs.reduce((a, b) => a + b, 0) / result.blockMs.length : median(result.blockMs);
  const phaseMs: Record<string, number> = {};
  for (const name of PHASES) phaseMs[name] = median(result.timings.map((t) => t[name]));
  phaseMs.decodeAndHashing = median(result.timings.map((t) => t.decode + t.txRoot));
  // LevelDB on the import's path: a pipelined import writes each batch behind the next block's import, so only
  // the wait for it counts there; block by block, the caller waits for every batch.
  phaseMs.levelDb = median(result.timings.map((t) => t.writeWait + (result.pipelined ? 0 : t.write)));
  const phases: Record<string, number> = {};
  for (const [name, value] of Object.entries(phaseMs)) phases[name] = value / ms;
  return { txPerSec: rate(result.txsPerBlock, ms), msPerBlock: ms, phaseMs, phases, peakRssMiB, cpuMsPerBlock: result.cpuMsPerBlock, ceiling: { workers1: Number.NaN, workers2: Number.NaN } };
}

async function measureWorkload(workload: Workload, rounds: number, rss: RssPeak, log: (line: string) => void): Promise<WorkloadReport> {
  const blocksTxs: Transaction[][] = workload.measured.map((b) => [...decodeBlock(b).transactions]);
  const pools = [new RawVerifyPool(1), new RawVerifyPool(2)];
  await Promise.all(pools.map((p) => p.start()));
  const ceilings: number[][] = [[], []];
  const mainThread: number[] = [];
  const samples: { workers1: number[]; workers2: number[] }[] = [];
  // The ceiling is sampled before, between and after the import runs; each run is compared with the samples
  // on either side of it.
  const sampleCeiling = async (): Promise<void> => {
    const round = { workers1: [] as number[], workers2: [] as number[] };
    for (const txs of blocksTxs) {
      mainThread.push(mainThreadVerifyRate(txs));
      round.workers1.push(await pools[0]!.measure(txs));
      round.workers2.push(await pools[1]!.measure(txs));
    }
    ceilings[0]!.push(...round.workers1);
    ceilings[1]!.push(...round.workers2);
    samples.push(round);
  };
  const runs: RunFigures[] = [];
  const loadBefore = load();
  const run = async (workers: number, warm: boolean, pipelined: boolean): Promise<RunFigures> => {
    if (samples.length === runs.length) await sampleCeiling();
    rss.takeRunPeak();
    const result = figures(await runValidation(workload, { workers, warm, pipelined, onBlock: () => rss.sample() }), rss.takeRunPeak());
    runs.push(result);
    await sampleCeiling();
    const [before, after] = [samples[samples.length - 2]!, samples[samples.length - 1]!];
    result.ceiling = { workers1: median([...before.workers1, ...after.workers1]), workers2: median([...before.workers2, ...after.workers2]) };
    const label = `${warm ? 'warm' : 'cold'}, ${workers} worker${workers > 1 ? 's' : ' '}, ${pipelined ? 'pipelined' : 'block by block'}`;
    log(`    ${label.padEnd(34)} ${fmt(result.txPerSec).padStart(8)} tx/s  ${result.msPerBlock.toFixed(1).padStart(6)} ms/block  (raw ceiling around it: ${fmt(result.ceiling.workers1)}/s 1w, ${fmt(result.ceiling.workers2)}/s 2w; load ${load()})`);
    return result;
  };
  try {
    const configs = [
      ['sequential', 'cold1', 1, false, false],
      ['sequential', 'cold2', 2, false, false],
      ['sequential', 'warm2', 2, true, false],
      ['pipelined', 'cold1', 1, false, true],
      ['pipelined', 'cold2', 2, false, true],
      ['pipelined', 'warm2', 2, true, true],
    ] as const;
    const best: Record<string, RunFigures> = {};
    for (let round = 0; round < rounds; round++) {
      for (const [mode, name, workers, warm, pipelined] of configs) {
        const result = await run(workers, warm, pipelined);
        const key = `${mode}.${name}`;
        if (best[key] === undefined || result.txPerSec > best[key].txPerSec) best[key] = result;
      }
    }
    const pick = (mode: string) => ({ cold1: best[`${mode}.cold1`]!, cold2: best[`${mode}.cold2`]!, warm2: best[`${mode}.warm2`]! });
    const sequential = pick('sequential');
    const pipelined = pick('pipelined');
    const ceiling = { mainThread: median(mainThread), workers1: median(ceilings[0]!), workers2: median(ceilings[1]!) };
    log(`    raw verify ceiling: 1 worker ${fmt(ceiling.workers1)}/s, 2 workers ${fmt(ceiling.workers2)}/s, main thread ${fmt(ceiling.mainThread)}/s (median of ${mainThread.length} blocks)`);
    return {
      workload: workload.name,
      mix: workload.options.mix,
      txsPerBlock: workload.options.txsPerBlock,
      measuredBlocks: workload.measured.length,
      setupBlocks: workload.setup.length,
      mixCounts: workload.mixCounts,
      loadBefore,
      ceiling,
      sequential,
      pipelined,
      ratios: {},
      budget: null,
      targets: {},
    };
  } finally {
    await Promise.all(pools.map((p) => p.stop()));
  }
}

/** Names the runs of a row whose ceiling samples around them fell more than 10 % below the workload's median. */
function busy(w: WorkloadReport, runs: readonly RunFigures[]): string {
  const names = ['1w', '2w', 'warm'];
  // Two workers verify at nearly twice one worker's rate on an idle two-core machine; much less means no free core.
  if (w.ceiling.workers2 < 1.7 * w.ceiling.workers1) return `yes: no free 2nd core (ceiling 2w/1w ${times(w.ceiling.workers2 / w.ceiling.workers1)})`;
  const flagged = runs.flatMap((r, i) => (r.ceiling.workers2 < 0.9 * w.ceiling.workers2 || r.ceiling.workers1 < 0.9 * w.ceiling.workers1 ? [names[i]!] : []));
  return flagged.length === 0 ? 'no' : `yes: ${flagged.join(', ')}`;
}

/** The targets are judged on the pipelined import (the fastest production use); block-by-block figures are shown beside. */
function judge(report: WorkloadReport, eth: ValidateBenchReport['ethereumjs']): void {
  const { ceiling } = report;
  const { cold1, cold2, warm2 } = report.pipelined;
  const r = report.ratios;
  // Judged against the workload's median ceiling (every sample of it): a neighbour's load spike during a few
  // ceiling samples must not make a ratio look better. The ceiling sampled right around the run is kept too.
  r.coldVsCeiling2 = cold2.txPerSec / ceiling.workers2;
  r.coldVsCeiling2AroundTheRun = cold2.txPerSec / cold2.ceiling.workers2;
  r.sequentialColdVsCeiling2 = report.sequential.cold2.txPerSec / ceiling.workers2;
  r.sequentialWorkers2VsWorkers1 = report.sequential.cold2.txPerSec / report.sequential.cold1.txPerSec;
  r.sequentialWarmVsCold = report.sequential.warm2.txPerSec / report.sequential.cold2.txPerSec;
  r.cold1VsCeiling1 = cold1.txPerSec / ceiling.workers1;
  r.workers2VsWorkers1 = cold2.txPerSec / cold1.txPerSec;
  r.warmVsCold = warm2.txPerSec / cold2.txPerSec;
  report.budget = cpuBudget(report);
  r.vsEthereumjsInstalled = eth?.installed ? cold2.txPerSec / eth.installed : null;
  r.vsEthereumjsNative = eth?.native ? cold2.txPerSec / eth.native : null;
  r.levelDbShare = cold2.phases.levelDb!;
  r.decodeAndHashingShare = cold2.phases.decodeAndHashing!;
  const t = report.targets;
  const check = (name: string, value: number | null, target: string, met: (v: number) => boolean): void => {
    t[name] = { value: value === null || Number.isNaN(value) ? null : value, target, met: value === null || Number.isNaN(value) ? null : met(value) };
  };
  check('cold validation vs 2-worker raw verify ceiling', r.coldVsCeiling2, '>= 80 %', (v) => v >= 0.8);
  check('2 workers vs 1 worker', r.workers2VsWorkers1, '>= 1.8x', (v) => v >= 1.8);
  check('vs ethereumjs as installed', r.vsEthereumjsInstalled, '>= 50x', (v) => v >= 50);
  check('vs ethereumjs with native ecrecover', r.vsEthereumjsNative, '>= 25x', (v) => v >= 25);
  check('warm path vs cold', r.warmVsCold, '>= 5x', (v) => v >= 5);
  check('LevelDB share of block time', r.levelDbShare, '<= 10 %', (v) => v <= 0.1);
  check('decode + hashing share of block time', r.decodeAndHashingShare, '<= 5 %', (v) => v <= 0.05);
}

/** Runs the whole benchmark, printing as it goes; writes the JSON and SVG; returns the report. */
export async function runValidateBench(options: ValidateBenchOptions, log: (line: string) => void): Promise<ValidateBenchReport> {
  const rss = new RssPeak();
  const loadStart = load();
  const cpuList = cpus();
  log(`medchain bench validate: seed ${options.seed}, mixes ${options.mixes.join(',')}, sizes ${options.sizes.join(',')}, ${options.blocks} measured blocks each, best of ${options.rounds} runs per configuration`);
  log(`machine: ${availableParallelism()} cores (${cpuList[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${loadStart}`);
  log('full cold validation = chain.importBlock(bytes) into a fresh LevelDB datadir: decode, hash, every signature on the');
  log('WorkerSignatureVerifier, policies, state, commitment, one synced batch per block');
  const workloads: WorkloadReport[] = [];
  for (const mix of options.mixes) {
    for (const size of options.sizes) {
      const started = performance.now();
      const workload = await generateWorkload({ mix, seed: options.seed, txsPerBlock: size, blocks: options.blocks });
      log(`  ${workload.name}: ${workload.setup.length} setup + ${workload.measured.length} measured blocks generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      workloads.push(await measureWorkload(workload, options.rounds, rss, log));
    }
  }

  let eth: ValidateBenchReport['ethereumjs'] = null;
  if (options.ethTxs > 0) {
    const results: Partial<Record<EthereumjsResult['variant'], number>> = {};
    let note = `@ethereumjs/vm runBlock, Shanghai rules, a block of ${options.ethTxs} EIP-1559 transfers from ${options.ethTxs} funded accounts, decoded from RLP each run, state in memory`;
    const nativeBinary = await nativeSecp256k1Loaded();
    for (const native of [false, true]) {
      try {
        if (native && !nativeBinary) throw new Error('the secp256k1 package has no native binary here (it fell back to JavaScript)');
        const result = await measureEthereumjs({ txs: options.ethTxs, seed: options.seed, rounds: options.ethRounds, native });
        results[result.variant] = rate(result.txsPerBlock, median(result.blockMs));
        log(`  ethereumjs ${result.variant}: ${fmt(results[result.variant]!)} tx/s (median of ${result.blockMs.length} cold blocks of ${result.txsPerBlock}; load ${load()})`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        note += `; ${native ? 'native ecrecover' : 'as installed'}: not measured (${message})`;
        log(`  ethereumjs ${native ? 'native ecrecover' : 'as installed'}: not measured: ${message}`);
      }
    }
    eth = { txsPerBlock: options.ethTxs, nativeBinary, installed: results['as installed'] ?? null, native: results['native ecrecover'] ?? null, note };
  }
  for (const w of workloads) judge(w, eth);
  const peakRssMiB = rss.stop();
  const loadEnd = load();

  // Terminal table.
  log('');
  log(`Throughput (tx/s: block by block the median block, pipelined the whole range; fastest of ${options.rounds} runs; load average at start ${loadStart}, at end ${loadEnd})`);
  log(
    textTable(
      ['workload', 'import', 'cold 1w', 'cold 2w', 'warm 2w', 'ceiling 1w*', 'ceiling 2w*', 'cold 2w / ceiling 2w', 'busy?', '2w / 1w', 'warm / cold', 'ms/block cold 2w', 'peak RSS'],
      workloads.flatMap((w) =>
        (['sequential', 'pipelined'] as const).map((mode) => {
          const f = w[mode];
          return [
            w.workload,
            mode === 'sequential' ? 'block by block' : 'pipelined',
            fmt(f.cold1.txPerSec),
            fmt(f.cold2.txPerSec),
            fmt(f.warm2.txPerSec),
            fmt(w.ceiling.workers1),
            fmt(w.ceiling.workers2),
            pct(f.cold2.txPerSec / w.ceiling.workers2),
            busy(w, [f.cold1, f.cold2, f.warm2]),
            times(f.cold2.txPerSec / f.cold1.txPerSec),
            times(f.warm2.txPerSec / f.cold2.txPerSec),
            f.cold2.msPerBlock.toFixed(1),
            `${Math.round(Math.max(f.cold1.peakRssMiB, f.cold2.peakRssMiB, f.warm2.peakRssMiB))} MiB`,
          ];
        }),
      ),
    ),
  );
  log('* the raw sodium-native verify ceiling on the same blocks: the median of samples taken before, between and after every run of');
  log('  the workload. busy?: a run whose ceiling samples right around it fell more than 10 % below that median, or a workload whose');
  log('  2-worker ceiling is under 1.7x the 1-worker one (no free second core): a neighbour was busy, and those ratios mean little.');
  log(`raw verify on the main thread, one signature after another: ${workloads.map((w) => `${w.workload} ${fmt(w.ceiling.mainThread)}/s`).join(', ')}`);
  log('');
  log('Where the time goes, cold, 2 workers (median ms per block in each phase, and its share of the block time).');
  log('Signatures verify on the workers during checks, execute and prepare; "verify wait" is what was left after them.');
  log('A batch is written behind the next queued block: "LevelDB write" is its own duration, "write wait" the time an import');
  log('waited for the previous batch; "LevelDB on path" is what the block time holds of LevelDB (block by block: both).');
  log(
    textTable(
      ['workload', 'import', ...PHASES.map((p) => PHASE_LABELS[p] ?? p), 'LevelDB on path', 'decode+hashing', 'block'],
      workloads.flatMap((w) =>
        (['sequential', 'pipelined'] as const).map((mode) => {
          const f = w[mode].cold2;
          return [
            w.workload,
            mode === 'sequential' ? 'block by block' : 'pipelined',
            ...[...PHASES, 'levelDb', 'decodeAndHashing'].map((p) => (Number.isNaN(f.phaseMs[p]!) ? 'n/a' : `${f.phaseMs[p]!.toFixed(1)} ${pct(f.phases[p]!).padStart(6)}`)),
            `${f.msPerBlock.toFixed(1)} ms`,
          ];
        }),
      ),
    ),
  );
  if (workloads.every((w) => w.budget !== null)) {
    const cores = workloads[0]!.budget!.cores;
    const ms = (x: number): string => x.toFixed(1);
    log('');
    log('CPU per block by thread (ms; pipelined runs): main thread, signature workers, libuv pool (LevelDB batches and');
    log('compaction), V8 helpers (GC, compiler; every isolate\'s), other; "cores" is all of it over the wall time.');
    log(
      textTable(
        ['workload', 'run', 'wall', ...THREAD_ROLES, 'cores'],
        workloads.flatMap((w) =>
          (['cold1', 'cold2', 'warm2'] as const).map((name) => {
            const f = w.pipelined[name];
            const cpu = f.cpuMsPerBlock!;
            return [w.workload, name === 'cold1' ? 'cold 1w' : name === 'cold2' ? 'cold 2w' : 'warm 2w', ms(f.msPerBlock), ...THREAD_ROLES.map((role) => ms(cpu[role])), (totalCpuMs(cpu) / f.msPerBlock).toFixed(2)];
          }),
        ),
      ),
    );
    log(`What ${cores} cores leave for everything but signatures (cold, 2 workers; ms per block). A pipelined import on ${cores} cores takes`);
    log(`at least (verify + the rest) / ${cores}, so a target is out of reach while "the rest" exceeds what is allowed for it.`);
    log(
      textTable(
        ['workload', 'verify workers', 'the rest', 'allowed for >= 80 % of ceiling', 'allowed for 2w >= 1.8x 1w', 'warm: main thread', 'allowed for warm >= 5x'],
        workloads.map((w) => {
          const b = w.budget!;
          return [w.workload, ms(b.verifyMs), ms(b.nonSignatureMs), ms(b.allowedFor80PercentOfCeiling), ms(b.allowedFor2WorkersAt18x), ms(b.warmMainMs), ms(b.allowedWarmMainFor5x)];
        }),
      ),
    );
  }
  if (eth !== null) {
    log('');
    log(`ethereumjs (${eth.note})`);
    log(
      textTable(
        ['variant', 'tx/s', ...workloads.map((w) => `${w.workload}: cold 2w (pipelined) / ethereumjs`)],
        (['installed', 'native'] as const).map((k) => [
          k === 'installed' ? 'as installed (JS ecrecover)' : 'native ecrecover (libsecp256k1)',
          eth[k] === null ? 'n/a' : fmt(eth[k]),
          ...workloads.map((w) => (eth[k] === null ? 'n/a' : times(w.pipelined.cold2.txPerSec / eth[k]))),
        ]),
      ),
    );
  }
  log('');
  log('Targets (ratios from this run; medchain figures: pipelined import, cold unless stated)');
  const targetNames = Object.keys(workloads[0]?.targets ?? {});
  log(
    textTable(
      ['target', 'goal', ...workloads.map((w) => w.workload)],
      targetNames.map((name) => [
        name,
        workloads[0]!.targets[name]!.target,
        ...workloads.map((w) => {
          const t = w.targets[name]!;
          if (t.value === null) return 'n/a';
          const shown = t.target.includes('%') ? pct(t.value) : times(t.value);
          return `${shown} ${t.met ? 'met' : 'MISSED'}`;
        }),
      ]),
    ),
  );
  log(`peak RSS of the whole run ${Math.round(peakRssMiB)} MiB`);

  // Files.
  await mkdir(options.outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = join(options.outDir, `validate-${stamp}.json`);
  const svg = join(options.outDir, `validate-${stamp}.svg`);
  const report: ValidateBenchReport = {
    generatedAt: new Date().toISOString(),
    options,
    machine: { cpus: availableParallelism(), cpuModel: cpuList[0]?.model ?? 'unknown', memoryGiB: totalmem() / 2 ** 30, node: process.version, loadStart, loadEnd },
    workloads,
    ethereumjs: eth,
    peakRssMiB,
    files: { json, svg },
  };
  const groups: BarGroup[] = workloads.map((w) => ({
    title: `${w.workload} transactions per block`,
    bars: [
      { label: 'raw verify ceiling, 2 workers', value: w.ceiling.workers2, kind: 'ceiling' },
      { label: 'medchain cold, 2 workers, pipelined', value: w.pipelined.cold2.txPerSec, kind: 'ours' },
      { label: 'medchain cold, 2 workers, block by block', value: w.sequential.cold2.txPerSec, kind: 'ours' },
      { label: 'medchain warm, 2 workers, pipelined', value: w.pipelined.warm2.txPerSec, kind: 'warm' },
      { label: 'raw verify ceiling, 1 worker', value: w.ceiling.workers1, kind: 'ceiling' },
      { label: 'medchain cold, 1 worker, pipelined', value: w.pipelined.cold1.txPerSec, kind: 'ours' },
    ],
  }));
  if (eth !== null) {
    const bars = [];
    if (eth.native !== null) bars.push({ label: 'ethereumjs, native ecrecover', value: eth.native, kind: 'ethereumjs' as const });
    if (eth.installed !== null) bars.push({ label: 'ethereumjs as installed', value: eth.installed, kind: 'ethereumjs' as const });
    groups.push({ title: `ethereumjs runBlock, ${eth.txsPerBlock} transfers per block`, bars });
  }
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(svg, barChartSvg('medchain block validation throughput', `seed ${options.seed}; ${availableParallelism()} cores; load ${loadStart} -> ${loadEnd}; ${report.generatedAt}`, groups));
  log(`wrote ${json}`);
  log(`wrote ${svg}`);
  return report;
}
