import { readFile, writeFile } from 'node:fs/promises';
import { fromHex, toHex } from '../../codec/bytes.ts';
import {
  checkProgram,
  compilePolicy,
  contextFromJson,
  CURRENT_POLICY_FLAGS,
  disassemble,
  evaluatePolicy,
  instantiatePolicyTemplate,
  NO_POLICY_FLAGS,
  POLICY_FLAG_VERSIONS,
  POLICY_FORMAT_VERSION,
  POLICY_TEMPLATES,
  PolicyError,
  policyFlagNames,
  policyFlagsFromNames,
  type PolicyDecision,
  type PolicyFlags,
} from '../../script/index.ts';
import { UsageError, type CliIo, type Command } from '../command.ts';

/** Exit codes of `medchain policy eval`; the other subcommands exit 0 (ok) or 1 (invalid input). */
export const POLICY_EXIT = { Allow: 0, Deny: 1, Usage: 2, Error: 3 } as const;

interface Subcommand {
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly string[];
  readonly examples: readonly string[];
  readonly valueOptions: readonly string[];
  readonly booleanOptions: readonly string[];
  run(parsed: ParsedArgs, io: CliIo, signal?: AbortSignal): Promise<number>;
}

interface ParsedArgs {
  readonly positional: string[];
  readonly values: Map<string, string>;
  readonly booleans: Set<string>;
}

const FLAGS_OPTION = '--flags <set>     rule flags: current (default), none, v0, v1, or names such as RequesterBoundAllow,AttestedEmergency';

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  compile: {
    usage: 'medchain policy compile <file> [--out <file>] [--hex] [--flags <set>]',
    summary: 'Compile policy source to bytecode. Without --out the bytecode is printed as hex.',
    options: ['--out <file>      write the bytecode to a file (binary; hex text with --hex)', '--hex             with --out, write hex text instead of bytes', FLAGS_OPTION],
    examples: [
      'medchain policy compile record.policy              # prints the bytecode as hex',
      'medchain policy compile record.policy --out record.bin',
    ],
    valueOptions: ['--out', '--flags'],
    booleanOptions: ['--hex'],
    run: runCompile,
  },
  check: {
    usage: 'medchain policy check <file|hex> [--flags <set>]',
    summary: 'Validate bytecode (a binary file, a hex file, a hex string) or source, as a validator would for a setPolicy transaction.',
    options: [FLAGS_OPTION],
    examples: ['medchain policy check record.bin', 'medchain policy check 010703101140 --flags none'],
    valueOptions: ['--flags'],
    booleanOptions: [],
    run: runCheck,
  },
  disasm: {
    usage: 'medchain policy disasm <file|hex>',
    summary: 'Print the source of bytecode; the output compiles back to the same bytes (given source, prints it in canonical form).',
    options: [],
    examples: ['medchain policy disasm record.bin', 'medchain policy disasm 010703101140'],
    valueOptions: [],
    booleanOptions: [],
    run: runDisasm,
  },
  eval: {
    usage:
      'medchain policy eval <program> --context <json-file> [--action read|write|delegate] [--requester <id>] [--purpose <text>] [--emergency] [--time <ms>] [--height <n>] [--flags <set>] [--json]',
    summary: 'Evaluate a policy (source, bytecode file or hex) against a JSON context, offline. Exit 0 allow, 1 deny, 3 error.',
    options: [
      '--context <file>  JSON context: {requester, owner, action, height, time, purpose?, emergency?, roles?, attestations?, grants?} (see docs/policy-language.md)',
      '--action <a>      override the context action (read, write or delegate)',
      '--requester <id>  override the requester (64 lowercase hex digits)',
      '--purpose <text>  override the purpose of use, e.g. TREAT or ETREAT',
      '--emergency       set the break-glass emergency flag',
      '--time <ms>       override the block time (ms since the Unix epoch)',
      '--height <n>      override the block height',
      '--json            print the decision as JSON',
      FLAGS_OPTION,
    ],
    examples: [
      'medchain policy eval record.policy --context ctx.json',
      'medchain policy eval record.bin --context ctx.json --action write --requester bbbb...bb --json',
    ],
    valueOptions: ['--context', '--action', '--requester', '--purpose', '--time', '--height', '--flags'],
    booleanOptions: ['--emergency', '--json'],
    run: runEval,
  },
  templates: {
    usage: 'medchain policy templates [<name>] [--hospital <id>]',
    summary: 'List the built-in policy templates, or print one (filled with --hospital when it needs one).',
    options: ['--hospital <id>   hospital identity for the hospital-doctors template'],
    examples: ['medchain policy templates', 'medchain policy templates hospital-doctors --hospital dddd...dd > record.policy'],
    valueOptions: ['--hospital'],
    booleanOptions: [],
    run: runTemplates,
  },
};

