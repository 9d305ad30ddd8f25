/**
 * What the dashboards read from the node and how they act: typed calls (some methods are newer than some
 * nodes: those answer "not available on this node" instead of failing the page), names for accounts, and an
 * EmrClient that reports which step of an action it is at.
 */
import { EmrClient } from '../../../client/emrClient.ts';
import { RpcClientError, rpcCall, type IdentityJson, type MedchainRpc } from '../../../client/rpcClient.ts';
import { fingerprintOf } from '../../lib/format.ts';
import type { Services } from '../../lib/services.ts';

/** A doctor as a hospital attested them (identity_findDoctors, identity_attestedBy). */
export interface DoctorMatch {
  readonly id: string;
  readonly fingerprint: string;
  readonly name: string;
  readonly licence: string;
  readonly hospital: string;
  readonly hospitalName: string;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /** Neither revoked nor expired at the head block's time (as the node judges it). */
  readonly valid?: boolean;
}

/** A record_list entry (src/rpc/methods/emrMethods.ts). */
export interface Grant {
  readonly grantee: string;
  readonly granteeFingerprint?: string;
  readonly grantor: string;
  readonly scope: readonly string[];
  readonly expiresAt: number | null;
  readonly grantedAt: number;
  readonly revokedAt: number | null;
  readonly active: boolean;
}

export interface RecordEntry {
  readonly id: string;
  readonly owner: string;
  readonly versionCount: number;
  readonly createdAt: number;
  readonly erasedAt: number | null;
  readonly grant: Grant | null;
}

export interface RecordVersion {
  readonly version: number;
  readonly commitment: string;
  readonly size: number;
  readonly contentType: string;
  readonly author: string;
  readonly addedAt: number;
}

/** record_get; `erasedAt` only from nodes that have it. */
export interface RecordDetail {
  readonly id: string;
  readonly owner: string;
  readonly createdAt: number;
  readonly policySource: string;
  readonly versions: readonly RecordVersion[];
  readonly erasedAt?: number | null;
}

export interface AccessDecision {
  readonly decision: 'allow' | 'deny' | 'error';
  readonly reason: string;
  readonly code: string | null;
}

/** chain_getValidators; `proposed`, `missed` and `window` only from nodes that have them. */
export interface ValidatorStatus {
  readonly validators: readonly { readonly id: string; readonly stake: string; readonly balance: string; readonly proposed?: number; readonly missed?: number }[];
  readonly slashed: readonly string[];
  readonly window?: { readonly fromSlot: number; readonly toSlot: number };
}

/** The node does not have this method (it runs an older medchain). */
export function isMissingMethod(error: unknown): boolean {
  return error instanceof RpcClientError && (error.reason === 'METHOD_NOT_FOUND' || error.code === -32601);
}

