import { applyTx, type BlockContext } from './applyTx.ts';
import { nextStateRoot } from './commitment.ts';
import { BlockError, BlockErrorCode, TxError } from './errors.ts';
import { StateOverlay, type StateReader } from './overlay.ts';
import { BlockMemo } from './policyContext.ts';
import { beginPosBlock, type PosRules } from './pos.ts';
import type { Block } from '../types/block.ts';
import type { PolicyFlags } from '../script/flags.ts';
import type { Hash } from '../types/primitives.ts';
import type { StateEntry } from '../types/state.ts';
import type { Transaction } from '../types/transaction.ts';

/** The outcome of executing a block: what to write, how to undo it, and the resulting commitment. */
export interface BlockExecution {
  /** The block's write set in key order. */
  readonly writes: StateEntry[];
  /** Prior values of the written keys, in key order: applying them reverts the block. */
  readonly undo: StateEntry[];
  readonly stateRoot: Hash;
  /** The block's writes over the state it executed on (finished: read only). */
  readonly overlay: StateOverlay;
}

/** Applies every transaction of `block` to `pre` (the parent's state). Throws BlockError if any is invalid. */
export function applyBlock(pre: StateReader, block: Block, parentStateRoot: Hash, policyFlags: PolicyFlags, pos?: PosRules): BlockExecution {
  const { chainId, height, time, parent } = block.header;
  const ctx: BlockContext = { chainId, height, time, policyFlags, parentHash: parent, pos, memo: new BlockMemo() };
  const overlay = new StateOverlay(pre);
  if (pos !== undefined) beginPosBlock(overlay, ctx);
  block.transactions.forEach((tx, index) => {
    try {
      applyTx(overlay, tx, ctx);
    } catch (error) {
      if (error instanceof TxError) {
        throw new BlockError(BlockErrorCode.InvalidTransaction, `transaction ${index}: ${error.code}: ${error.message}`);
      }
      throw error;
    }
  });
  return finish(overlay, block.header.height, parentStateRoot);
}

/** A transaction left out of a block being built, and why. */
export interface ExcludedTransaction {
  readonly tx: Transaction;
  readonly error: TxError;
}

/**
 * Builds a block's contents: applies candidates in order, keeping those that apply and setting aside those
 * that do not (their writes are discarded), within `maxTxs`.
 */
export function buildBlockContents(
  pre: StateReader,
  candidates: Iterable<Transaction>,
  ctx: BlockContext,
  parentStateRoot: Hash,
  maxTxs: number,
): BlockExecution & { included: Transaction[]; excluded: ExcludedTransaction[] } {
  const overlay = new StateOverlay(pre);
  if (ctx.pos !== undefined) beginPosBlock(overlay, ctx);
  const memo = new BlockMemo();
  const txCtx: BlockContext = { ...ctx, memo };
  const included: Transaction[] = [];
  const excluded: ExcludedTransaction[] = [];
  for (const tx of candidates) {
    if (included.length >= maxTxs) break;
    const attempt = overlay.fork();
    try {
      applyTx(attempt, tx, txCtx);
    } catch (error) {
      if (error instanceof TxError) {
        // The memo may hold what this transaction read after its own (now dropped) writes.
        memo.clear();
        excluded.push({ tx, error });
        continue;
      }
      throw error;
    }
    overlay.merge(attempt);
    included.push(tx);
  }
  return { ...finish(overlay, ctx.height, parentStateRoot), included, excluded };
}

/** `overlay` sits directly on `pre`, so the undo log is `pre`'s value of each written key (sorted once, here). */
function finish(overlay: StateOverlay, height: number, parentStateRoot: Hash): BlockExecution {
  const { writes, undo } = overlay.writesAndUndo();
  return { writes, undo, stateRoot: nextStateRoot(parentStateRoot, height, writes), overlay };
}
