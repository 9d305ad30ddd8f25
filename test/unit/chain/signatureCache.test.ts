import { describe, expect, it } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import { PosSealer } from '../../../src/chain/sealer.ts';
import { InlineSignatureVerifier, SignatureCache, type SignatureVerifier } from '../../../src/chain/signatureVerifier.ts';
import { decodeBlock, type KnownTransactions } from '../../../src/codec/block.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { createMemoryChainStore } from '../../../src/store/index.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const genesis = testGenesis('pos');
const hospital = testKey('hospital');
const sealer = new PosSealer(hospital.secretKey);

function registrations(tag: string, n: number): Transaction[] {
  return Array.from({ length: n }, (_, i) => testTx(testKey(`${tag}/${i}`), 0, { type: TxType.RegisterIdentity, role: 'patient' }));
}

/** The same transaction with one byte of its sender changed and its signature kept (a forgery of a checked one). */
function sameSignatureOtherBody(tx: Transaction): Uint8Array {
  const bytes = tx.bytes.slice();
  const at = Buffer.from(bytes).indexOf(Buffer.from(tx.sender));
  expect(at).toBeGreaterThan(0);
  bytes[at + 5]! ^= 0x01;
  return bytes;
}

async function blockOf(txs: Transaction[]): Promise<Uint8Array> {
  const store = createMemoryChainStore();
  await store.start();
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(), logger: silentLogger, clock: () => GENESIS_TIME + 86_400_000 });
  await chain.start();
  const time = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: GENESIS_TIME + 1, parentState: chain.state })!;
  const built = chain.buildBlock(hospital.publicKey, time, txs);
  return (await chain.commitBuiltBlock(built, await sealer.seal(built.header)))!.bytes;
}

describe('SignatureCache', () => {
  it('vouches only for a transaction byte for byte the one that was checked', () => {
    const cache = new SignatureCache();
    const [tx] = registrations('cache/vouch', 1);
    expect(cache.has(tx!)).toBe(false);
    cache.add(tx!);
    expect(cache.has(tx!)).toBe(true);
    expect(cache.has(decodeTransaction(tx!.bytes.slice()))).toBe(true);
    const forged = sameSignatureOtherBody(tx!);
    expect(cache.has(decodeTransaction(forged))).toBe(false);
    // get() offers a candidate by signature; decodeBlock compares the bytes (tested below).
    expect(cache.get(forged)).toBe(tx);
    expect(cache.get(tx!.bytes.slice())).toBe(tx);
    expect(cache.get(new Uint8Array(10))).toBeUndefined();
  });

  it('forgets the oldest first when full; a transaction added again becomes the newest', () => {
    const cache = new SignatureCache(3);
    const txs = registrations('cache/evict', 5);
    for (const tx of txs.slice(0, 3)) cache.add(tx);
    cache.add(txs[0]!);
    cache.add(txs[3]!);
    expect(txs.map((tx) => cache.has(tx))).toEqual([true, false, true, true, false]);
    expect(cache.size).toBe(3);
  });
});

describe('decodeBlock with known transactions', () => {
  it('reuses a known transaction whose bytes match, decodes the rest, and ignores a known entry with other bytes', async () => {
    const txs = registrations('decode/known', 4);
    const bytes = await blockOf(txs);
    const plain = decodeBlock(bytes);
    const liar = decodeTransaction(sameSignatureOtherBody(plain.transactions[2]!));
    const known: KnownTransactions = { get: (wire) => (wire[wire.length - 1] === plain.transactions[1]!.signature[63] ? plain.transactions[1] : wire[wire.length - 1] === plain.transactions[2]!.signature[63] ? liar : undefined) };
    const reused = decodeBlock(bytes, known);
    expect(reused).toEqual(plain);
    expect(reused.transactions[1]).toBe(plain.transactions[1]);
    expect(reused.transactions[2]).not.toBe(liar);
    expect(reused.transactions[2]!.bytes).toEqual(plain.transactions[2]!.bytes);
  });
});

describe('Chain import with the signature cache', () => {
  it('does not take a cached transaction for a block transaction that only shares its signature', async () => {
    const [tx] = registrations('chain/forged', 1);
    const bytes = await blockOf([tx!]);
    const cache = new SignatureCache();
    const forged = decodeTransaction(sameSignatureOtherBody(decodeBlock(bytes).transactions[0]!));
    cache.add(forged);
    const block = decodeBlock(bytes, cache);
    expect(block.transactions[0]).not.toBe(forged);
    expect(block.transactions[0]!.bytes).toEqual(tx!.bytes);
  });

  it('takes a block’s checked transactions from the cache (no second decode or check), and checks the others', async () => {
    const txs = registrations('chain/warm', 6);
    const bytes = await blockOf(txs);
    const cache = new SignatureCache();
    const received = decodeBlock(bytes).transactions;
    for (const tx of received.slice(0, 4)) cache.add(tx);
    let checked = 0;
    const inline = new InlineSignatureVerifier(cache);
    const verifier: SignatureVerifier = { verifyTransactions: (list) => ((checked += list.filter((tx) => !cache.has(tx)).length), inline.verifyTransactions(list)) };
    const store = createMemoryChainStore();
    await store.start();
    const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier, knownTransactions: cache, logger: silentLogger, clock: () => GENESIS_TIME + 86_400_000 });
    await chain.start();
    const block = await chain.importBlock(bytes);
    expect(block.transactions.slice(0, 4).every((tx, i) => tx === received[i])).toBe(true);
    expect(block.transactions[4]).not.toBe(received[4]);
    expect(checked).toBe(2);
    expect(block.hash).toEqual(decodeBlock(bytes).hash);
  });
});
