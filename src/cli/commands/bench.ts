import { helpText } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const examples = [
  'medchain bench validate                          # EMR and plain blocks of 1,000 and 5,000 transactions, ethereumjs beside them',
  'medchain bench validate --mix emr --sizes 2000 --blocks 10 --eth-txs 0',
  'medchain bench consensus                         # PoS and PoW on 4 real node processes each: 50 tx/s for 60 s, then a saturation step',
  'medchain bench consensus --delay-ms 0,50,200 --duration 30 --saturation-load 0   # stale rate against added network delay',
  'medchain bench consensus --sim                   # the deterministic simulation (100+ nodes, seconds)',
];

/** Parse errors from node:util's parseArgs carry a code prefix; the user needs only the sentence. */
const usageError = (error: unknown): UsageError => new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));

/** The benchmark code lives in bench/ (loaded on demand, so the node never loads it). */
export const benchCommand: Command = {
  name: 'bench',
  summary:
    'Run a benchmark; `validate`: block validation throughput against the raw signature-verify ceiling and ethereumjs; `consensus`: the consensus lab, PoW against PoS on real node processes (or simulated with --sim).',
  usage: 'medchain bench validate|consensus [options]',
  examples,
  async run(args, io, signal) {
    const [which, ...rest] = args;
    if (which === undefined || which === '--help' || which === '-h') {
      const validate = await import('../../../bench/lib/validateBench.ts');
      io.out(helpText(this.usage, this.summary, [...validate.VALIDATE_BENCH_FLAGS.map(([flag, text]): [string, string] => [`validate ${flag}`, text])], examples));
      io.out('\nRun "medchain bench consensus --help" for the consensus lab\'s options.');
      return which === undefined ? 2 : 0;
    }
    if (which === 'consensus') return runConsensus(rest, io, signal, this.summary);
    if (which !== 'validate') throw new UsageError(`unknown benchmark "${which}"; run "medchain bench --help"`);
    const lib = await import('../../../bench/lib/validateBench.ts');
    const flags = [...lib.VALIDATE_BENCH_FLAGS];
    let options: ReturnType<typeof lib.parseValidateBenchArgs>;
    try {
      options = lib.parseValidateBenchArgs(rest, lib.DEFAULT_BENCH_OUT_DIR);
    } catch (error) {
      throw usageError(error);
    }
    if (options.help) {
      io.out(helpText(lib.VALIDATE_BENCH_USAGE, this.summary, flags, examples));
      return 0;
    }
    await lib.runValidateBench(options, (line) => io.out(line));
    return 0;
  },
};

/** `medchain bench consensus`: the process mode, or the simulation with --sim. */
async function runConsensus(args: string[], io: { out(line: string): void; err(line: string): void }, signal: AbortSignal | undefined, summary: string): Promise<number> {
  const { DEFAULT_CONSENSUS_OUT_DIR } = await import('../../../bench/lab/output.ts');
  if (args.includes('--sim')) {
    const sim = await import('../../../bench/lab/simBench.ts');
    let options: ReturnType<typeof sim.parseSimArgs>;
    try {
      options = sim.parseSimArgs(args, DEFAULT_CONSENSUS_OUT_DIR);
    } catch (error) {
      throw usageError(error);
    }
    if (options.help) {
      io.out(helpText(sim.SIM_USAGE, summary, sim.SIM_FLAGS, examples));
      return 0;
    }
    await sim.runSimBench(options, (line) => io.out(line));
    return 0;
  }
  const lab = await import('../../../bench/lab/processLab.ts');
  let options: ReturnType<typeof lab.parseProcessLabArgs>;
  try {
    options = lab.parseProcessLabArgs(args, DEFAULT_CONSENSUS_OUT_DIR);
  } catch (error) {
    throw usageError(error);
  }
  if (options.help) {
    io.out(helpText(lab.PROCESS_LAB_USAGE, summary, lab.PROCESS_LAB_FLAGS, examples));
    return 0;
  }
  try {
    await lab.runProcessBench(options, (line) => io.out(line), signal);
  } catch (error) {
    // Ctrl+C: every node has been stopped on the way out; a failure caused by the nodes going away is not news.
    if (signal?.aborted === true) {
      io.err('interrupted: every node was stopped');
      return 130;
    }
    throw error;
  }
  return 0;
}
