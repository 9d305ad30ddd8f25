/**
 * The consensus lab (issue 7 §2): PoW against PoS under the same seeded EMR workload.
 *
 *   npm run bench:consensus                        real `medchain start` processes (bench/lab/processLab.ts)
 *   npm run bench:consensus -- --delay-ms 0,50,200 the same with an added network delay, one run per delay
 *   npm run bench:consensus -- --sim               the deterministic simulation (bench/lab/simBench.ts)
 *   npm run bench:consensus -- --help
 *
 * Also `medchain bench consensus`. Results go to bench/out/consensus/<run>/ (report.json, CSV, SVG).
 * Ctrl+C stops every node (a second Ctrl+C kills them at once).
 */
import { killAll } from '../test/helpers/process.ts';
import { DEFAULT_CONSENSUS_OUT_DIR } from './lab/output.ts';
import { PROCESS_LAB_FLAGS, PROCESS_LAB_USAGE, parseProcessLabArgs, runProcessBench } from './lab/processLab.ts';
import { SIM_FLAGS, SIM_USAGE, parseSimArgs, runSimBench } from './lab/simBench.ts';

const args = process.argv.slice(2);
const log = (line: string): void => console.log(line);
const help = (usage: string, flags: readonly [string, string][]): void => {
  const width = Math.max(...flags.map(([f]) => f.length)) + 2;
  log(`Usage: ${usage.replace(/^medchain bench consensus/, 'npm run bench:consensus --')}\n\nOptions:`);
  for (const [flag, text] of flags) log(`  ${flag.padEnd(width)}${text}`);
};
const fail = (error: unknown): never => {
  console.error(`bench:consensus: ${(error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}`);
  process.exit(2);
};

if (args.includes('--sim')) {
  let options: ReturnType<typeof parseSimArgs> | undefined;
  try {
    options = parseSimArgs(args, DEFAULT_CONSENSUS_OUT_DIR);
  } catch (error) {
    fail(error);
  }
  if (options!.help) help(SIM_USAGE, SIM_FLAGS);
  else await runSimBench(options!, log);
} else {
  let options: ReturnType<typeof parseProcessLabArgs> | undefined;
  try {
    options = parseProcessLabArgs(args, DEFAULT_CONSENSUS_OUT_DIR);
  } catch (error) {
    fail(error);
  }
  if (options!.help) {
    help(PROCESS_LAB_USAGE, PROCESS_LAB_FLAGS);
  } else {
    const controller = new AbortController();
    let interrupts = 0;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        interrupts++;
        if (interrupts === 1) {
          console.error('interrupted: stopping every node (Ctrl+C again to kill them at once)');
          controller.abort();
          return;
        }
        void killAll().finally(() => process.exit(130));
      });
    }
    try {
      await runProcessBench(options!, log, controller.signal);
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      console.error('interrupted: every node was stopped');
      process.exitCode = 130;
    }
  }
}
