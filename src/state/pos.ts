import { bytesEqual, compareBytes, toHex } from '../codec/bytes.ts';
import { decodeHeader, encodeHeaderForSigning } from '../codec/block.ts';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { DecodeError } from '../codec/errors.ts';
import { expectArray, expectBigU64, expectBytes, expectList, expectU32 } from '../codec/fields.ts';
import { decodeTransaction, signingBytesOf } from '../codec/transaction.ts';
import { verify } from '../crypto/ed25519.ts';
import type { BlockHeader } from '../types/block.ts';
import { ACCOUNT_ID_LENGTH, type AccountId, type Hash } from '../types/primitives.ts';
import {
  EvidenceKind,
  TxType,
  type EvidenceBody,
  type StakeBody,
  type Transaction,
  type UnstakeBody,
  type VoteBody,
} from '../types/transaction.ts';
import { getValidatorSet } from './accessors.ts';
import type { BlockContext } from './applyTx.ts';
import { TxError, TxErrorCode } from './errors.ts';
import { finalityOf, justifiedAt, putFinality, type Finality } from './finality.ts';
import type { StateOverlay, StateReader } from './overlay.ts';
import { stateKey } from './stateKeys.ts';
import { encodeValidatorSet, type Validator } from './stateValues.ts';

/**
 * Proof-of-stake rules in the state transition: ancestor hashes, finality votes (Casper FFG with every
 * block a checkpoint), evidence and slashing, and stake changes that take effect at a defined height.
 *
 * Votes are transactions so that they are ordered, committed to by the block and replayed identically by
 * every node, including one syncing from genesis: justification and finality are state, and fork choice
 * reads them. Safety is FFG's: two conflicting finalized blocks need more than a third of the stake to sign
 * two votes for one target height or one vote surrounding another, and either is slashable evidence.
 */

/** What the transition needs to know of a PoS chain. */
export interface PosRules {
  /** A stake or unstake included at height h changes the validator set from height h + this. */
  readonly stakeDelayBlocks: number;
}

/**
 * Ancestor hashes, votes and tallies are kept for this many heights, and always above the justified block
 * (a vote's target must be above its source, so a long stall must not prune what the next votes need).
 */
export const BLOCK_HASH_WINDOW = 1024;
/** Heights pruned per block at most, so catching up after a long stall spreads its deletes. */
const MAX_PRUNED_PER_BLOCK = 16;
/** Stake changes due at one height at most (each transaction rewrites that height's list). */
export const MAX_STAKE_CHANGES_PER_HEIGHT = 64;
/** A vote link spans at most this many heights (bounds the finalization walk). */
export const MAX_VOTE_SPAN = 64;

const StakeDirection = { Bond: 0, Withdraw: 1 } as const;
type StakeDirection = (typeof StakeDirection)[keyof typeof StakeDirection];

interface StakeChange {
  readonly validator: AccountId;
  readonly direction: StakeDirection;
  readonly amount: bigint;
}

/** Runs before a PoS block's transactions: records the parent's hash and applies stake changes due now. */
export function beginPosBlock(state: StateOverlay, ctx: BlockContext): void {
  if (ctx.parentHash === undefined) throw new Error('a PoS block context needs the parent hash');
  state.set(stateKey.blockHash(ctx.height - 1), ctx.parentHash);
  pruneVoting(state, ctx.height);
  const changes = readStakeChanges(state, ctx.height);
  if (changes.length === 0) return;
  const stakes = new Map(getValidatorSet(state).map((v) => [toHex(v.id), v]));
  for (const change of changes) {
    const key = toHex(change.validator);
    const current = stakes.get(key)?.stake ?? 0n;
    if (change.direction === StakeDirection.Bond) {
      // A validator slashed since it bonded forfeits the bond too.
      if (state.get(stateKey.slashed(change.validator)) !== undefined) continue;
      stakes.set(key, { id: change.validator, stake: current + change.amount });
    } else {
      // Slashing may have taken the stake since the unstake was included: withdraw what is left.
      const amount = change.amount < current ? change.amount : current;
      stakes.set(key, { id: change.validator, stake: current - amount });
      addBalance(state, change.validator, amount);
    }
  }
  putValidatorSet(state, [...stakes.values()]);
  state.delete(stateKey.stakeChanges(ctx.height));
}

