#!/usr/bin/env node
import { CliError, runCli } from './runCli.ts';

/** The `medchain` executable: signals and exit codes live here, everything else in runCli. */
const controller = new AbortController();
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write('forced exit\n');
      process.exit(130);
    }
    controller.abort();
  });
}

// A reader that stops early (`medchain status | head`) closes the pipe: that is not an error worth a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// A promise rejection nobody handled is our bug, not the input's: say so loudly and keep the node serving
// (every component handles its own errors; this is the backstop, not the mechanism).
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`medchain: internal error (unhandled rejection): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
});

const io = { out: (line: string) => process.stdout.write(line + '\n'), err: (line: string) => process.stderr.write(line + '\n') };
try {
  process.exitCode = await runCli(process.argv.slice(2), io, controller.signal);
} catch (error) {
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
  io.err(`medchain: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof CliError) && process.env.MEDCHAIN_DEBUG) io.err(String((error as Error).stack));
}
// Workers or sockets left by a failed start must not keep the process alive, but output written to a pipe
// is flushed asynchronously: exit once both streams have drained what was written before.
const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
process.exit(code);
