/**
 * Block validation throughput (issue 7 §1): `npm run bench:validate [-- options]`, the same code as
 * `medchain bench validate`. Run with --help for the options.
 */
import { DEFAULT_BENCH_OUT_DIR, parseValidateBenchArgs, runValidateBench, VALIDATE_BENCH_FLAGS, VALIDATE_BENCH_USAGE } from './lib/validateBench.ts';

const options = parseValidateBenchArgs(process.argv.slice(2), DEFAULT_BENCH_OUT_DIR);
if (options.help) {
  console.log(`Usage: ${VALIDATE_BENCH_USAGE.replace('medchain bench validate', 'npm run bench:validate --')}\n`);
  for (const [flag, text] of VALIDATE_BENCH_FLAGS) console.log(`  ${flag.padEnd(18)}${text}`);
} else {
  await runValidateBench(options, (line) => console.log(line));
}
