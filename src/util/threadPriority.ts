import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/**
 * Background threads run below the main thread, which serves imports, gossip, RPC and consensus duties:
 *   main thread              nice +0
 *   signature verify workers nice +5   (bulk work a block or a sync waits for)
 *   PoW miner                nice +10  (a lottery ticket: its CPU only buys a chance at the next block)
 * Under contention a nice +5 thread gets about a third of a normal thread's share and +10 about a tenth
 * (Linux CFS weights 1024 / 335 / 110); on an idle core they run at full speed.
 *
 * The verify workers' +5, measured with bench:validate (plain and EMR blocks of 5,000, pipelined, 2 workers on
 * 2 cores): throughput unchanged within noise; the main thread's own phases back to their uncontended times
 * (decoding a plain block 8.8 -> 4.9 ms, executing an EMR block 103 -> 54 ms) and LevelDB's batch write
 * 45 -> 28 ms, because the workers yield the core instead of taking turns with them. +10 gave the same; +5
 * starves them less on a shared host. The miner's +10, in the consensus lab (bench:consensus --engines pow:
 * 4 nodes on 2 cores, each mining; one run per setting, and PoW runs vary): with every thread at +0, blocks
 * propagated first -> each at p50 17.8 ms and the 1,500 tx/s step included 848 tx/s; with the verify workers
 * at +5 and the miner at +10, 10.1 and 9.8 ms, and 1,162 and 1,014 tx/s.
 */
export const VERIFY_NICENESS = 5;
export const POW_MINER_NICENESS = 10;

/**
 * Lowers the calling thread's priority by `niceness` (capped at 19), not the process's: on Linux a nice value
 * belongs to a thread, and /proc/thread-self names the caller's id. Elsewhere (no such link) nothing changes,
 * since setPriority on a process id would lower the main thread too. A hint only: a failure leaves the priority.
 * Worker threads only: on the main thread it does nothing.
 */
export function lowerThreadPriority(niceness: number): void {
  if (niceness === 0 || isMainThread) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + niceness));
  } catch {
    // Not Linux, or not permitted: the thread keeps its priority.
  }
}

/** Throws RangeError unless `niceness` is a nice increment, an integer from 0 to 19. */
export function checkNiceness(niceness: number, what: string): number {
  if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new RangeError(`${what} must be an integer from 0 to 19, got ${String(niceness)}`);
  return niceness;
}
