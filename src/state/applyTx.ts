import {
  getAccount,
  getAttestation,
  getGrant,
  getRecord,
  putAccount,
  putAttestation,
  putGrant,
  putRecord,
  putRecordVersion,
} from './accessors.ts';
import { decideAccess, type BlockMemo } from './policyContext.ts';
import { applyEvidence, applyStake, applyUnstake, applyVote, type PosRules } from './pos.ts';
import { explainDenial } from './explainDenial.ts';
import { checkProgram } from '../script/checkProgram.ts';
import { PolicyErrorCode } from '../script/errors.ts';
import { TxError, TxErrorCode } from './errors.ts';
import type { StateOverlay } from './overlay.ts';
import type { PolicyFlags } from '../script/flags.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { Role, type Account } from '../types/identity.ts';
import type { AccountId, Hash } from '../types/primitives.ts';
import type { AccessAction, RecordMeta } from '../types/record.ts';
import {
  TxType,
  type AddRecordVersionBody,
  type CreateRecordBody,
  type EraseRecordBody,
  type ReadRecordBody,
  type GrantAccessBody,
  type RevokeAccessBody,
  type SetRecordPolicyBody,
  type AttestDoctorBody,
  type RegisterIdentityBody,
  type RevokeAttestationBody,
  type Transaction,
} from '../types/transaction.ts';

/** What the transition knows about the block it runs in; everything outside state comes through here. */
export interface BlockContext {
  readonly chainId: string;
  readonly height: number;
  /** Block time in ms since the epoch (the header's time, never the local clock). */
  readonly time: number;
  /** Policy rule flags in force at this height. */
  readonly policyFlags: PolicyFlags;
  /** The parent block's hash (PoS records it for votes); absent in dry runs that need no ancestry. */
  readonly parentHash?: Hash;
  /** Proof-of-stake rules; absent on a proof-of-work chain (votes, evidence and staking are refused there). */
  readonly pos?: PosRules;
  /**
   * Lookups remembered across the block's transactions; only for transactions applied in order to one state
   * (applyBlock and buildBlockContents make a fresh one per block).
   */
  readonly memo?: BlockMemo;
}

/**
 * Applies one transaction to `state`, or throws TxError and leaves `state` as it found it only if the caller
 * discards the overlay (applyBlock forks one per transaction). Signatures are checked by the caller.
 */
export function applyTx(state: StateOverlay, tx: Transaction, ctx: BlockContext): void {
  // [REJECT] The transaction is for this chain (replay across chains)
  if (tx.chainId !== ctx.chainId) {
    throw new TxError(TxErrorCode.WrongChain, `transaction is for chain "${tx.chainId}", this is "${ctx.chainId}"`);
  }
  // Votes are ordered by target height, not by the account nonce: a validator's votes never wait on its
  // other transactions.
  if (tx.body.type === TxType.Vote) return applyVote(state, tx, tx.body, ctx);
  const account = getAccount(state, tx.sender);
  // [REJECT] The nonce is the sender's next one (replay within the chain, and ordering)
  const expected = account?.nonce ?? 0;
  if (tx.nonce < expected) {
    throw new TxError(TxErrorCode.NonceTooLow, `nonce ${tx.nonce} was already used; the next nonce is ${expected}`);
  }
  if (tx.nonce > expected) {
    throw new TxError(TxErrorCode.NonceGap, `nonce ${tx.nonce} skips ahead; the next nonce is ${expected}`);
  }
  const body = tx.body;
  // Registration creates the account (and uses nonce 0); every other transaction needs one.
  if (body.type === TxType.RegisterIdentity) return registerIdentity(state, tx.sender, account, body, ctx);
  const sender = requireAccount(account, tx.sender);
  switch (body.type) {
    case TxType.AttestDoctor:
      attestDoctor(state, tx.sender, sender, body, ctx);
      break;
    case TxType.RevokeAttestation:
      revokeAttestation(state, tx.sender, sender, body, ctx);
      break;
    case TxType.CreateRecord:
      createRecord(state, tx, sender, body, ctx);
      break;
    case TxType.AddRecordVersion:
      addRecordVersion(state, tx.sender, sender, body, ctx);
      break;
    case TxType.SetRecordPolicy:
      setRecordPolicy(state, tx.sender, body, ctx);
      break;
    case TxType.GrantAccess:
      grantAccess(state, tx.sender, sender, body, ctx);
      break;
    case TxType.RevokeAccess:
      revokeAccess(state, tx.sender, body, ctx);
      break;
    case TxType.EraseRecord:
      eraseRecord(state, tx.sender, body, ctx);
      break;
    case TxType.ReadRecord:
      readRecord(state, tx.sender, sender, body, ctx);
      break;
    case TxType.Evidence:
      applyEvidence(state, body, ctx);
      break;
    case TxType.Stake:
      applyStake(state, tx.sender, body, ctx);
      break;
    case TxType.Unstake:
      applyUnstake(state, tx.sender, body, ctx);
      break;
    default:
      return assertNever(body);
  }
  // No transaction writes its sender's account (nor any other), so `sender` is still what state holds.
  putAccount(state, tx.sender, { ...sender, nonce: sender.nonce + 1 });
}

