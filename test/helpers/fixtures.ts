import pino from 'pino';
import { signTransaction } from '../../src/client/signTransaction.ts';
import { utf8 } from '../../src/codec/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { parseGenesis } from '../../src/state/genesis.ts';
import type { GenesisSpec } from '../../src/types/genesis.ts';
import type { Transaction, TxBody } from '../../src/types/transaction.ts';

/** A deterministic key pair named `name` (tests only). */
export function testKey(name: string): KeyPair {
  return keyPairFromSeed(sha256(utf8(`medchain-test-key/${name}`)));
}

export const silentLogger = pino({ level: 'silent' });

export const GENESIS_TIME = 1_764_000_000_000;

/** A one-hospital genesis for `engine`, with the hospital `hospital` holding all stake. */
export function testGenesis(engine: 'pos' | 'pow', extra: Partial<Record<string, unknown>> = {}): GenesisSpec {
  const hospital = testKey('hospital');
  return parseGenesis({
    chainId: 'medchain-test',
    time: GENESIS_TIME,
    consensus: engine === 'pos' ? { engine, slotMs: 1000 } : { engine, targetBlockMs: 1000, initialDifficulty: 16, minDifficulty: 1 },
    hospitals: [{ id: toHex(hospital.publicKey), name: 'General Hospital', stake: 100 }],
    ...extra,
  });
}

/** Signs `body` from `key` with `nonce` for the test chain. */
export function testTx(key: KeyPair, nonce: number, body: TxBody, chainId = 'medchain-test'): Transaction {
  return signTransaction({ chainId, sender: key.publicKey, nonce, body }, key.secretKey);
}
