import { decodeTransaction, encodeSignedTransaction, encodeUnsignedTransaction } from '../codec/transaction.ts';
import { sign } from '../crypto/ed25519.ts';
import type { Transaction, UnsignedTransaction } from '../types/transaction.ts';

/** Signs a transaction body with the sender's 64-byte secret key and returns it decoded, as a node would see it. */
export function signTransaction(unsigned: UnsignedTransaction, secretKey: Uint8Array): Transaction {
  const signature = sign(encodeUnsignedTransaction(unsigned), secretKey);
  return decodeTransaction(encodeSignedTransaction(unsigned, signature));
}
