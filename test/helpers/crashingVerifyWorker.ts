/**
 * A verify worker that answers its first message (the pool's warm-up) as the real one would, then throws on
 * the next: an uncaught error kills the thread, as a crash or running out of memory would.
 */
import { parentPort } from 'node:worker_threads';

let messages = 0;
parentPort!.on('message', ({ id }: { id: number }) => {
  if (messages++ === 0) {
    parentPort!.postMessage({ id, firstInvalid: -1 });
    return;
  }
  throw new Error('verify worker crashed (test)');
});
