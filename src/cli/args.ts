import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses flags strictly: an unknown flag or a missing value is a UsageError that names it. */
export function parseFlags<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** Help text for a command: usage, options and examples. */
export function helpText(usage: string, summary: string, options: readonly [string, string][], examples: readonly string[]): string {
  const width = Math.max(...options.map(([flag]) => flag.length), 0) + 2;
  return [
    `Usage: ${usage}`,
    '',
    summary,
    ...(options.length > 0 ? ['', 'Options:', ...options.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`)] : []),
    '',
    'Examples:',
    ...examples.map((e) => `  ${e}`),
  ].join('\n');
}