function requireAccount(account: Account | undefined, id: AccountId): Account {
  if (account === undefined) {
    throw new TxError(TxErrorCode.NotRegistered, `account ${toHex(id).slice(0, 16)}… is not registered`);
  }
  return account;
}

function registerIdentity(
  state: StateOverlay,
  sender: AccountId,
  account: Account | undefined,
  body: RegisterIdentityBody,
  ctx: BlockContext,
): void {
  // [REJECT] An account registers once
  if (account !== undefined) {
    throw new TxError(TxErrorCode.AlreadyRegistered, `account is already registered as a ${account.role}`);
  }
  putAccount(state, sender, { role: body.role, nonce: 1, registeredAt: ctx.height });
}

function requireHospital(account: Account): void {
  // [REJECT] Only hospitals attest and revoke doctors
  if (account.role !== Role.Hospital) {
    throw new TxError(TxErrorCode.NotAHospital, `only a hospital may do this; the sender is a ${account.role}`);
  }
}

function attestDoctor(
  state: StateOverlay,
  hospital: AccountId,
  account: Account,
  body: AttestDoctorBody,
  ctx: BlockContext,
): void {
  requireHospital(account);
  const doctor = getAccount(state, body.doctor);
  // [REJECT] The attested account is a registered doctor
  if (doctor?.role !== Role.Doctor) {
    throw new TxError(TxErrorCode.NotADoctor, `account ${toHex(body.doctor).slice(0, 16)}… is not a registered doctor`);
  }
  // [REJECT] The attestation expires after this block
  if (body.expiresAt <= ctx.time) {
    throw new TxError(TxErrorCode.ExpiryInPast, `expiry ${new Date(body.expiresAt).toISOString()} is not after the block time`);
  }
  // A new attestation by the same hospital replaces (renews) the previous one.
  putAttestation(state, {
    doctor: body.doctor,
    hospital,
    name: body.name,
    licence: body.licence,
    expiresAt: body.expiresAt,
    attestedAt: ctx.height,
    revokedAt: null,
    revokeReason: '',
  });
  ctx.memo?.forgetAttestations(body.doctor);
}

function revokeAttestation(
  state: StateOverlay,
  hospital: AccountId,
  account: Account,
  body: RevokeAttestationBody,
  ctx: BlockContext,
): void {
  requireHospital(account);
  const attestation = getAttestation(state, body.doctor, hospital);
  // [REJECT] A hospital revokes only its own attestation, once
  if (attestation === undefined) {
    throw new TxError(TxErrorCode.AttestationNotFound, 'this hospital has not attested that doctor');
  }
  if (attestation.revokedAt !== null) {
    throw new TxError(TxErrorCode.AttestationAlreadyRevoked, `already revoked at height ${attestation.revokedAt}`);
  }
  putAttestation(state, { ...attestation, revokedAt: ctx.height, revokeReason: body.reason });
  ctx.memo?.forgetAttestations(body.doctor);
}

function assertNever(body: never): never {
  throw new Error(`applyTx has no case for ${JSON.stringify(body)}`);
}

/** [REJECT] A stored policy is bytecode the engine accepts under the flags in force. */
function requireValidPolicy(policy: Uint8Array, ctx: BlockContext): void {
  const checked = checkProgram(policy, ctx.policyFlags);
  if (!checked.ok) throw new TxError(TxErrorCode.InvalidPolicy, `the policy is not valid: ${checked.error.code}: ${checked.error.message}`);
}

