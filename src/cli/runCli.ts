import { ConfigError } from '../node/config.ts';
import { GenesisMismatchError } from '../chain/chain.ts';
import { KeyFileError } from '../keys/keystore.ts';
import { GenesisError } from '../state/genesis.ts';
import { StoreError } from '../store/errors.ts';
import { UsageError, type CliIo, type Command } from './command.ts';
import { devCommand } from './commands/dev.ts';
import { devnetCommand } from './commands/devnet.ts';
import { benchCommand } from './commands/bench.ts';
import { accessCommand, auditCommand, identityCommand, recordCommand, validatorCommand } from './commands/emrCommands.ts';
import { exportCommand } from './commands/export.ts';
import { importCommand } from './commands/import.ts';
import { initCommand } from './commands/init.ts';
import { keysCommand } from './commands/keys.ts';
import { policyCommand } from './commands/policy.ts';
import { startCommand } from './commands/start.ts';
import { statusCommand } from './commands/status.ts';
import { versionCommand } from './commands/version.ts';

export const COMMANDS: readonly Command[] = [initCommand, startCommand, devCommand, devnetCommand, keysCommand, identityCommand, recordCommand, accessCommand, auditCommand, validatorCommand, policyCommand, exportCommand, importCommand, statusCommand, versionCommand, benchCommand];

/** An error the CLI reports as one line, without a stack: bad input, not a bug. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: medchain <command> [options]',
    '',
    'medchain: a blockchain node for medical records.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run "medchain <command> --help" for its options and examples.',
    'Examples:',
    '  medchain dev                                  # a local dev chain with demo accounts',
    '  medchain init --datadir ./node1 --engine pos  # a new datadir',
  ].join('\n');
}

/** Runs one CLI invocation; returns the exit code. Known user-facing errors become CliError. */
export async function runCli(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return versionCommand.run([], io);
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) throw new CliError(`unknown command "${name}"; run "medchain --help" for the list`, 2);
  try {
    return await command.run(rest, io, signal);
  } catch (error) {
    if (error instanceof UsageError) throw new CliError(error.message, error.exitCode);
    if (error instanceof ConfigError || error instanceof GenesisError || error instanceof GenesisMismatchError || error instanceof KeyFileError || error instanceof StoreError) {
      throw new CliError(error.message, 1);
    }
    throw error;
  }
}