/**
 * Forgets voting data no vote can use any more: heights below both the window and the justified block
 * (ancestor hashes, each current validator's vote record, the tallies of links to that height) and justified
 * entries below the finalized block. Height 0 (genesis) stays: it is the first justified checkpoint. A cursor
 * in state remembers where pruning stopped, so a height skipped during a stall is pruned once finality resumes.
 */
function pruneVoting(state: StateOverlay, height: number): void {
  const cursorBytes = state.get(stateKey.pruneCursor());
  let next = cursorBytes === undefined ? 1 : expectU32(decodeCanonical(cursorBytes, 16, 'pruneCursor'), 'pruneCursor');
  const genesisHash = state.get(stateKey.blockHash(0));
  if (genesisHash === undefined) return;
  const { justified, finalized } = finalityOf(state, genesisHash);
  const limit = Math.min(height - 1 - BLOCK_HASH_WINDOW, justified.height - 1);
  if (next > limit) return;
  const validators = getValidatorSet(state);
  const deleteIfPresent = (key: Uint8Array): void => {
    if (state.get(key) !== undefined) state.delete(key);
  };
  for (let pruned = 0; next <= limit && pruned < MAX_PRUNED_PER_BLOCK; next++, pruned++) {
    deleteIfPresent(stateKey.blockHash(next));
    for (const v of validators) deleteIfPresent(stateKey.vote(v.id, next));
    for (let source = Math.max(0, next - MAX_VOTE_SPAN); source < next; source++) deleteIfPresent(stateKey.tally(source, next));
    if (next < finalized.height) deleteIfPresent(stateKey.justified(next));
  }
  state.set(stateKey.pruneCursor(), encodeCanonical(next));
}

/** A validator's finality vote: counts its stake toward the link source -> target. */
export function applyVote(state: StateOverlay, tx: Transaction, body: VoteBody, ctx: BlockContext): void {
  requirePos(ctx);
  // [REJECT] Votes do not use the account nonce
  if (tx.nonce !== 0) throw new TxError(TxErrorCode.BadVote, 'a vote has nonce 0 (votes are ordered by target height)');
  const validators = getValidatorSet(state);
  const voter = validators.find((v) => bytesEqual(v.id, tx.sender));
  // [REJECT] The sender is a validator with stake
  if (voter === undefined || voter.stake === 0n) throw new TxError(TxErrorCode.NotAValidator, 'the sender is not a validator');
  const { sourceHeight, targetHeight } = body;
  // [REJECT] The link goes forward and not too far
  if (targetHeight <= sourceHeight || targetHeight - sourceHeight > MAX_VOTE_SPAN) {
    throw new TxError(TxErrorCode.BadVote, `a vote links a source to a later target within ${MAX_VOTE_SPAN} blocks; got ${sourceHeight} -> ${targetHeight}`);
  }
  // [REJECT] The target is an ancestor of this block, on this chain
  const targetHash = ancestorHash(state, targetHeight, ctx.height);
  if (targetHash === undefined || !bytesEqual(targetHash, body.targetHash)) {
    throw new TxError(TxErrorCode.BadVote, `the target is not block ${targetHeight} of this chain`);
  }
  // [REJECT] The source is a justified checkpoint of this chain
  const genesisHash = state.get(stateKey.blockHash(0))!;
  const sourceHash = justifiedAt(state, sourceHeight, genesisHash);
  if (sourceHash === undefined || !bytesEqual(sourceHash, body.sourceHash)) {
    throw new TxError(TxErrorCode.BadVote, `the source ${sourceHeight} is not a justified block of this chain`);
  }
  // [REJECT] One vote per validator and target height (also what makes a replay fail)
  const voteKey = stateKey.vote(tx.sender, targetHeight);
  if (state.get(voteKey) !== undefined) throw new TxError(TxErrorCode.DuplicateVote, `the validator already voted for height ${targetHeight}`);
  state.set(voteKey, encodeCanonical([sourceHeight]));

  const tallyKey = stateKey.tally(sourceHeight, targetHeight);
  const prior = state.get(tallyKey);
  const tally = (prior === undefined ? 0n : expectBigU64(decodeCanonical(prior, 16, 'tally'), 'tally')) + voter.stake;
  state.set(tallyKey, encodeCanonical(tally));
  const total = validators.reduce((sum, v) => sum + v.stake, 0n);
  // More than two thirds of the stake: the target is justified (and this link may finalize its source even
  // when another link justified the target first).
  if (tally * 3n <= total * 2n) return;
  if (state.get(stateKey.justified(targetHeight)) === undefined) state.set(stateKey.justified(targetHeight), body.targetHash);
  const before = finalityOf(state, genesisHash);
  let finality: Finality = before;
  if (targetHeight > before.justified.height) finality = { ...finality, justified: { height: targetHeight, hash: body.targetHash } };
  // FFG's k-finality: the source is final when every block between it and the target is justified too.
  let allJustified = true;
  for (let h = sourceHeight + 1; h < targetHeight && allJustified; h++) allJustified = state.get(stateKey.justified(h)) !== undefined;
  if (allJustified && sourceHeight > finality.finalized.height) finality = { ...finality, finalized: { height: sourceHeight, hash: sourceHash } };
  if (finality !== before) putFinality(state, finality);
}