/** [REJECT] The record exists and has not been erased (a tombstone accepts nothing). */
function requireRecord(state: StateOverlay, id: Uint8Array): RecordMeta {
  const record = getRecord(state, id);
  if (record === undefined) throw new TxError(TxErrorCode.RecordNotFound, `no record ${toHex(id).slice(0, 16)}…`);
  if (record.erasedAt !== null) throw new TxError(TxErrorCode.RecordErased, `the record was erased at height ${record.erasedAt}`);
  return record;
}

function requireOwner(record: RecordMeta, sender: AccountId, what: string): void {
  if (!bytesEqual(record.owner, sender)) throw new TxError(TxErrorCode.NotRecordOwner, `only the record's owner may ${what}`);
}

/**
 * [REJECT] Unless the sender owns the record, its policy must allow `action` for the sender now. `account` is
 * the sender's account as this transaction read it (its role cannot have changed since).
 */
function requirePolicyAllows(
  state: StateOverlay,
  record: RecordMeta,
  sender: AccountId,
  account: Account,
  action: AccessAction,
  ctx: BlockContext,
  request: { purpose: string; emergency: boolean } = { purpose: '', emergency: false },
): void {
  if (bytesEqual(record.owner, sender)) return;
  const decision = decideAccess(state, record, { requester: sender, action, ...request, requesterRole: account.role }, ctx, ctx.memo);
  if (decision.decision === 'allow') return;
  // A lookup that threw means this node's state could not be read: a local fault, never a verdict every
  // node would share, so the block fails to import here instead of being judged invalid.
  if (decision.decision === 'error' && decision.code === PolicyErrorCode.ContextFailure) throw new Error(`policy context failure: ${decision.message}`);
  const why = decision.decision === 'deny' ? decision.reason : `${decision.code}: ${decision.message}`;
  const code = explainDenial(state, record, { requester: sender, action, ...request }, ctx.time);
  throw new TxError(code, `the record's policy does not let this account ${action} (${why})`);
}

function createRecord(state: StateOverlay, tx: Transaction, account: Account, body: CreateRecordBody, ctx: BlockContext): void {
  // [REJECT] Records belong to patients
  if (account.role !== Role.Patient) throw new TxError(TxErrorCode.NotAPatient, `only a patient may create a record; the sender is a ${account.role}`);
  requireValidPolicy(body.policy, ctx);
  // The record id is the creating transaction's id, unique because (sender, nonce) is.
  putRecord(state, { id: tx.id, owner: tx.sender, policy: body.policy, createdAt: ctx.height, versionCount: 1, erasedAt: null });
  putRecordVersion(state, tx.id, 0, { commitment: body.commitment, size: body.size, contentType: body.contentType, author: tx.sender, addedAt: ctx.height });
}

function addRecordVersion(state: StateOverlay, sender: AccountId, account: Account, body: AddRecordVersionBody, ctx: BlockContext): void {
  const record = requireRecord(state, body.record);
  requirePolicyAllows(state, record, sender, account, 'write', ctx);
  putRecordVersion(state, record.id, record.versionCount, {
    commitment: body.commitment,
    size: body.size,
    contentType: body.contentType,
    author: sender,
    addedAt: ctx.height,
  });
  putRecord(state, { ...record, versionCount: record.versionCount + 1 });
}

function setRecordPolicy(state: StateOverlay, sender: AccountId, body: SetRecordPolicyBody, ctx: BlockContext): void {
  const record = requireRecord(state, body.record);
  requireOwner(record, sender, 'change its policy');
  requireValidPolicy(body.policy, ctx);
  putRecord(state, { ...record, policy: body.policy });
}

