import type { Logger } from 'pino';
import { toHex } from '../codec/bytes.ts';
import type { AccountId } from '../types/primitives.ts';
import type { Startable } from '../util/lifecycle.ts';
import type { Chain } from './chain.ts';
import type { Mempool } from './mempool.ts';
import type { Sealer } from './sealer.ts';
import type { VotePool } from './votes.ts';
import type { Block } from '../types/block.ts';
import { TxType } from '../types/transaction.ts';

export interface BlockProducerModules {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly sealer: Sealer;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Finality votes to include ahead of transactions (PoS). */
  readonly votes?: VotePool;
  /** Announces a produced block (gossip). */
  readonly publish?: (block: Block) => void;
}

/** How long to wait before asking the engine again when this node may not propose. */
const IDLE_RETRY_MS = 1000;

/**
 * Builds blocks on the head whenever the engine gives this node a turn (PoS: its slots; PoW: always),
 * seals them and commits them. A new head from elsewhere abandons the block being sealed.
 */
export class BlockProducer implements Startable {
  readonly #proposer: AccountId;
  readonly #modules: BlockProducerModules;
  #controller: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: { proposer: AccountId }, modules: BlockProducerModules) {
    this.#proposer = options.proposer;
    this.#modules = modules;
  }

  async start(): Promise<void> {
    await this.#modules.sealer.start();
    this.#controller = new AbortController();
    this.#loop = this.#run(this.#controller.signal);
  }

  async stop(): Promise<void> {
    this.#controller?.abort();
    await this.#loop;
    await this.#modules.sealer.stop();
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { logger } = this.#modules;
    while (!signal.aborted) {
      try {
        await this.#produceOne(signal);
      } catch (error) {
        if (signal.aborted) break;
        logger.error({ err: error }, 'block production failed; retrying');
        await sleep(IDLE_RETRY_MS, signal);
      }
    }
  }

  async #produceOne(signal: AbortSignal): Promise<void> {
    const { chain, mempool, sealer, logger, clock } = this.#modules;
    const head = chain.head;
    const time = chain.engine.nextProposalTime(chain.parentInfo(head), this.#proposer, { now: clock(), parentState: chain.state });
    if (time === null) {
      await sleep(IDLE_RETRY_MS, signal);
      return;
    }
    // Wait for our turn, but give it up if another block becomes the head meanwhile.
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = chain.onHead(() => attempt.abort());
    try {
      await sleep(time - clock(), attempt.signal);
      if (attempt.signal.aborted) return;
      const votes = this.#modules.votes;
      const built = chain.buildBlock(this.#proposer, time, [...(votes?.candidates() ?? []), ...mempool.candidates()]);
      for (const { tx, error } of built.excluded) {
        if (tx.body.type === TxType.Vote) {
          votes?.drop(tx);
          continue;
        }
        logger.info({ tx: mempool.describe(tx), reason: error.code }, `dropped a pending transaction: ${error.message}`);
        mempool.drop(tx);
      }
      const sealed = await sealer.seal(built.header, attempt.signal);
      if (sealed === null) return;
      const started = clock();
      const block = await chain.commitBuiltBlock(built, sealed);
      if (block !== null) {
        this.#modules.publish?.(block);
        logger.info(
          { height: block.header.height, txs: block.transactions.length, hash: toHex(block.hash).slice(0, 16), commitMs: clock() - started },
          'produced block',
        );
      }
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