/**
 * Slashes a validator that signed two conflicting votes or two headers for one slot. The evidence is checked
 * here in full (both signatures), so a block cannot slash anyone on a claim.
 */
export function applyEvidence(state: StateOverlay, body: EvidenceBody, ctx: BlockContext): void {
  requirePos(ctx);
  const offender = body.kind === EvidenceKind.DoubleVote ? checkDoubleVote(body, ctx) : checkDoubleProposal(body, ctx);
  // [REJECT] The offender holds stake to slash (and was not slashed already)
  if (state.get(stateKey.slashed(offender)) !== undefined) throw new TxError(TxErrorCode.AlreadySlashed, 'the validator was already slashed');
  const validators = getValidatorSet(state);
  const current = validators.find((v) => bytesEqual(v.id, offender));
  if (current === undefined || current.stake === 0n) throw new TxError(TxErrorCode.NotAValidator, 'the offender holds no stake');
  // [REJECT] Someone is left to propose and vote (a chain with no stake could never make another block)
  if (stakeLeft(state, ctx, offender, 0n) === 0n) {
    throw new TxError(TxErrorCode.InsufficientStake, 'slashing the last validator with stake would stop the chain; it needs operators, not a transaction');
  }
  // The whole stake is burned and the validator leaves the set at once; evidence of a fault cannot wait.
  putValidatorSet(state, validators.filter((v) => !bytesEqual(v.id, offender)));
  state.set(stateKey.slashed(offender), encodeCanonical([ctx.height, body.kind]));
}

function checkDoubleVote(body: EvidenceBody, ctx: BlockContext): AccountId {
  const a = decodeVoteEvidence(body.first, 'first', ctx);
  const b = decodeVoteEvidence(body.second, 'second', ctx);
  if (!bytesEqual(a.tx.sender, b.tx.sender)) throw new TxError(TxErrorCode.BadEvidence, 'the two votes are from different validators');
  if (bytesEqual(a.tx.id, b.tx.id)) throw new TxError(TxErrorCode.BadEvidence, 'the two votes are the same vote');
  const sameTarget = a.body.targetHeight === b.body.targetHeight;
  // [REJECT] The votes conflict: two for one target height, or one surrounding the other
  if (!sameTarget && !surrounds(a.body, b.body) && !surrounds(b.body, a.body)) {
    throw new TxError(TxErrorCode.BadEvidence, 'the votes do not conflict (different target heights, neither surrounds the other)');
  }
  return a.tx.sender;
}

function decodeVoteEvidence(bytes: Uint8Array, field: string, ctx: BlockContext): { tx: Transaction; body: VoteBody } {
  let tx: Transaction;
  try {
    tx = decodeTransaction(bytes);
  } catch (error) {
    if (error instanceof DecodeError) throw new TxError(TxErrorCode.BadEvidence, `evidence.${field}: ${error.message}`);
    throw error;
  }
  if (tx.body.type !== TxType.Vote) throw new TxError(TxErrorCode.BadEvidence, `evidence.${field} is not a vote`);
  if (tx.chainId !== ctx.chainId) throw new TxError(TxErrorCode.BadEvidence, `evidence.${field} is a vote on chain "${tx.chainId}"`);
  if (!verify(tx.signature, signingBytesOf(tx.bytes), tx.sender)) {
    throw new TxError(TxErrorCode.BadEvidence, `evidence.${field}: the vote's signature does not verify`);
  }
  return { tx, body: tx.body };
}

