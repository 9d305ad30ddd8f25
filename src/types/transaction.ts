import type { AccountId, Hash } from './primitives.ts';
import type { AccessAction } from './record.ts';

/**
 * Wire tags of transaction types, grouped by decade: identity 1-9, record 10-19, access 20-29, consensus 30-39.
 * A tag, once used, keeps its meaning forever.
 */
export const TxType = {
  RegisterIdentity: 1,
  AttestDoctor: 2,
  RevokeAttestation: 3,
  CreateRecord: 10,
  AddRecordVersion: 11,
  SetRecordPolicy: 12,
  EraseRecord: 13,
  GrantAccess: 20,
  RevokeAccess: 21,
  ReadRecord: 22,
  Vote: 30,
  Evidence: 31,
  Stake: 32,
  Unstake: 33,
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

/** A patient creates a record: the first version's commitment and the policy that guards it. Its id is the tx id. */
export interface CreateRecordBody {
  readonly type: typeof TxType.CreateRecord;
  readonly commitment: Hash;
  readonly size: number;
  readonly contentType: string;
  readonly policy: Uint8Array;
}

/** The owner, or a writer the policy allows, adds a version. */
export interface AddRecordVersionBody {
  readonly type: typeof TxType.AddRecordVersion;
  readonly record: Hash;
  readonly commitment: Hash;
  readonly size: number;
  readonly contentType: string;
}

/** The owner replaces the record's policy. */
export interface SetRecordPolicyBody {
  readonly type: typeof TxType.SetRecordPolicy;
  readonly record: Hash;
  readonly policy: Uint8Array;
}

/** The owner, or a delegate the policy allows, grants an account access until `expiresAt` (null: until revoked). */
export interface GrantAccessBody {
  readonly type: typeof TxType.GrantAccess;
  readonly record: Hash;
  readonly grantee: AccountId;
  readonly scope: readonly AccessAction[];
  readonly expiresAt: number | null;
}

/** The owner ends a grant, effective from this block. */
export interface RevokeAccessBody {
  readonly type: typeof TxType.RevokeAccess;
  readonly record: Hash;
  readonly grantee: AccountId;
}

/** The owner erases a record: every node deletes its ciphertexts and envelopes; the chain keeps a tombstone. */
export interface EraseRecordBody {
  readonly type: typeof TxType.EraseRecord;
  readonly record: Hash;
}

/**
 * A read receipt: the requester's signed request to read one version, with the purpose of use. The node
 * serves the ciphertext only once this is on chain, so every read it served is in the audit trail.
 * `emergency` is break-glass access: it needs a stated reason and is flagged to the patient.
 */
export interface ReadRecordBody {
  readonly type: typeof TxType.ReadRecord;
  readonly record: Hash;
  readonly version: number;
  readonly purpose: string;
  readonly emergency: boolean;
  readonly reason: string;
}

/**
 * A PoS validator's finality vote (Casper FFG style): a link from a justified checkpoint (source) to a later
 * block on the same chain (target). A vote does not use the account nonce (the transaction's nonce is 0);
 * each validator has at most one vote per target height, which is also what makes a replay a duplicate.
 */
export interface VoteBody {
  readonly type: typeof TxType.Vote;
  readonly sourceHeight: number;
  readonly sourceHash: Hash;
  readonly targetHeight: number;
  readonly targetHash: Hash;
}

export const EvidenceKind = { DoubleVote: 0, DoubleProposal: 1 } as const;
export type EvidenceKind = (typeof EvidenceKind)[keyof typeof EvidenceKind];

/**
 * Proof that a validator signed two conflicting messages: two vote transactions (same target height, or one
 * surrounding the other) or two block headers for the same slot. Any account may submit it; the offender's
 * whole stake is slashed and it leaves the validator set.
 */
export interface EvidenceBody {
  readonly type: typeof TxType.Evidence;
  readonly kind: EvidenceKind;
  /** Vote transaction wire bytes, or header bytes, as signed by the offender. */
  readonly first: Uint8Array;
  readonly second: Uint8Array;
}

/** A hospital bonds `amount` of its unbonded balance as validator stake, effective some blocks later. */
export interface StakeBody {
  readonly type: typeof TxType.Stake;
  readonly amount: bigint;
}

/** A validator withdraws `amount` of stake to its unbonded balance, effective some blocks later. */
export interface UnstakeBody {
  readonly type: typeof TxType.Unstake;
  readonly amount: bigint;
}

export type TxBody =
  | RegisterIdentityBody
  | AttestDoctorBody
  | RevokeAttestationBody
  | CreateRecordBody
  | AddRecordVersionBody
  | SetRecordPolicyBody
  | EraseRecordBody
  | GrantAccessBody
  | RevokeAccessBody
  | ReadRecordBody
  | VoteBody
  | EvidenceBody
  | StakeBody
  | UnstakeBody;

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
