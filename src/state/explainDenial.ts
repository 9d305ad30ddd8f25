import { getAccount, getAttestations, getGrant } from './accessors.ts';
import { TxErrorCode } from './errors.ts';
import type { StateReader } from './overlay.ts';
import type { AccessRequest } from './policyContext.ts';
import type { RecordMeta } from '../types/record.ts';

/**
 * Names the fact behind a policy's refusal, so a doctor (and the patient's audit view) sees "your grant
 * expired" rather than "no rule allows read". The policy alone decides; this only explains, checking the
 * requester's facts in the order a person would: the grant, then the doctor's attestation.
 */
export function explainDenial(state: StateReader, record: RecordMeta, request: AccessRequest, time: number): TxErrorCode {
  const attestation = attestationProblem(state, request, time);
  if (request.emergency) return attestation ?? TxErrorCode.EmergencyRefused;
  const grant = getGrant(state, record.id, request.requester);
  if (grant === undefined) return TxErrorCode.NoGrant;
  if (grant.revokedAt !== null) return TxErrorCode.GrantRevoked;
  if (grant.expiresAt !== null && grant.expiresAt <= time) return TxErrorCode.GrantExpired;
  if (!grant.scope.includes(request.action)) return TxErrorCode.ScopeNotGranted;
  return attestation ?? TxErrorCode.AccessDenied;
}

/** For a doctor without a valid attestation: whether one was revoked or none holds. */
function attestationProblem(state: StateReader, request: AccessRequest, time: number): TxErrorCode | undefined {
  if (getAccount(state, request.requester)?.role !== 'doctor') return undefined;
  const attestations = getAttestations(state, request.requester);
  if (attestations.some((a) => a.revokedAt === null && a.expiresAt > time)) return undefined;
  return attestations.some((a) => a.revokedAt !== null) ? TxErrorCode.AttestationRevoked : TxErrorCode.NotAttested;
}
