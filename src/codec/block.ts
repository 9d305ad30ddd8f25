import { bytesEqual } from './bytes.ts';
import { decodeCanonical, encodeCanonical, plain, type WireValue } from './canonical.ts';
import { DecodeError, DecodeReason } from './errors.ts';
import { expectArray, expectBytes, expectBytesUpTo, expectList, expectU32, expectU64 } from './fields.ts';
import { decodeTransaction, expectChainId } from './transaction.ts';
import { sha256 } from '../crypto/hash.ts';
import type { Block, BlockHeader } from '../types/block.ts';
import {
  ACCOUNT_ID_LENGTH,
  HASH_LENGTH,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_TXS,
  MAX_HEADER_BYTES,
  MAX_SEAL_BYTES,
  MAX_TX_BYTES,
} from '../types/primitives.ts';
import type { Transaction } from '../types/transaction.ts';

function headerWire(h: BlockHeader, seal: Uint8Array): WireValue[] {
  return [h.chainId, h.height, h.parent, BigInt(h.time), h.txRoot, h.stateRoot, h.proposer, seal];
}

/** The canonical encoding of a header; its sha256 is the block hash. */
export function encodeHeader(header: BlockHeader): Uint8Array {
  return encodeCanonical(headerWire(header, header.seal));
}

/** The header encoded with an empty seal: what a PoS proposer signs. */
export function encodeHeaderForSigning(header: BlockHeader): Uint8Array {
  return encodeCanonical(headerWire(header, new Uint8Array(0)));
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  const value = decodeCanonical(bytes, MAX_HEADER_BYTES, 'header');
  const [chainId, height, parent, time, txRoot, stateRoot, proposer, seal] = expectArray(value, 8, 'header');
  return Object.freeze({
    chainId: expectChainId(chainId, 'header.chainId'),
    height: expectU32(height, 'header.height'),
    parent: expectBytes(parent, HASH_LENGTH, 'header.parent'),
    time: expectU64(time, 'header.time'),
    txRoot: expectBytes(txRoot, HASH_LENGTH, 'header.txRoot'),
    stateRoot: expectBytes(stateRoot, HASH_LENGTH, 'header.stateRoot'),
    proposer: expectBytes(proposer, ACCOUNT_ID_LENGTH, 'header.proposer'),
    seal: expectBytesUpTo(seal, MAX_SEAL_BYTES, 'header.seal'),
  });
}

/** Encodes a block from its header bytes and the wire bytes of its transactions. */
export function encodeBlock(headerBytes: Uint8Array, txs: readonly Uint8Array[]): Uint8Array {
  return encodeCanonical([headerBytes, txs]);
}

/** Assembles a Block object from parts already decoded (block production, no re-decoding). */
export function assembleBlock(header: BlockHeader, transactions: readonly Transaction[]): Block {
  const headerBytes = encodeHeader(header);
  const bytes = encodeBlock(
    headerBytes,
    transactions.map((tx) => tx.bytes),
  );
  return Object.freeze({ header, headerBytes, hash: sha256(headerBytes), transactions, bytes });
}

/** A block's header, header bytes and hash, without decoding its transactions (for checks that need only the header). */
export function decodeBlockHeader(input: Uint8Array): Pick<Block, 'header' | 'headerBytes' | 'hash'> {
  const [headerValue] = expectArray(decodeCanonical(plain(input), MAX_BLOCK_BYTES, 'block'), 2, 'block');
  const headerBytes = expectBytesUpTo(headerValue, MAX_HEADER_BYTES, 'block.header');
  return { header: decodeHeader(headerBytes), headerBytes, hash: sha256(headerBytes) };
}

/**
 * Transactions this node decoded before (its cache of checked signatures): a block's transaction whose wire
 * bytes equal a known one's is that transaction, so it is neither parsed nor hashed again.
 */
export interface KnownTransactions {
  /** A known transaction that may have been decoded from these wire bytes: decodeBlock takes it only if its bytes are equal. */
  get(wire: Uint8Array): Transaction | undefined;
}

/**
 * Strictly decodes a block: the outer array, the header, then every transaction. A transaction whose bytes
 * equal one in `known` is taken from there (a gossiped block is mostly transactions the mempool already
 * decoded: 1,000 of them cost ~1.2 ms to parse and hash, and ~0.2 ms to find and compare).
 */
export function decodeBlock(input: Uint8Array, known?: KnownTransactions): Block {
  const bytes = plain(input);
  const value = decodeCanonical(bytes, MAX_BLOCK_BYTES, 'block');
  const [headerValue, txsValue] = expectArray(value, 2, 'block');
  const headerBytes = expectBytesUpTo(headerValue, MAX_HEADER_BYTES, 'block.header');
  const header = decodeHeader(headerBytes);
  const txList = expectList(txsValue as WireValue, MAX_BLOCK_TXS, 'block.transactions');
  const transactions: Transaction[] = new Array(txList.length);
  for (let i = 0; i < txList.length; i++) {
    const item = txList[i];
    // The field name is built only for the error: a string per transaction otherwise.
    const txBytes = item instanceof Uint8Array && item.length <= MAX_TX_BYTES ? plain(item) : expectBytesUpTo(item, MAX_TX_BYTES, `block.transactions[${i}]`);
    const seen = known?.get(txBytes);
    if (seen !== undefined && bytesEqual(seen.bytes, txBytes)) {
      transactions[i] = seen;
      continue;
    }
    try {
      transactions[i] = decodeTransaction(txBytes);
    } catch (error) {
      if (error instanceof DecodeError) {
        throw new DecodeError(error.reason, `block.transactions[${i}].${error.field}`, error.detail);
      }
      throw error;
    }
  }
  return Object.freeze({ header, headerBytes, hash: sha256(headerBytes), transactions, bytes });
}

export { DecodeError, DecodeReason };

/** What a block's bytes claim about its place in the chain (the header decoded strictly; nothing validated). */
export function describeBlock(bytes: Uint8Array): { hash: Uint8Array; parentHash: Uint8Array; height: number } {
  const { header, hash } = decodeBlockHeader(bytes);
  return { hash, parentHash: header.parent, height: header.height };
}

/** The same for an encoded header (a headers_by_range answer): its hash is the block's hash. */
export function describeHeader(headerBytes: Uint8Array): { hash: Uint8Array; parentHash: Uint8Array; height: number } {
  const header = decodeHeader(headerBytes);
  return { hash: sha256(headerBytes), parentHash: header.parent, height: header.height };
}