function checkDoubleProposal(body: EvidenceBody, ctx: BlockContext): AccountId {
  const a = decodeHeaderEvidence(body.first, 'first', ctx);
  const b = decodeHeaderEvidence(body.second, 'second', ctx);
  // [REJECT] Two different headers signed by one proposer for one slot
  if (!bytesEqual(a.proposer, b.proposer)) throw new TxError(TxErrorCode.BadEvidence, 'the headers have different proposers');
  if (a.time !== b.time) throw new TxError(TxErrorCode.BadEvidence, 'the headers are for different slots');
  if (bytesEqual(body.first, body.second)) throw new TxError(TxErrorCode.BadEvidence, 'the two headers are the same header');
  return a.proposer;
}

function decodeHeaderEvidence(bytes: Uint8Array, field: string, ctx: BlockContext): BlockHeader {
  let header: BlockHeader;
  try {
    header = decodeHeader(bytes);
  } catch (error) {
    if (error instanceof DecodeError) throw new TxError(TxErrorCode.BadEvidence, `evidence.${field}: ${error.message}`);
    throw error;
  }
  if (header.chainId !== ctx.chainId) throw new TxError(TxErrorCode.BadEvidence, `evidence.${field} is a header of chain "${header.chainId}"`);
  if (!verify(header.seal, encodeHeaderForSigning(header), header.proposer)) {
    throw new TxError(TxErrorCode.BadEvidence, `evidence.${field}: the seal is not the proposer's signature`);
  }
  return header;
}

/** FFG's surround rule: `outer` links from below `inner`'s source to above its target. */
export function surrounds(outer: VoteBody, inner: VoteBody): boolean {
  return outer.sourceHeight < inner.sourceHeight && inner.targetHeight < outer.targetHeight;
}

/** A hospital bonds part of its balance; the validator set changes `stakeDelayBlocks` later. */
export function applyStake(state: StateOverlay, sender: AccountId, body: StakeBody, ctx: BlockContext): void {
  const pos = requirePos(ctx);
  if (body.amount === 0n) throw new TxError(TxErrorCode.InsufficientBalance, 'the amount must be positive');
  if (state.get(stateKey.slashed(sender)) !== undefined) throw new TxError(TxErrorCode.AlreadySlashed, 'a slashed validator cannot stake again');
  const balance = getBalance(state, sender);
  // [REJECT] The balance covers the bond
  if (balance < body.amount) throw new TxError(TxErrorCode.InsufficientBalance, `the unbonded balance is ${balance}, less than ${body.amount}`);
  setBalance(state, sender, balance - body.amount);
  scheduleStakeChange(state, ctx.height + pos.stakeDelayBlocks, { validator: sender, direction: StakeDirection.Bond, amount: body.amount });
}

/** A validator withdraws stake to its balance, `stakeDelayBlocks` later; the set may not be left empty. */
export function applyUnstake(state: StateOverlay, sender: AccountId, body: UnstakeBody, ctx: BlockContext): void {
  const pos = requirePos(ctx);
  if (body.amount === 0n) throw new TxError(TxErrorCode.InsufficientStake, 'the amount must be positive');
  const stake = getValidatorSet(state).find((v) => bytesEqual(v.id, sender))?.stake ?? 0n;
  const left = stake - withdrawalsScheduled(state, ctx, pos).get(toHex(sender))!;
  // [REJECT] The stake (less withdrawals already scheduled) covers it
  if (left < body.amount) throw new TxError(TxErrorCode.InsufficientStake, `the stake not yet withdrawn is ${left}, less than ${body.amount}`);
  // [REJECT] Someone is left to propose and vote
  if (stakeLeft(state, ctx, sender, body.amount) === 0n) {
    throw new TxError(TxErrorCode.InsufficientStake, 'this would leave no stake at all once scheduled withdrawals are done; the chain would stop');
  }
  scheduleStakeChange(state, ctx.height + pos.stakeDelayBlocks, { validator: sender, direction: StakeDirection.Withdraw, amount: body.amount });
}

