import { afterEach, describe, expect, it } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import type { ImportTimings } from '../../../src/chain/importTimings.ts';
import { PosSealer } from '../../../src/chain/sealer.ts';
import { InlineSignatureVerifier, type SignatureVerifier } from '../../../src/chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../../../src/chain/verifyPool.ts';
import { assembleBlock, decodeBlock, encodeBlock } from '../../../src/codec/block.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { merkleRoot } from '../../../src/crypto/merkle.ts';
import { BlockErrorCode } from '../../../src/state/errors.ts';
import { createMemoryChainStore } from '../../../src/store/index.ts';
import type { BlockHeader } from '../../../src/types/block.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const genesis = testGenesis('pos');
const hospital = testKey('hospital');
const sealer = new PosSealer(hospital.secretKey);
const far = { t: GENESIS_TIME + 86_400_000 };

async function startChain(verifier: SignatureVerifier, onImportTimings?: (t: ImportTimings) => void): Promise<Chain> {
  const store = createMemoryChainStore();
  await store.start();
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier, logger: silentLogger, clock: () => far.t, onImportTimings });
  await chain.start();
  return chain;
}

function registrations(tag: string, n: number): Transaction[] {
  return Array.from({ length: n }, (_, i) => testTx(testKey(`${tag}/${i}`), 0, { type: TxType.RegisterIdentity, role: 'patient' }));
}

/** The same transaction with one bit of its signature flipped (still well-formed). */
function badSignature(tx: Transaction): Transaction {
  const bytes = tx.bytes.slice();
  bytes[bytes.length - 10]! ^= 0x01;
  return decodeTransaction(bytes);
}

/** A producer that seals whatever it is given: its own blocks are never signature-checked. */
async function producer() {
  const chain = await startChain(new InlineSignatureVerifier());
  const nextTime = () => chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: chain.head.header.time + 1, parentState: chain.state })!;
  return {
    chain,
    async block(txs: Transaction[]): Promise<Uint8Array> {
      const built = chain.buildBlock(hospital.publicKey, nextTime(), txs);
      expect(built.excluded).toEqual([]);
      return (await chain.commitBuiltBlock(built, await sealer.seal(built.header)))!.bytes;
    },
    /** A sealed block on the head with `edit` applied to its header and transactions, not committed. */
    async forged(txs: Transaction[], edit: (header: BlockHeader, txs: Transaction[]) => [BlockHeader, Transaction[]]): Promise<Uint8Array> {
      const built = chain.buildBlock(hospital.publicKey, nextTime(), txs);
      const [header, list] = edit(built.header, [...built.transactions]);
      return assembleBlock(await sealer.seal({ ...header, txRoot: merkleRoot(list.map((tx) => tx.id)) }), list).bytes;
    },
  };
}

