/** Where a command writes: `out` is the answer (stdout), `err` is diagnostics (stderr). */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** A `medchain <name>` subcommand. `run` returns the process exit code; it never calls process.exit. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage lines shown by --help, e.g. `medchain policy compile <file>`. */
  readonly usage: string;
  /** At least one example invocation with a short explanation, shown by --help. */
  readonly examples: readonly string[];
  run(args: string[], io: CliIo, signal?: AbortSignal): Promise<number>;
}

/** Error a command throws for bad user input; the CLI prints its message (no stack) and exits with `exitCode`. */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
  }
}
