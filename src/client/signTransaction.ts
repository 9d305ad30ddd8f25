/** Transaction signing for clients; the same function nodes use to sign votes and evidence. */
export { signTransaction } from '../codec/transaction.ts';