/** `medchain policy`: compile, check, disassemble and evaluate permission policies without a node. */
export const policyCommand: Command = {
  name: 'policy',
  summary: 'Compile, check, disassemble and evaluate record permission policies (offline)',
  usage: Object.values(SUBCOMMANDS)
    .map((s) => s.usage)
    .join('\n'),
  examples: [
    'medchain policy templates owner-and-granted-doctors > record.policy',
    'medchain policy compile record.policy --out record.bin',
    'medchain policy check record.bin',
    'medchain policy disasm record.bin',
    'medchain policy eval record.bin --context ctx.json --action read',
  ],
  async run(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
    const [name, ...rest] = args;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      printOverview(io);
      if (name === undefined) throw new UsageError('missing subcommand: compile, check, disasm, eval or templates');
      return 0;
    }
    const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (sub === undefined) throw new UsageError(`unknown subcommand "${name}"; try: ${Object.keys(SUBCOMMANDS).join(', ')}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      printHelp(sub, io);
      return 0;
    }
    return sub.run(parseArgs(rest, sub), io, signal);
  },
};

function printOverview(io: CliIo): void {
  io.out(`medchain policy: ${policyCommand.summary}`);
  io.out('');
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) io.out(`  ${name.padEnd(10)} ${sub.summary}`);
  io.out('');
  io.out('Examples:');
  for (const e of policyCommand.examples) io.out(`  ${e}`);
  io.out('');
  io.out('Run `medchain policy <subcommand> --help` for options. The language is described in docs/policy-language.md.');
}

function printHelp(sub: Subcommand, io: CliIo): void {
  io.out(`Usage: ${sub.usage}`);
  io.out('');
  io.out(sub.summary);
  if (sub.options.length > 0) {
    io.out('');
    io.out('Options:');
    for (const o of sub.options) io.out(`  ${o}`);
  }
  io.out('');
  io.out('Examples:');
  for (const e of sub.examples) io.out(`  ${e}`);
}

function parseArgs(args: string[], sub: Subcommand): ParsedArgs {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const booleans = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (sub.booleanOptions.includes(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      booleans.add(name);
    } else if (sub.valueOptions.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option ${name}; usage: ${sub.usage}`);
    }
  }
  return { positional, values, booleans };
}

function onePositional(parsed: ParsedArgs, what: string, usage: string): string {
  if (parsed.positional.length !== 1) throw new UsageError(`expected ${what}; usage: ${usage}`);
  return parsed.positional[0]!;
}

function flagsOption(parsed: ParsedArgs): PolicyFlags {
  const value = parsed.values.get('--flags');
  if (value === undefined || value === 'current') return CURRENT_POLICY_FLAGS;
  if (value === 'none') return NO_POLICY_FLAGS;
  const version = /^v(\d+)$/.exec(value);
  if (version) {
    const flags = POLICY_FLAG_VERSIONS[Number(version[1])];
    if (flags === undefined) throw new UsageError(`unknown flag version ${value}; known: v0..v${POLICY_FLAG_VERSIONS.length - 1}`);
    return flags;
  }
  const flags = policyFlagsFromNames(value.split(',').map((s) => s.trim()));
  if (flags === undefined) throw new UsageError(`unknown flag in "${value}"; known: ${policyFlagNames(0xffff).join(', ')}`);
  return flags;
}

function describeFlags(flags: PolicyFlags): string {
  const names = policyFlagNames(flags);
  return names.length === 0 ? 'none' : names.join(',');
}

