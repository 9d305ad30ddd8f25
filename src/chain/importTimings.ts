/**
 * Where one block import spends its time, in wall-clock milliseconds (for benchmarks; see
 * `ChainModules.onImportTimings`). Signature checks run on worker threads while the block executes, so
 * `verifyWait` is only the time the import still waited for them once execution was done.
 */
export interface ImportTimings {
  /** Strict decode of the block and every transaction, transaction ids hashed. */
  readonly decode: number;
  /** The Merkle root over the transaction ids. */
  readonly txRoot: number;
  /** Everything else before execution: known-block and parent lookups, the branch, engine (seal) rules. */
  readonly checks: number;
  /** applyBlock: every transaction (policies included) and the state root. */
  readonly execute: number;
  /** Waiting for the signature checks after execution finished. */
  readonly verifyWait: number;
  /** Decoding the next queued block and queueing its checks, while this one's finish (pipelined imports). */
  readonly stageNext: number;
  /** Building the write list (block, undo log, indexes, score). */
  readonly prepare: number;
  /**
   * The store's synced batch (LevelDB), from the call to its promise resolving. It is written behind: the
   * queue's next block is imported meanwhile, so this is only on the import's path for the last block queued.
   */
  readonly write: number;
  /** Waiting for the previous block's batch to be durable before this one's could start (LevelDB on the import's path). */
  readonly writeWait: number;
  /** From the start of the import to the new head being visible. */
  readonly total: number;
  readonly transactions: number;
}

/** Collects phase durations of one import; only created when someone listens, so imports pay nothing otherwise. */
export class ImportClock {
  readonly #start = performance.now();
  #last = this.#start;
  readonly #phases: Record<string, number> = {};

  /**
   * Ends the phase that started at the previous mark; with `ms`, records a phase that ran earlier instead
   * (a block decoded ahead of its turn).
   */
  mark(phase: Exclude<keyof ImportTimings, 'total' | 'transactions'>, ms?: number): void {
    const now = performance.now();
    this.#phases[phase] = (this.#phases[phase] ?? 0) + (ms ?? now - this.#last);
    this.#last = now;
  }

  finish(transactions: number): ImportTimings {
    const p = this.#phases;
    return {
      decode: p.decode ?? 0,
      txRoot: p.txRoot ?? 0,
      checks: p.checks ?? 0,
      execute: p.execute ?? 0,
      verifyWait: p.verifyWait ?? 0,
      stageNext: p.stageNext ?? 0,
      prepare: p.prepare ?? 0,
      write: p.write ?? 0,
      writeWait: p.writeWait ?? 0,
      total: performance.now() - this.#start,
      transactions,
    };
  }
}
