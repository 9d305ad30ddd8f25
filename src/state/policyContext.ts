import { fromHex, toHex } from '../codec/bytes.ts';
import { evaluatePolicy, type AttestationView, type GrantView, type PolicyContext, type PolicyDecision } from '../script/index.ts';
import type { PolicyFlags } from '../script/flags.ts';
import { getAccount, getAttestations, getGrant } from './accessors.ts';
import type { StateReader } from './overlay.ts';
import type { Role } from '../types/identity.ts';
import type { AccountId } from '../types/primitives.ts';
import type { AccessAction, RecordMeta } from '../types/record.ts';

/** What a request adds to the chain's facts: who asks, for what, why. */
export interface AccessRequest {
  readonly requester: AccountId;
  readonly action: AccessAction;
  /** HL7 purpose of use, e.g. TREAT or ETREAT; "" when none is stated. */
  readonly purpose: string;
  readonly emergency: boolean;
  /**
   * The requester's role, when the caller read the requester's account from this same state (applyTx has: the
   * sender's); role(requester) then needs no second read.
   */
  readonly requesterRole?: Role;
}

/** The block (or head) whose state and clock a decision uses. */
export interface DecisionPoint {
  readonly height: number;
  readonly time: number;
  readonly policyFlags: PolicyFlags;
}

/**
 * The policy context for one decision, backed by chain state: roles from accounts, attestations from every
 * hospital's attestation of the id, the grant from the record's grant of the id.
 */
export function policyContextFromState(
  state: StateReader,
  record: RecordMeta,
  request: AccessRequest,
  at: DecisionPoint,
  memo?: BlockMemo,
): PolicyContext {
  return new StatePolicyContext(state, record, request, at, memo);
}

/** One object per decision, the lookups its methods (no closures): a block decides for most of its transactions. */
class StatePolicyContext implements PolicyContext {
  readonly requester: string;
  readonly owner: string;
  readonly action: AccessAction;
  readonly height: number;
  readonly time: number;
  readonly purpose: string;
  readonly emergency: boolean;
  readonly #state: StateReader;
  readonly #record: RecordMeta;
  readonly #request: AccessRequest;
  readonly #memo: BlockMemo | undefined;

  constructor(state: StateReader, record: RecordMeta, request: AccessRequest, at: DecisionPoint, memo: BlockMemo | undefined) {
    this.requester = toHex(request.requester);
    this.owner = toHex(record.owner);
    this.action = request.action;
    this.height = at.height;
    this.time = at.time;
    this.purpose = request.purpose;
    this.emergency = request.emergency;
    this.#state = state;
    this.#record = record;
    this.#request = request;
    this.#memo = memo;
  }

  roleOf(hex: string): Role | null {
    const role = this.#request.requesterRole;
    return hex === this.requester && role !== undefined ? role : (getAccount(this.#state, this.#id(hex))?.role ?? null);
  }

  attestationsOf(hex: string): readonly AttestationView[] {
    const memo = this.#memo;
    return memo === undefined ? attestationViews(this.#state, this.#id(hex)) : memo.attestationsOf(hex, () => attestationViews(this.#state, this.#id(hex)));
  }

  grantOf(hex: string): GrantView | null {
    const grant = getGrant(this.#state, this.#record.id, this.#id(hex));
    return grant === undefined ? null : { scope: grant.scope, expiresAt: grant.expiresAt, revoked: grant.revokedAt !== null };
  }

  /**
   * An id the program names; only well-formed ones reach here (the evaluator checks the pattern). Nearly all
   * name the requester (or the owner): their bytes are at hand, no need to parse the hex again.
   */
  #id(hex: string): Uint8Array {
    const { requester } = this.#request;
    const { owner } = this.#record;
    if (hex === this.requester && requester.length === 32) return requester;
    if (hex === this.owner && owner.length === 32) return owner;
    return fromHex(hex) ?? new Uint8Array(0);
  }
}

function attestationViews(state: StateReader, doctor: AccountId): AttestationView[] {
  return getAttestations(state, doctor).map((a) => ({ hospital: hexOfHospital(a.hospital), expiresAt: a.expiresAt, revoked: a.revokedAt !== null }));
}

/**
 * Policy lookups remembered for the execution of one block on one evolving state: every transaction by a
 * doctor reads the same attestations (one state read and decode per hospital), so each doctor's list is read
 * once per block. An entry holds only while that doctor's attestations are unchanged: applyTx forgets it when
 * it writes one, and buildBlockContents clears everything when it drops a transaction's writes. The hospital
 * list is written only at genesis, never inside a block.
 */
export class BlockMemo {
  readonly #attestations = new Map<string, readonly AttestationView[]>();

  /** The doctor's (hex) attestation views, computed by `read` on the first call since it last changed. */
  attestationsOf(doctor: string, read: () => AttestationView[]): readonly AttestationView[] {
    let views = this.#attestations.get(doctor);
    if (views === undefined) {
      // Frozen: every later decision in the block shares this list.
      views = Object.freeze(read().map((v) => Object.freeze(v)));
      this.#attestations.set(doctor, views);
    }
    return views;
  }

  /** An attestation of `doctor` was written. */
  forgetAttestations(doctor: AccountId): void {
    this.#attestations.delete(toHex(doctor));
  }

  /** Writes that entries may have been read from were discarded. */
  clear(): void {
    this.#attestations.clear();
  }
}

/**
 * A hospital id's hex, kept per id object: the ids come from the hospital list decoded once per stored value
 * (accessors.ts), so the same few objects are converted on every attestation check.
 */
const hospitalHex = new WeakMap<Uint8Array, string>();

function hexOfHospital(id: Uint8Array): string {
  let hex = hospitalHex.get(id);
  if (hex === undefined) {
    hex = toHex(id);
    hospitalHex.set(id, hex);
  }
  return hex;
}

/** Runs the record's policy for a request against `state`; `memo` serves repeated lookups within one block. */
export function decideAccess(state: StateReader, record: RecordMeta, request: AccessRequest, at: DecisionPoint, memo?: BlockMemo): PolicyDecision {
  return evaluatePolicy(record.policy, policyContextFromState(state, record, request, at, memo), at.policyFlags);
}
