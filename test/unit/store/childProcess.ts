import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Node 24 from node_modules: the system node is too old to strip types. */
export const NODE_BIN = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));

/** Absolute path of a script under test/fixtures/. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

/** A child running a fixture with Node 24, its stdout collected line by line. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line matching `predicate`; rejects if the child exits first. */
  waitForLine(predicate: (line: string) => boolean): Promise<string>;
  /** Resolves once the child has exited and its pipes are drained. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Spawns `node <fixture> ...args`. */
export function spawnFixture(fixture: string, args: readonly string[]): Child {
  const child = spawn(NODE_BIN, [fixturePath(fixture), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.predicate(line)) waiters.splice(i, 1)[0]!.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    // 'close' rather than 'exit': every line the child wrote has been read by then.
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return {
    process: child,
    lines,
    exited,
    waitForLine(predicate) {
      const seen = lines.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        waiters.push({ predicate, resolve });
        void exited.then(({ code, signal, stderr: err }) =>
          reject(new Error(`child exited (code ${code}, signal ${signal}) before the expected line; stderr:\n${err}`)),
        );
      });
    },
  };
}