type ProgramInput = { kind: 'bytecode'; bytes: Uint8Array; label: string } | { kind: 'source'; text: string; label: string };

const HEX_TEXT = /^(0x)?([0-9a-fA-F]{2})+$/;

async function readInput(arg: string, signal?: AbortSignal): Promise<ProgramInput> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(arg, signal ? { signal } : {});
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A hex argument that is not also a file name is bytecode given inline.
    if ((code === 'ENOENT' || code === 'ENAMETOOLONG') && HEX_TEXT.test(arg)) return { kind: 'bytecode', bytes: fromHex(arg)!, label: 'argument' };
    throw new UsageError(`cannot read ${arg}: ${(error as Error).message}`);
  }
  const text = new TextDecoder().decode(bytes);
  if (HEX_TEXT.test(text.trim())) return { kind: 'bytecode', bytes: fromHex(text.trim())!, label: arg };
  // Policy source is printable text; a leading control byte means raw bytecode (its first byte is the format version).
  if (bytes.length > 0 && bytes[0]! < 0x20 && bytes[0] !== 0x0a && bytes[0] !== 0x0d && bytes[0] !== 0x09) {
    return { kind: 'bytecode', bytes: Uint8Array.from(bytes), label: arg };
  }
  return { kind: 'source', text, label: arg };
}

/** Bytecode of an input, compiling source; prints the compile error and returns undefined on failure. */
function toProgram(input: ProgramInput, flags: PolicyFlags, io: CliIo): Uint8Array | undefined {
  if (input.kind === 'bytecode') return input.bytes;
  const compiled = compilePolicy(input.text, flags);
  if (compiled.ok) return compiled.program;
  const e = compiled.error;
  io.err(`${input.label}:${e.line}:${e.column}: error ${e.code}: ${e.message}`);
  io.err(sourceExcerpt(input.text, e.line, e.column));
  return undefined;
}

function sourceExcerpt(text: string, line: number, column: number): string {
  const lineText = text.split('\n')[line - 1] ?? '';
  const shown = lineText.length > 160 ? `${lineText.slice(0, 160)}...` : lineText;
  return `  ${shown}\n  ${' '.repeat(Math.min(column - 1, 163))}^`;
}

async function runCompile(parsed: ParsedArgs, io: CliIo, signal?: AbortSignal): Promise<number> {
  const file = onePositional(parsed, 'one source file', SUBCOMMANDS.compile!.usage);
  const flags = flagsOption(parsed);
  const input = await readInput(file, signal);
  if (input.kind !== 'source') throw new UsageError(`${file} holds bytecode already; use \`medchain policy check\` or \`disasm\``);
  const program = toProgram(input, flags, io);
  if (program === undefined) return 1;
  const out = parsed.values.get('--out');
  if (out === undefined) {
    io.out(toHex(program));
  } else {
    try {
      await writeFile(out, parsed.booleans.has('--hex') ? `${toHex(program)}\n` : program, signal ? { signal } : {});
    } catch (error) {
      throw new UsageError(`cannot write ${out}: ${(error as Error).message}`);
    }
  }
  const checked = checkProgram(program, flags);
  const rules = checked.ok ? checked.info.rules : 0;
  io.err(`compiled ${file}: ${program.length} bytes, ${rules} rule${rules === 1 ? '' : 's'}, flags ${describeFlags(flags)}${out ? `, written to ${out}` : ''}`);
  return 0;
}

async function runCheck(parsed: ParsedArgs, io: CliIo, signal?: AbortSignal): Promise<number> {
  const arg = onePositional(parsed, 'a bytecode file, a hex string or a source file', SUBCOMMANDS.check!.usage);
  const flags = flagsOption(parsed);
  const input = await readInput(arg, signal);
  const program = toProgram(input, flags, io);
  if (program === undefined) return 1;
  const checked = checkProgram(program, flags);
  if (!checked.ok) {
    io.out(`invalid: ${checked.error.code} at byte ${checked.error.offset}: ${checked.error.message}`);
    return 1;
  }
  const i = checked.info;
  io.out(
    `ok: ${i.bytes} bytes, format v${POLICY_FORMAT_VERSION}, ${i.rules} rule${i.rules === 1 ? '' : 's'}, stack depth ${i.maxStackDepth}, nesting depth ${i.maxNestingDepth}, flags ${describeFlags(flags)}`,
  );
  return 0;
}