describe('Chain import pipeline: signatures checked while the block executes, the next queued block staged ahead', () => {
  const pools: WorkerSignatureVerifier[] = [];
  const pool = async (): Promise<WorkerSignatureVerifier> => {
    const p = new WorkerSignatureVerifier({ workers: 1, chunkSize: 8 });
    await p.start();
    pools.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.stop()));
  });

  it('commits queued imports in call order and ends where block-by-block imports end', async () => {
    const p = await producer();
    const blocks = [];
    for (let b = 0; b < 5; b++) blocks.push(await p.block(registrations(`queued/${b}`, 20)));
    const timings: ImportTimings[] = [];
    const queued = await startChain(await pool(), (t) => timings.push(t));
    const order: number[] = [];
    await Promise.all(blocks.map((bytes, i) => queued.importBlock(bytes).then(() => order.push(i))));
    const oneByOne = await startChain(await pool());
    for (const bytes of blocks) await oneByOne.importBlock(bytes);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(queued.head.hash).toEqual(p.chain.head.hash);
    expect(oneByOne.head.hash).toEqual(p.chain.head.hash);
    expect(timings.map((t) => t.transactions)).toEqual([20, 20, 20, 20, 20]);
    // Blocks after the first were decoded while the one before them finished.
    expect(timings.slice(1).every((t) => t.decode > 0)).toBe(true);
  });

  it('refuses a bad block in a queued range alone; its queued child is refused as an invalid descendant', async () => {
    const p = await producer();
    const good = await p.block(registrations('range/0', 10));
    const txs = registrations('range/1', 10);
    txs[6] = badSignature(txs[6]!);
    const bad = await p.block(txs);
    const child = await p.block(registrations('range/2', 10));
    const chain = await startChain(await pool());
    const results = await Promise.allSettled([chain.importBlock(good), chain.importBlock(bad), chain.importBlock(child)]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: BlockErrorCode.BadSignature, message: 'transaction 6 has an invalid signature' } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: BlockErrorCode.InvalidAncestor } });
    expect(chain.head.header.height).toBe(1);
  });

  it('imports a block whose signatures its caller vouches for (a trusted checkpoint) without checking them, and checks all else', async () => {
    const p = await producer();
    const txs = registrations('trusted/1', 10);
    txs[3] = badSignature(txs[3]!);
    const forgedSig = await p.block(txs);
    const wrongRoot = await p.forged(registrations('trusted/2', 4), (h, list) => [{ ...h, stateRoot: new Uint8Array(32).fill(7) }, list]);
    const checked = await startChain(await pool());
    await expect(checked.importBlock(forgedSig)).rejects.toMatchObject({ code: BlockErrorCode.BadSignature });
    const trusting = await startChain(await pool());
    // Queued together: the second is staged ahead of its turn with its checks skipped too.
    const [first, second] = await Promise.allSettled([
      trusting.importBlock(forgedSig, { signaturesTrusted: true }),
      trusting.importBlock(wrongRoot, { signaturesTrusted: true }),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { code: BlockErrorCode.BadStateRoot } });
    expect(trusting.head.hash).toEqual(decodeBlock(forgedSig).hash);
  });

  it('still reports a bad signature before an invalid transaction or a wrong state root, and writes nothing', async () => {
    const p = await producer();
    await p.block(registrations('order/0', 4));
    const base = registrations('order/1', 6);
    const duplicate = (h: BlockHeader, list: Transaction[]): [BlockHeader, Transaction[]] => [h, [...list, list[0]!]];
    const wrongRoot = (h: BlockHeader, list: Transaction[]): [BlockHeader, Transaction[]] => [{ ...h, stateRoot: new Uint8Array(32).fill(7) }, list];
    const withBadSig = base.map((tx, i) => (i === 3 ? badSignature(tx) : tx));
    const cases: [Transaction[], typeof duplicate, string][] = [
      [base, duplicate, BlockErrorCode.InvalidTransaction],
      [withBadSig, duplicate, BlockErrorCode.BadSignature],
      [base, wrongRoot, BlockErrorCode.BadStateRoot],
      [withBadSig, wrongRoot, BlockErrorCode.BadSignature],
    ];
    for (const [txs, edit, code] of cases) {
      const chain = await startChain(await pool());
      await chain.importBlock((await p.chain.getBlockByHeight(1))!.bytes);
      const forged = await p.forged(txs, edit);
      await expect(chain.importBlock(forged)).rejects.toMatchObject({ code });
      expect(chain.head.header.height).toBe(1);
      expect(await chain.store.getBlockMeta(decodeBlock(forged).hash)).toBeUndefined();
    }
  });

  it('reports a wrong transaction root (hashed on a worker) before any later layer, staged ahead or not, and writes nothing', async () => {
    const p = await producer();
    const first = await p.block(registrations('root/0', 4));
    const base = registrations('root/1', 6);
    const withBadSig = base.map((tx, i) => (i === 3 ? badSignature(tx) : tx));
    // A header whose txRoot commits to other transactions, sealed by the real proposer.
    const rootOf = (list: Transaction[]): Uint8Array => merkleRoot(list.slice(1).map((tx) => tx.id));
    const forgeries: [string, (h: BlockHeader, list: Transaction[]) => [BlockHeader, Transaction[]], Transaction[]][] = [
      ['wrong root', (h, list) => [{ ...h, txRoot: rootOf(list) }, list], base],
      ['wrong root, bad signature and wrong state root', (h, list) => [{ ...h, txRoot: rootOf(list), stateRoot: new Uint8Array(32).fill(7) }, list], withBadSig],
      ['wrong root and a bad seal', (h, list) => [{ ...h, txRoot: rootOf(list), time: h.time + 1 }, list], base],
    ];
    for (const [name, edit, txs] of forgeries) {
      const built = p.chain.buildBlock(hospital.publicKey, p.chain.engine.nextProposalTime(p.chain.parentInfo(), hospital.publicKey, { now: p.chain.head.header.time + 1, parentState: p.chain.state })!, txs);
      const [header, list] = edit(built.header, [...built.transactions]);
      const forged = assembleBlock(await sealer.seal(header), list).bytes;
      for (const queued of [false, true]) {
        const chain = await startChain(await pool());
        // Queued behind `first`, the forged block is staged ahead (its root sent to a worker then).
        const imports = queued ? [chain.importBlock(first), chain.importBlock(forged)] : [chain.importBlock(first).then(() => chain.importBlock(forged))];
        const results = await Promise.allSettled(imports);
        expect(results.at(-1), name).toMatchObject({ status: 'rejected', reason: { code: BlockErrorCode.BadTxRoot } });
        expect(chain.head.header.height).toBe(1);
        expect(await chain.store.getBlockMeta(decodeBlock(forged).hash)).toBeUndefined();
      }
    }
  });

  it('does not hold a header against its real body after a copy with a body that misses its root was refused', async () => {
    const p = await producer();
    const first = decodeBlock(await p.block(registrations('swap/0', 3)));
    const second = await p.block(registrations('swap/1', 3));
    // The same validly sealed header with one transaction dropped: anyone relaying the block can make this.
    const swapped = encodeBlock(first.headerBytes, first.transactions.slice(1).map((tx) => tx.bytes));
    expect(decodeBlock(swapped).hash).toEqual(first.hash);
    for (const queued of [false, true]) {
      const chain = await startChain(await pool());
      if (queued) {
        const results = await Promise.allSettled([chain.importBlock(swapped), chain.importBlock(first.bytes), chain.importBlock(second)]);
        expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
        expect(results[0]).toMatchObject({ reason: { code: BlockErrorCode.BadTxRoot } });
      } else {
        await expect(chain.importBlock(swapped)).rejects.toMatchObject({ code: BlockErrorCode.BadTxRoot });
        await chain.importBlock(first.bytes);
        await chain.importBlock(second);
      }
      expect(chain.head.hash).toEqual(decodeBlock(second).hash);
    }
  });

  it('does not check the signatures of a queued orphan ahead of its turn', async () => {
    const p = await producer();
    const first = await p.block(registrations('orphan/0', 5));
    await p.block(registrations('orphan/1', 5)); // never handed to the importer
    const orphan = await p.block(registrations('orphan/2', 5));
    const inner = await pool();
    let checked = 0;
    const counting: SignatureVerifier = { verifyTransactions: (txs) => ((checked += txs.length), inner.verifyTransactions(txs)) };
    const chain = await startChain(counting);
    // `orphan` builds on a block this chain never gets: it waits behind `first` and is refused unchecked.
    const results = await Promise.allSettled([chain.importBlock(first), chain.importBlock(orphan)]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: BlockErrorCode.UnknownParent } });
    expect(checked).toBe(5);
  });

  it('does not check the signatures of a queued block the chain already has', async () => {
    const p = await producer();
    const first = await p.block(registrations('known/0', 5));
    const second = await p.block(registrations('known/1', 5));
    const inner = await pool();
    let checked = 0;
    const counting: SignatureVerifier = { verifyTransactions: (txs) => ((checked += txs.length), inner.verifyTransactions(txs)) };
    const chain = await startChain(counting);
    await chain.importBlock(first);
    expect(checked).toBe(5);
    const results = await Promise.allSettled([chain.importBlock(second), chain.importBlock(first)]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: BlockErrorCode.AlreadyKnown } });
    expect(checked).toBe(10);
  });
});