/** Whether an attestation holds: as the node judged it at the head, else at `now` (ms). */
export function attestationValid(d: { readonly expiresAt: number; readonly revokedAt: number | null; readonly valid?: boolean }, now: number): boolean {
  return d.valid ?? (d.revokedAt === null && d.expiresAt > now);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A doctor's attestations as matches (for a full key typed in, and for nodes without identity_findDoctors). */
function matchesOf(identity: IdentityJson): DoctorMatch[] {
  return identity.attestations.map((a) => ({
    id: identity.id,
    fingerprint: identity.fingerprint,
    name: a.name,
    licence: a.licence,
    hospital: a.hospital,
    hospitalName: a.hospitalName,
    expiresAt: a.expiresAt,
    revokedAt: a.revokedAt,
    valid: a.valid,
  }));
}

export interface DoctorSearch {
  /** False when the node cannot search by name (only a full account key works). */
  readonly byName: boolean;
  readonly doctors: readonly DoctorMatch[];
  /** A full key was given: that account is registered, but not as an attested doctor. */
  readonly notADoctor?: { readonly id: string; readonly role: string | null };
}

/** Doctors whose attested name contains `query`, or whose fingerprint or key starts with it. */
export async function findDoctors(rpc: MedchainRpc, query: string, signal?: AbortSignal): Promise<DoctorSearch> {
  const q = query.trim();
  const key = q.toLowerCase();
  let byName = true;
  let doctors: DoctorMatch[] = [];
  try {
    doctors = await rpc.call<DoctorMatch[]>('identity_findDoctors', [q, 20], { signal });
  } catch (error) {
    if (!isMissingMethod(error)) throw error;
    byName = false;
  }
  if (HEX64.test(key) && !doctors.some((d) => d.id === key)) {
    const identity = await rpc.call<IdentityJson | null>('identity_get', { accountId: key }, { signal });
    if (identity !== null && identity.role === 'doctor' && identity.attestations.length > 0) doctors = [...doctors, ...matchesOf(identity)];
    else return { byName, doctors, notADoctor: { id: key, role: identity?.role ?? null } };
  }
  return { byName, doctors };
}

/** Every doctor `hospital` ever attested; null when the node cannot list them. */
export async function attestedBy(rpc: MedchainRpc, hospital: string, signal?: AbortSignal): Promise<DoctorMatch[] | null> {
  try {
    return await rpc.call<DoctorMatch[]>('identity_attestedBy', [hospital], { signal });
  } catch (error) {
    if (isMissingMethod(error)) return null;
    throw error;
  }
}

/** How the dashboards call an account: a doctor by their attested name and hospital, a hospital by name. */
export interface AccountName {
  readonly id: string;
  /** "Dr. Ana Silva" / "St. Mary's" / "Patient 1a2b-…" */
  readonly name: string;
  /** "St. Mary's Hospital", "licence MD-1", "" */
  readonly detail: string;
  readonly role: string | null;
  /** A doctor with no valid attestation now. */
  readonly unattested?: boolean;
}

export function nameOf(identity: IdentityJson | null, id: string, now: number): AccountName {
  if (identity === null) return { id, name: `Account ${fingerprintOf(id)}`, detail: 'not registered', role: null };
  if (identity.role === 'hospital') return { id, name: identity.hospitalName ?? `Hospital ${fingerprintOf(id)}`, detail: 'hospital', role: 'hospital' };
  if (identity.role === 'doctor') {
    const valid = identity.attestations.filter((a) => attestationValid(a, now));
    const shown = valid[0] ?? identity.attestations[identity.attestations.length - 1];
    if (shown === undefined) return { id, name: `Doctor ${fingerprintOf(id)}`, detail: 'not attested by any hospital', role: 'doctor', unattested: true };
    return { id, name: shown.name, detail: shown.hospitalName, role: 'doctor', ...(valid.length === 0 ? { unattested: true } : {}) };
  }
  return { id, name: `Patient ${fingerprintOf(id)}`, detail: '', role: identity.role };
}

const BATCH = 50;

/** Names for accounts (one batch of identity_get per 50). */
export async function accountNames(rpc: MedchainRpc, ids: Iterable<string>, now: number, signal?: AbortSignal): Promise<Map<string, AccountName>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, AccountName>();
  for (let i = 0; i < unique.length; i += BATCH) {
    const chunk = unique.slice(i, i + BATCH);
    const answers = await rpc.batch(chunk.map((id) => rpcCall<IdentityJson | null>('identity_get', { accountId: id })), { signal });
    answers.forEach((answer, j) => {
      const id = chunk[j]!;
      out.set(id, answer.ok ? nameOf(answer.result, id, now) : { id, name: `Account ${fingerprintOf(id)}`, detail: '', role: null });
    });
  }
  return out;
}

/**
 * An EmrClient for an unlocked identity whose every node call is reported first (`onCall(method)`), so a page
 * can say which step an action is at. Throws when the identity is locked.
 */
export function reportingClient(services: Services, account: string, chainId: string | undefined, onCall: (method: string) => void): EmrClient {
  const keyPair = services.session.keyPair(account);
  if (keyPair === undefined) throw new Error('Your identity was locked. Unlock it and try again.');
  if (chainId === undefined) throw new Error('Not connected to the node yet. Wait a moment and try again.');
  const rpc = services.rpc;
  return new EmrClient(
    {
      call<T>(method: string, params: unknown[]): Promise<T> {
        onCall(method);
        return rpc.call<T>(method, params);
      },
    },
    keyPair,
    { chainId, random: services.random, timeoutMs: 60_000, pollMs: 400 },
  );
}
