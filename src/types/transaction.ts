import type { AccountId, Hash } from './primitives.ts';

/**
 * Wire tags of transaction types, grouped by decade: identity 1-9, record 10-19, access 20-29, consensus 30-39.
 * A tag, once used, keeps its meaning forever.
 */
export const TxType = {
  RegisterIdentity: 1,
  AttestDoctor: 2,
  RevokeAttestation: 3,
} as const;
export type TxType = (typeof TxType)[keyof typeof TxType];

/** A patient or doctor registers their own key. Hospitals cannot self-register. */
export interface RegisterIdentityBody {
  readonly type: typeof TxType.RegisterIdentity;
  readonly role: 'patient' | 'doctor';
}

/** A hospital attests that a registered doctor holds a licence until `expiresAt` (block time, ms). */
export interface AttestDoctorBody {
  readonly type: typeof TxType.AttestDoctor;
  readonly doctor: AccountId;
  readonly name: string;
  readonly licence: string;
  readonly expiresAt: number;
}

/** The attesting hospital withdraws its attestation of a doctor. */
export interface RevokeAttestationBody {
  readonly type: typeof TxType.RevokeAttestation;
  readonly doctor: AccountId;
  readonly reason: string;
}

export type TxBody = RegisterIdentityBody | AttestDoctorBody | RevokeAttestationBody;

/** What a sender signs: the canonical encoding of `[chainId, type, sender, nonce, payload]`. */
export interface UnsignedTransaction {
  readonly chainId: string;
  readonly sender: AccountId;
  readonly nonce: number;
  readonly body: TxBody;
}

/** A decoded, well-formed transaction. Its signature is checked separately (in batches, off the main thread). */
export interface Transaction extends UnsignedTransaction {
  readonly signature: Uint8Array;
  /** The wire bytes `[chainId, type, sender, nonce, payload, signature]`. */
  readonly bytes: Uint8Array;
  /** sha256 of the wire bytes. */
  readonly id: Hash;
}