async function runDisasm(parsed: ParsedArgs, io: CliIo, signal?: AbortSignal): Promise<number> {
  const arg = onePositional(parsed, 'a bytecode file, a hex string or a source file', SUBCOMMANDS.disasm!.usage);
  const input = await readInput(arg, signal);
  const program = toProgram(input, NO_POLICY_FLAGS, io);
  if (program === undefined) return 1;
  try {
    io.out(disassemble(program).trimEnd());
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    io.out(`invalid: ${error.code}: ${error.message}`);
    return 1;
  }
  return 0;
}

async function runEval(parsed: ParsedArgs, io: CliIo, signal?: AbortSignal): Promise<number> {
  const usage = SUBCOMMANDS.eval!.usage;
  const arg = onePositional(parsed, 'one program (source file, bytecode file or hex)', usage);
  const contextFile = parsed.values.get('--context');
  if (contextFile === undefined) throw new UsageError(`--context <json-file> is required; usage: ${usage}`);
  const flags = flagsOption(parsed);
  const json = await readJson(contextFile, signal);
  const overrides = contextOverrides(parsed);
  const input = await readInput(arg, signal);
  const program = toProgram(input, flags, io);
  if (program === undefined) return POLICY_EXIT.Error;
  let decision: PolicyDecision;
  try {
    decision = evaluatePolicy(program, contextFromJson({ ...json, ...overrides }), flags);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    decision = { decision: 'error', code: error.code, message: error.message };
  }
  if (parsed.booleans.has('--json')) io.out(JSON.stringify(decision));
  else io.out(describeDecision(decision));
  if (decision.decision === 'allow') return POLICY_EXIT.Allow;
  return decision.decision === 'deny' ? POLICY_EXIT.Deny : POLICY_EXIT.Error;
}

function describeDecision(d: PolicyDecision): string {
  switch (d.decision) {
    case 'allow':
      return `allow (rule ${d.rule}, ${d.steps} steps)`;
    case 'deny':
      return `deny: ${d.reason} (${d.steps} steps)`;
    case 'error':
      return `error ${d.code}: ${d.message}`;
  }
}

async function readJson(file: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

function contextOverrides(parsed: ParsedArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['action', 'requester', 'purpose'] as const) {
    const value = parsed.values.get(`--${key}`);
    if (value !== undefined) out[key] = value;
  }
  for (const key of ['time', 'height'] as const) {
    const value = parsed.values.get(`--${key}`);
    if (value === undefined) continue;
    if (!/^\d+$/.test(value)) throw new UsageError(`--${key} must be a non-negative integer, got "${value}"`);
    out[key] = Number(value);
  }
  if (parsed.booleans.has('--emergency')) out.emergency = true;
  return out;
}

async function runTemplates(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const name = parsed.positional[0];
  if (parsed.positional.length > 1) throw new UsageError(`expected at most one template name; usage: ${SUBCOMMANDS.templates!.usage}`);
  if (name === undefined) {
    for (const t of Object.values(POLICY_TEMPLATES)) {
      const params = t.params.length > 0 ? ` (needs --${t.params.join(', --')})` : '';
      io.out(`${t.name.padEnd(28)} ${t.summary}${params}`);
    }
    return 0;
  }
  const hospital = parsed.values.get('--hospital');
  const template = Object.hasOwn(POLICY_TEMPLATES, name) ? POLICY_TEMPLATES[name as keyof typeof POLICY_TEMPLATES] : undefined;
  if (template !== undefined && template.params.length > 0 && hospital === undefined) {
    io.out(template.source.trimEnd());
    io.err(`fill ${template.params.map((p) => `{{${p}}}`).join(', ')} with --${template.params.join(', --')} <id> before compiling`);
    return 0;
  }
  try {
    const made = instantiatePolicyTemplate(name, hospital === undefined ? {} : { hospital });
    io.out(made.source.trimEnd());
    return made.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    throw new UsageError(error.message);
  }
}
