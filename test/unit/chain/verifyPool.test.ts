import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../../../src/chain/verifyPool.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
import { sha256 } from '../../../src/crypto/hash.ts';
import { merkleRoot } from '../../../src/crypto/merkle.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { testKey, testTx } from '../../helpers/fixtures.ts';

function registrations(n: number): Transaction[] {
  return Array.from({ length: n }, (_, i) => testTx(testKey(`pool-${i}`), 0, { type: TxType.RegisterIdentity, role: 'patient' }));
}

/** The same transaction with one bit of its signature flipped (still well-formed). */
function corrupt(tx: Transaction): Transaction {
  const bytes = tx.bytes.slice();
  bytes[bytes.length - 10]! ^= 0x01;
  return decodeTransaction(bytes);
}

describe('WorkerSignatureVerifier', () => {
  const cache = new SignatureCache();
  const pool = new WorkerSignatureVerifier({ workers: 2, chunkSize: 16 }, cache);
  const txs = registrations(100);
  beforeAll(() => pool.start());
  afterAll(() => pool.stop());

  it('accepts a block of valid signatures spread over chunks and workers', async () => {
    expect(await pool.verifyTransactions(txs)).toBe(-1);
    expect(await pool.verifyTransactions([])).toBe(-1);
  });

  it('reports the index of the first invalid signature, whichever chunk holds it', async () => {
    for (const bad of [0, 15, 16, 57, 99]) {
      const block = txs.map((tx, i) => (i === bad ? corrupt(tx) : tx));
      expect(await pool.verifyTransactions(block)).toBe(bad);
    }
    const twoBad = txs.map((tx, i) => (i === 40 || i === 80 ? corrupt(tx) : tx));
    expect(await pool.verifyTransactions(twoBad)).toBe(40);
  });

  it('computes a Merkle root on a worker equal to the one computed here, for any leaf count', async () => {
    for (const n of [0, 1, 2, 3, 7, 128, 129, 1000]) {
      const leaves = Array.from({ length: n }, (_, i) => sha256(Uint8Array.of(i & 0xff, i >> 8, n & 0xff)));
      const root = await pool.merkleRoot(leaves);
      expect(root).toEqual(merkleRoot(leaves));
      // The caller's leaves are copied, not transferred away.
      expect(leaves.every((leaf) => leaf.length === 32)).toBe(true);
    }
    await expect(pool.merkleRoot([new Uint8Array(31)])).rejects.toThrow('Merkle leaf 0 must be 32 bytes (a transaction id), got 31');
  });

  it('skips transactions whose signature is cached (the warm path)', async () => {
    const forged = corrupt(txs[3]!);
    cache.add(forged);
    // The cache vouches for it: only the mempool may add to the cache, after checking.
    expect(await pool.verifyTransactions([txs[0]!, forged])).toBe(-1);
  });
});

describe('WorkerSignatureVerifier when a worker dies', () => {
  const txs = registrations(4);

  it('fails the jobs in flight, replaces the worker, and the next block is checked by the new one', async () => {
    const pool = new WorkerSignatureVerifier({ workers: 1, workerScript: new URL('../../helpers/crashingVerifyWorker.ts', import.meta.url) });
    await pool.start();
    try {
      await expect(pool.verifyTransactions(txs)).rejects.toThrow('verify worker crashed (test)');
      // The replacement answers its first message (this test worker then dies again on the one after).
      expect(await pool.verifyTransactions(txs)).toBe(-1);
      await expect(pool.merkleRoot([new Uint8Array(32)])).rejects.toThrow('verify worker crashed (test)');
    } finally {
      await pool.stop();
    }
  });

  it('drops a worker that dies before answering anything, and then says it is not running', async () => {
    const pool = new WorkerSignatureVerifier({ workers: 1, workerScript: new URL('../../helpers/brokenVerifyWorker.ts', import.meta.url) });
    await expect(pool.start()).rejects.toThrow('verify worker failed to load (test)');
    await expect(pool.verifyTransactions(txs)).rejects.toThrow('the signature verifier is not running');
    await pool.stop();
  });
});
