import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../../../src/chain/verifyPool.ts';
import { decodeTransaction } from '../../../src/codec/transaction.ts';
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

  it('skips transactions whose signature is cached (the warm path)', async () => {
    const forged = corrupt(txs[3]!);
    cache.add(forged);
    // The cache vouches for it: only the mempool may add to the cache, after checking.
    expect(await pool.verifyTransactions([txs[0]!, forged])).toBe(-1);
  });
});
