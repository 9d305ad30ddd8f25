import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Chain } from '../chain/chain.ts';
import { SignatureCache } from '../chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../chain/verifyPool.ts';
import { createEngine } from '../consensus/index.ts';
import { createLevelChainStore } from '../store/index.ts';
import type { ChainStore } from '../store/interface.ts';
import type { GenesisSpec } from '../types/genesis.ts';
import type { Logger } from '../util/logger.ts';
import type { Startable } from '../util/lifecycle.ts';

/** The chain database inside a datadir (the same directory MedchainNode opens). */
export function chainDatabaseDir(datadir: string): string {
  return join(datadir, 'chain');
}

/** A datadir opened for an offline command: store and chain, no RPC, mempool or block production. */
export interface OfflineChain {
  readonly chain: Chain;
  readonly store: ChainStore;
  /** Stops the chain, the signature workers and the store, in that order; safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenChainModules {
  readonly logger: Logger;
  readonly clock?: () => number;
}

/**
 * Opens `<datadir>/chain` for `genesis` the way a starting node does (locking the datadir, writing genesis
 * into a fresh one, refusing one made for another genesis) and loads the head state. On failure, whatever
 * was started is stopped again before the error is thrown.
 */
export async function openChain(datadir: string, genesis: GenesisSpec, modules: OpenChainModules): Promise<OfflineChain> {
  const started: Startable[] = [];
  const close = async (): Promise<void> => {
    while (started.length > 0) await started.pop()!.stop();
  };
  try {
    const store = createLevelChainStore(chainDatabaseDir(datadir));
    await store.start();
    started.push(store);
    const verifier = new WorkerSignatureVerifier({}, new SignatureCache());
    await verifier.start();
    started.push(verifier);
    const chain = new Chain(
      { genesis },
      { store, engine: createEngine(genesis), verifier, logger: modules.logger.child({ module: 'chain' }), clock: modules.clock ?? Date.now },
    );
    await chain.start();
    started.push(chain);
    return { chain, store, close };
  } catch (error) {
    await close().catch((stopError: unknown) => modules.logger.error({ err: stopError }, 'could not close the datadir after a failed open'));
    throw error;
  }
}

/** A datadir without a chain database: an offline reader must not create one. */
export class NoChainDatabaseError extends Error {
  constructor(datadir: string) {
    super(`${datadir} holds no chain database (${chainDatabaseDir(datadir)} is missing); check --datadir`);
    this.name = 'NoChainDatabaseError';
  }
}

/** Opens (and locks) only the chain database of an existing datadir, for commands that read blocks. */
export async function openChainStore(datadir: string): Promise<ChainStore> {
  if (!existsSync(chainDatabaseDir(datadir))) throw new NoChainDatabaseError(datadir);
  const store = createLevelChainStore(chainDatabaseDir(datadir));
  await store.start();
  return store;
}
