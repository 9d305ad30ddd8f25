import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { expectArray, expectBigU64, expectBytes, expectBytesUpTo, expectList, expectString, expectU32, expectU64 } from '../codec/fields.ts';
import { DecodeError, DecodeReason } from '../codec/errors.ts';
import { MAX_CONTENT_TYPE_BYTES, MAX_LICENCE_BYTES, MAX_NAME_BYTES, MAX_REASON_BYTES, decodeScope, encodeScope } from '../codec/payloads.ts';
import { MAX_PROGRAM_BYTES } from '../script/limits.ts';
import type { Grant, RecordMeta, RecordVersion } from '../types/record.ts';
import { ROLE_CODES, type Account, type Attestation, type Role } from '../types/identity.ts';
import { ACCOUNT_ID_LENGTH, HASH_LENGTH, type AccountId, type Hash } from '../types/primitives.ts';

/** Canonical encodings of state values; decoding a stored value that fails is corruption, not user error. */

const MAX_STATE_VALUE_BYTES = 4096;

const ROLE_BY_CODE = new Map<number, Role>(Object.entries(ROLE_CODES).map(([role, code]) => [code, role as Role]));

export function encodeAccount(a: Account): Uint8Array {
  return encodeCanonical([ROLE_CODES[a.role], a.nonce, a.registeredAt]);
}

export function decodeAccount(bytes: Uint8Array): Account {
  const [role, nonce, registeredAt] = expectArray(decodeCanonical(bytes, MAX_STATE_VALUE_BYTES, 'account'), 3, 'account');
  const roleName = ROLE_BY_CODE.get(expectU32(role, 'account.role'));
  if (roleName === undefined) throw new DecodeError(DecodeReason.UnknownType, 'account.role', 'unknown role');
  return { role: roleName, nonce: expectU32(nonce, 'account.nonce'), registeredAt: expectU32(registeredAt, 'account.registeredAt') };
}

export function encodeAttestation(a: Attestation): Uint8Array {
  return encodeCanonical([a.name, a.licence, BigInt(a.expiresAt), a.attestedAt, a.revokedAt, a.revokeReason]);
}

export function decodeAttestation(doctor: AccountId, hospital: AccountId, bytes: Uint8Array): Attestation {
  const value = decodeCanonical(bytes, MAX_STATE_VALUE_BYTES, 'attestation');
  const [name, licence, expiresAt, attestedAt, revokedAt, reason] = expectArray(value, 6, 'attestation');
  return {
    doctor,
    hospital,
    name: expectString(name, MAX_NAME_BYTES, 'attestation.name'),
    licence: expectString(licence, MAX_LICENCE_BYTES, 'attestation.licence'),
    expiresAt: expectU64(expiresAt, 'attestation.expiresAt'),
    attestedAt: expectU32(attestedAt, 'attestation.attestedAt'),
    revokedAt: revokedAt === null ? null : expectU32(revokedAt, 'attestation.revokedAt'),
    revokeReason: expectString(reason, MAX_REASON_BYTES, 'attestation.revokeReason'),
  };
}

export function encodeHospitalName(name: string): Uint8Array {
  return encodeCanonical([name]);
}

export function decodeHospitalName(bytes: Uint8Array): string {
  const [name] = expectArray(decodeCanonical(bytes, MAX_STATE_VALUE_BYTES, 'hospital'), 1, 'hospital');
  return expectString(name, MAX_NAME_BYTES, 'hospital.name');
}

export interface Validator {
  readonly id: AccountId;
  readonly stake: bigint;
}

/** The validator set, kept sorted by id so every node walks it in the same order. */
export function encodeValidatorSet(validators: readonly Validator[]): Uint8Array {
  return encodeCanonical(validators.map((v) => [v.id, v.stake]));
}

export function decodeValidatorSet(bytes: Uint8Array): Validator[] {
  const list = expectList(decodeCanonical(bytes, 1 << 20, 'validators'), 10_000, 'validators');
  return list.map((entry, i) => {
    const [id, stake] = expectArray(entry, 2, `validators[${i}]`);
    return { id: expectBytes(id, ACCOUNT_ID_LENGTH, `validators[${i}].id`), stake: expectBigU64(stake, `validators[${i}].stake`) };
  });
}

export function encodeHospitalList(ids: readonly AccountId[]): Uint8Array {
  return encodeCanonical([...ids]);
}

export function decodeHospitalList(bytes: Uint8Array): AccountId[] {
  const list = expectList(decodeCanonical(bytes, 1 << 20, 'hospitals'), 10_000, 'hospitals');
  return list.map((id, i) => expectBytes(id, ACCOUNT_ID_LENGTH, `hospitals[${i}]`));
}

export function encodeRecordMeta(r: RecordMeta): Uint8Array {
  return encodeCanonical([r.owner, r.policy, r.createdAt, r.versionCount, r.erasedAt]);
}

export function decodeRecordMeta(id: Hash, bytes: Uint8Array): RecordMeta {
  const [owner, policy, createdAt, versionCount, erasedAt] = expectArray(decodeCanonical(bytes, 8192, 'record'), 5, 'record');
  return {
    id,
    owner: expectBytes(owner, ACCOUNT_ID_LENGTH, 'record.owner'),
    policy: expectBytesUpTo(policy, MAX_PROGRAM_BYTES, 'record.policy'),
    createdAt: expectU32(createdAt, 'record.createdAt'),
    versionCount: expectU32(versionCount, 'record.versionCount'),
    erasedAt: erasedAt === null ? null : expectU32(erasedAt, 'record.erasedAt'),
  };
}

export function encodeRecordVersion(v: RecordVersion): Uint8Array {
  return encodeCanonical([v.commitment, BigInt(v.size), v.contentType, v.author, v.addedAt]);
}

export function decodeRecordVersion(bytes: Uint8Array): RecordVersion {
  const [commitment, size, contentType, author, addedAt] = expectArray(decodeCanonical(bytes, 1024, 'version'), 5, 'version');
  return {
    commitment: expectBytes(commitment, HASH_LENGTH, 'version.commitment'),
    size: expectU64(size, 'version.size'),
    contentType: expectString(contentType, MAX_CONTENT_TYPE_BYTES, 'version.contentType'),
    author: expectBytes(author, ACCOUNT_ID_LENGTH, 'version.author'),
    addedAt: expectU32(addedAt, 'version.addedAt'),
  };
}

export function encodeGrant(g: Grant): Uint8Array {
  return encodeCanonical([g.grantor, encodeScope(g.scope), g.expiresAt === null ? null : BigInt(g.expiresAt), g.grantedAt, g.revokedAt]);
}

export function decodeGrant(grantee: AccountId, bytes: Uint8Array): Grant {
  const [grantor, scope, expiresAt, grantedAt, revokedAt] = expectArray(decodeCanonical(bytes, 1024, 'grant'), 5, 'grant');
  return {
    grantee,
    grantor: expectBytes(grantor, ACCOUNT_ID_LENGTH, 'grant.grantor'),
    scope: decodeScope(scope, 'grant.scope'),
    expiresAt: expiresAt === null ? null : expectU64(expiresAt, 'grant.expiresAt'),
    grantedAt: expectU32(grantedAt, 'grant.grantedAt'),
    revokedAt: revokedAt === null ? null : expectU32(revokedAt, 'grant.revokedAt'),
  };
}
