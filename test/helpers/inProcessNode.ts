import { Chain } from '../../src/chain/chain.ts';
import { DEFAULT_MEMPOOL_OPTIONS, Mempool } from '../../src/chain/mempool.ts';
import { PosSealer } from '../../src/chain/sealer.ts';
import { InlineSignatureVerifier, SignatureCache } from '../../src/chain/signatureVerifier.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { createEngine } from '../../src/consensus/index.ts';
import { RecordQueries } from '../../src/emr/queries.ts';
import { RecordService } from '../../src/emr/recordService.ts';
import { createDispatcher } from '../../src/rpc/dispatcher.ts';
import { createNodeMethods } from '../../src/rpc/methods/index.ts';
import { CURRENT_POLICY_FLAGS } from '../../src/script/flags.ts';
import { createMemoryChainStore } from '../../src/store/index.ts';
import type { Block } from '../../src/types/block.ts';
import type { Transaction } from '../../src/types/transaction.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey } from './fixtures.ts';

/** What an RPC answer looks like to a test. */
export interface RpcAnswer {
  // Loosely typed on purpose, in tests only: the dispatcher validated each result against its schema already,
  // and the assertions say what each field must be.
  result?: any;
  error?: { code: number; message: string; data: { reason: string; [key: string]: unknown } };
}

/**
 * A single-validator PoS node in this process over the memory store, with the node's real method table
 * behind the real dispatcher (results schema-checked), and a manual clock and block producer.
 */
export async function inProcessNode() {
  const hospital = testKey('hospital');
  const genesis = testGenesis('pos');
  const store = createMemoryChainStore();
  await store.start();
  const now = { t: GENESIS_TIME + 5000 };
  const cache = new SignatureCache();
  const chain = new Chain(
    { genesis },
    { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(cache), knownTransactions: cache, logger: silentLogger, clock: () => now.t },
  );
  await chain.start();
  const mempool = new Mempool(DEFAULT_MEMPOOL_OPTIONS, {
    chainId: genesis.chainId,
    state: () => chain.state,
    nextBlock: () => ({ height: chain.head.header.height + 1, time: now.t, policyFlags: CURRENT_POLICY_FLAGS }),
    signatureCache: cache,
  });
  chain.onHead((block) => mempool.onBlock(block));
  const records = new RecordService({ chain, mempool, escrow: hospital, logger: silentLogger, clock: () => now.t });
  const queries = new RecordQueries(chain, records);
  const dispatcher = createDispatcher(
    createNodeMethods({ chain, mempool, records, queries, version: 'test', validator: hospital.publicKey, startedAt: 0, clock: () => now.t }),
    { logger: silentLogger, validateResults: true },
  );
  let id = 0;
  const call = async (method: string, params: unknown[] = []): Promise<RpcAnswer> => {
    const text = await dispatcher.handle(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }), { admin: false, transport: 'internal' });
    return JSON.parse(text!) as RpcAnswer;
  };
  const produce = async (): Promise<Block> => {
    const time = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: now.t, parentState: chain.state })!;
    now.t = time;
    const built = chain.buildBlock(hospital.publicKey, time, mempool.candidates());
    for (const { tx } of built.excluded) mempool.drop(tx);
    return (await chain.commitBuiltBlock(built, await new PosSealer(hospital.secretKey).seal(built.header)))!;
  };
  const submit = (tx: Transaction) => call('tx_submit', [toHex(tx.bytes)]);
  return { chain, mempool, store, records, queries, call, produce, submit, now, chainId: genesis.chainId };
}
