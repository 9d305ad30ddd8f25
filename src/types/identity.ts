import type { AccountId } from './primitives.ts';

/** Who an account is. Hospitals come only from genesis (or governance, later). */
export const Role = { Patient: 'patient', Doctor: 'doctor', Hospital: 'hospital' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Wire codes of roles; 0 is never used so a zeroed field is not a role. */
export const ROLE_CODES: Readonly<Record<Role, number>> = { patient: 1, doctor: 2, hospital: 3 };

export interface Account {
  readonly role: Role;
  /** The nonce the account's next transaction must carry. */
  readonly nonce: number;
  /** Height of the block that registered the account (0 for genesis). */
  readonly registeredAt: number;
}

/** A hospital's statement that a doctor is licensed, until `expiresAt` (block time, ms) or revocation. */
export interface Attestation {
  readonly doctor: AccountId;
  readonly hospital: AccountId;
  readonly name: string;
  readonly licence: string;
  readonly expiresAt: number;
  readonly attestedAt: number;
  /** Height of the block that revoked it, or null while in force. */
  readonly revokedAt: number | null;
  readonly revokeReason: string;
}

export interface Hospital {
  readonly id: AccountId;
  readonly name: string;
}