function grantAccess(state: StateOverlay, sender: AccountId, account: Account, body: GrantAccessBody, ctx: BlockContext): void {
  const record = requireRecord(state, body.record);
  if (bytesEqual(body.grantee, record.owner)) throw new TxError(TxErrorCode.SelfGrant, 'the owner already holds every right over the record');
  requirePolicyAllows(state, record, sender, account, 'delegate', ctx);
  if (!bytesEqual(sender, record.owner)) requireDelegationWithinOwnGrant(state, record, sender, body);
  // [REJECT] The grantee exists
  if (getAccount(state, body.grantee) === undefined) {
    throw new TxError(TxErrorCode.NotRegistered, `grantee ${toHex(body.grantee).slice(0, 16)}… is not registered`);
  }
  if (body.expiresAt !== null && body.expiresAt <= ctx.time) {
    throw new TxError(TxErrorCode.ExpiryInPast, `expiry ${new Date(body.expiresAt).toISOString()} is not after the block time`);
  }
  // A new grant to the same account replaces the previous one (a renewal or a change of scope).
  putGrant(state, record.id, { grantee: body.grantee, grantor: sender, scope: body.scope, expiresAt: body.expiresAt, grantedAt: ctx.height, revokedAt: null });
}

/**
 * [REJECT] A delegate passes on at most what it holds: read and write (never delegate), for no longer than
 * its own grant, to someone else, and never over a grant the owner (or another delegate) made or revoked.
 */
function requireDelegationWithinOwnGrant(state: StateOverlay, record: RecordMeta, sender: AccountId, body: GrantAccessBody): void {
  if (body.scope.includes('delegate')) throw new TxError(TxErrorCode.ScopeNotDelegable, 'only the owner may grant the delegate scope');
  if (bytesEqual(body.grantee, sender)) throw new TxError(TxErrorCode.SelfGrant, 'a delegate cannot grant to itself');
  const own = getGrant(state, record.id, sender);
  if (own !== undefined && own.expiresAt !== null && (body.expiresAt === null || body.expiresAt > own.expiresAt)) {
    throw new TxError(TxErrorCode.ScopeNotDelegable, `a delegate's grant cannot outlast its own, which ends ${new Date(own.expiresAt).toISOString()}`);
  }
  const existing = getGrant(state, record.id, body.grantee);
  if (existing !== undefined && (existing.revokedAt !== null || !bytesEqual(existing.grantor, sender))) {
    throw new TxError(TxErrorCode.NotRecordOwner, 'only the owner may replace or restore a grant someone else made or revoked');
  }
}

function revokeAccess(state: StateOverlay, sender: AccountId, body: RevokeAccessBody, ctx: BlockContext): void {
  const record = requireRecord(state, body.record);
  const grant = getGrant(state, record.id, body.grantee);
  if (grant === undefined) throw new TxError(TxErrorCode.GrantNotFound, 'that account holds no grant on this record');
  // [REJECT] The owner, or whoever made the grant, revokes it
  if (!bytesEqual(sender, record.owner) && !bytesEqual(sender, grant.grantor)) {
    throw new TxError(TxErrorCode.NotRecordOwner, "only the record's owner or the grant's grantor may revoke it");
  }
  if (grant.revokedAt !== null) throw new TxError(TxErrorCode.GrantAlreadyRevoked, `already revoked at height ${grant.revokedAt}`);
  putGrant(state, record.id, { ...grant, revokedAt: ctx.height });
}

function eraseRecord(state: StateOverlay, sender: AccountId, body: EraseRecordBody, ctx: BlockContext): void {
  const record = requireRecord(state, body.record);
  requireOwner(record, sender, 'erase it');
  // The tombstone: metadata stays for the audit trail; nodes delete the ciphertexts and envelopes.
  putRecord(state, { ...record, erasedAt: ctx.height });
}

function readRecord(state: StateOverlay, sender: AccountId, account: Account, body: ReadRecordBody, ctx: BlockContext): void {
  const record = requireRecord(state, body.record);
  if (body.version >= record.versionCount) {
    throw new TxError(TxErrorCode.NoSuchVersion, `the record has versions 0 to ${record.versionCount - 1}`);
  }
  // [REJECT] Break-glass access states why
  // An explicit ASCII test: String#trim follows the engine's Unicode tables, which may differ between nodes.
  if (body.emergency && /^[ \t\n\r]*$/.test(body.reason)) {
    throw new TxError(TxErrorCode.EmergencyReasonRequired, 'emergency access needs a stated reason');
  }
  requirePolicyAllows(state, record, sender, account, 'read', ctx, { purpose: body.purpose, emergency: body.emergency });
  // The receipt is the transaction itself, in its block: nothing else to write but the nonce.
}
