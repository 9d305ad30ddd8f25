import { helpText } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const examples = [
  'medchain bench validate                          # EMR and plain blocks of 1,000 and 5,000 transactions, ethereumjs beside them',
  'medchain bench validate --mix emr --sizes 2000 --blocks 10 --eth-txs 0',
];

/** The benchmark code lives in bench/ (loaded on demand, so the node never loads it). */
export const benchCommand: Command = {
  name: 'bench',
  summary: 'Run a benchmark; `validate`: block validation throughput against the raw signature-verify ceiling and ethereumjs.',
  usage: 'medchain bench validate [options]',
  examples,
  async run(args, io) {
    const [which, ...rest] = args;
    const lib = await import('../../../bench/lib/validateBench.ts');
    const flags = [...lib.VALIDATE_BENCH_FLAGS];
    if (which === undefined || which === '--help' || which === '-h') {
      io.out(helpText(this.usage, this.summary, flags, examples));
      return which === undefined ? 2 : 0;
    }
    if (which !== 'validate') throw new UsageError(`unknown benchmark "${which}"; run "medchain bench --help"`);
    let options: ReturnType<typeof lib.parseValidateBenchArgs>;
    try {
      options = lib.parseValidateBenchArgs(rest, lib.DEFAULT_BENCH_OUT_DIR);
    } catch (error) {
      throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
    }
    if (options.help) {
      io.out(helpText(lib.VALIDATE_BENCH_USAGE, this.summary, flags, examples));
      return 0;
    }
    await lib.runValidateBench(options, (line) => io.out(line));
    return 0;
  },
};