/** Withdrawals scheduled but not yet applied, per validator (hex id; every current validator has an entry). */
function withdrawalsScheduled(state: StateReader, ctx: BlockContext, pos: PosRules): Map<string, bigint> {
  const sums = new Map(getValidatorSet(state).map((v) => [toHex(v.id), 0n]));
  for (let h = ctx.height + 1; h <= ctx.height + pos.stakeDelayBlocks; h++) {
    for (const c of readStakeChanges(state, h)) {
      if (c.direction !== StakeDirection.Withdraw) continue;
      const key = toHex(c.validator);
      sums.set(key, (sums.get(key) ?? 0n) + c.amount);
    }
  }
  return sums;
}

/**
 * Stake that remains once every scheduled withdrawal is done, if `who` withdrew `amount` more (or, with
 * `amount` 0n for evidence, if `who` were slashed to nothing).
 */
function stakeLeft(state: StateReader, ctx: BlockContext, who: AccountId, amount: bigint): bigint {
  const pending = withdrawalsScheduled(state, ctx, requirePos(ctx));
  let left = 0n;
  for (const v of getValidatorSet(state)) {
    const isWho = bytesEqual(v.id, who);
    if (isWho && amount === 0n) continue;
    const remaining = v.stake - pending.get(toHex(v.id))! - (isWho ? amount : 0n);
    if (remaining > 0n) left += remaining;
  }
  return left;
}

function requirePos(ctx: BlockContext): PosRules {
  if (ctx.pos === undefined) throw new TxError(TxErrorCode.NotProofOfStake, 'this chain does not run proof of stake');
  return ctx.pos;
}

/** The hash of the block at `height` when it is an ancestor of the block at `blockHeight`, within the window. */
function ancestorHash(state: StateReader, height: number, blockHeight: number): Hash | undefined {
  if (height >= blockHeight) return undefined;
  return state.get(stateKey.blockHash(height));
}

function putValidatorSet(state: StateOverlay, validators: readonly Validator[]): void {
  const kept = validators.filter((v) => v.stake > 0n).sort((a, b) => compareBytes(a.id, b.id));
  state.set(stateKey.validatorSet(), encodeValidatorSet(kept));
}

export function getBalance(state: StateReader, id: AccountId): bigint {
  const bytes = state.get(stateKey.balance(id));
  return bytes === undefined ? 0n : expectBigU64(decodeCanonical(bytes, 16, 'balance'), 'balance');
}

function setBalance(state: StateOverlay, id: AccountId, amount: bigint): void {
  if (amount === 0n) state.delete(stateKey.balance(id));
  else state.set(stateKey.balance(id), encodeCanonical(amount));
}

function addBalance(state: StateOverlay, id: AccountId, amount: bigint): void {
  if (amount > 0n) setBalance(state, id, getBalance(state, id) + amount);
}

function readStakeChanges(state: StateReader, height: number): StakeChange[] {
  const bytes = state.get(stateKey.stakeChanges(height));
  if (bytes === undefined) return [];
  return expectList(decodeCanonical(bytes, 1 << 20, 'stakeChanges'), 100_000, 'stakeChanges').map((entry, i) => {
    const [validator, direction, amount] = expectArray(entry, 3, `stakeChanges[${i}]`);
    return {
      validator: expectBytes(validator, ACCOUNT_ID_LENGTH, `stakeChanges[${i}].validator`),
      direction: expectU32(direction, `stakeChanges[${i}].direction`) === 0 ? StakeDirection.Bond : StakeDirection.Withdraw,
      amount: expectBigU64(amount, `stakeChanges[${i}].amount`),
    };
  });
}

function scheduleStakeChange(state: StateOverlay, height: number, change: StakeChange): void {
  const existing = readStakeChanges(state, height);
  // [REJECT] The height's change list has room (bounds what one block's stake transactions cost every node)
  if (existing.length >= MAX_STAKE_CHANGES_PER_HEIGHT) {
    throw new TxError(TxErrorCode.StakeQueueFull, `${MAX_STAKE_CHANGES_PER_HEIGHT} stake changes are already due at height ${height}; send it in a later block`);
  }
  const changes = [...existing, change];
  state.set(stateKey.stakeChanges(height), encodeCanonical(changes.map((c) => [c.validator, c.direction, c.amount])));
}
