import { getAccount, getAttestation, putAccount, putAttestation } from './accessors.ts';
import { TxError, TxErrorCode } from './errors.ts';
import type { StateOverlay } from './overlay.ts';
import { toHex } from '../codec/bytes.ts';
import { Role, type Account } from '../types/identity.ts';
import type { AccountId } from '../types/primitives.ts';
import {
  TxType,
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
  switch (body.type) {
    case TxType.RegisterIdentity:
      return registerIdentity(state, tx.sender, account, body, ctx);
    case TxType.AttestDoctor:
      attestDoctor(state, tx.sender, requireAccount(account, tx.sender), body, ctx);
      break;
    case TxType.RevokeAttestation:
      revokeAttestation(state, tx.sender, requireAccount(account, tx.sender), body, ctx);
      break;
  }
  const after = getAccount(state, tx.sender)!;
  putAccount(state, tx.sender, { ...after, nonce: after.nonce + 1 });
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
}
