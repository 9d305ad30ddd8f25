/**
 * CPU time of this process's threads, grouped by what they do, read from Linux's /proc/self/task/<tid>/schedstat
 * (nanoseconds a thread has run) and comm (its name). On two cores every thread competes with the signature
 * workers, so a benchmark that only times the main thread cannot say where the process's CPU went; this can.
 * Elsewhere than Linux there is no such file and the snapshot is null.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { VERIFY_THREAD_NAME } from '../../src/chain/verifyPool.ts';

export const THREAD_ROLES = ['main', 'verify', 'libuv', 'v8', 'other'] as const;
/**
 * main: the JavaScript main thread (tid = pid). verify: the signature workers (named VERIFY_THREAD_NAME).
 * libuv: libuv's thread pool, where classic-level writes its batches (and LevelDB's compaction thread, which
 * inherits the name of the pool thread that starts it). v8: V8's helper threads (parallel and concurrent GC,
 * background compilation), shared by every isolate, the workers' included. other: anything else.
 */
export type ThreadRole = (typeof THREAD_ROLES)[number];

export type ThreadCpuMs = Record<ThreadRole, number>;

/** Nanoseconds run so far by each live thread, keyed by tid. */
export interface ThreadCpuSnapshot {
  readonly threads: ReadonlyMap<number, { readonly role: ThreadRole; readonly ns: number }>;
}

/** The role a thread plays, from its tid and name (Linux keeps 15 characters of a thread's name). */
export function threadRole(tid: number, name: string, pid = process.pid): ThreadRole {
  if (tid === pid) return 'main';
  if (name === VERIFY_THREAD_NAME) return 'verify';
  if (name === 'libuv-worker') return 'libuv';
  if (name === 'V8Worker' || name === 'DelayedTaskSche') return 'v8';
  return 'other';
}

/** Reads every thread's run time now; null where /proc/self/task is missing (not Linux). */
export function takeThreadCpu(): ThreadCpuSnapshot | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const threads = new Map<number, { role: ThreadRole; ns: number }>();
  for (const entry of tids) {
    const tid = Number(entry);
    try {
      const name = readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trimEnd();
      // schedstat: time on the CPU (ns), time waiting to run (ns), timeslices.
      const ns = Number(readFileSync(`/proc/self/task/${entry}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(ns)) threads.set(tid, { role: threadRole(tid, name), ns });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { threads };
}

/**
 * CPU milliseconds each role spent between two snapshots. A thread that started in between counts from zero;
 * one that ended in between is lost (take `after` before stopping worker threads).
 */
export function threadCpuBetween(before: ThreadCpuSnapshot, after: ThreadCpuSnapshot): ThreadCpuMs {
  const out: ThreadCpuMs = { main: 0, verify: 0, libuv: 0, v8: 0, other: 0 };
  for (const [tid, { role, ns }] of after.threads) {
    const start = before.threads.get(tid)?.ns ?? 0;
    if (ns > start) out[role] += (ns - start) / 1e6;
  }
  return out;
}

/** Every role's milliseconds added up. */
export function totalCpuMs(cpu: ThreadCpuMs): number {
  return THREAD_ROLES.reduce((sum, role) => sum + cpu[role], 0);
}
