import type { WireValue } from './canonical.ts';
import { DecodeError, DecodeReason } from './errors.ts';
import { expectArray, expectBigU64, expectBoolean, expectBytes, expectBytesUpTo, expectString, expectTime, expectU32, expectU64 } from './fields.ts';
import { MAX_PROGRAM_BYTES } from '../script/limits.ts';
import { ACCOUNT_ID_LENGTH, HASH_LENGTH } from '../types/primitives.ts';
import { ACCESS_ACTIONS, type AccessAction } from '../types/record.ts';
import { ROLE_CODES } from '../types/identity.ts';
import { EvidenceKind, TxType, type TxBody } from '../types/transaction.ts';

/** Evidence carries two vote transactions or two block headers; either fits well within this. */
export const MAX_EVIDENCE_ITEM_BYTES = 4096;

/** Limits of identity payload fields. */
export const MAX_NAME_BYTES = 128;
export const MAX_LICENCE_BYTES = 64;
export const MAX_REASON_BYTES = 256;
export const MAX_CONTENT_TYPE_BYTES = 128;
/** Purpose of use: an HL7 PurposeOfUse code such as TREAT, ETREAT, HPAYMT. */
export const PURPOSE_PATTERN = /^[A-Z][A-Z0-9_-]{0,31}$/;
export const MAX_PURPOSE_BYTES = 32;
/** Content types are MIME-like tokens (`application/fhir+json`): no free text, so nothing personal. */
export const CONTENT_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

const SCOPE_BITS: Readonly<Record<AccessAction, number>> = { read: 1, write: 2, delegate: 4 };

/** A grant scope on the wire: a bit set (read 1, write 2, delegate 4), never empty. */
export function encodeScope(scope: readonly AccessAction[]): number {
  let bits = 0;
  for (const action of scope) bits |= SCOPE_BITS[action];
  return bits;
}

/** Decodes a scope bit set; 0 and unknown bits are refused. */
export function decodeScope(value: WireValue | undefined, field: string): AccessAction[] {
  const bits = expectU32(value, field);
  if (bits === 0 || bits > 7) throw new DecodeError(DecodeReason.OutOfRange, field, `scope bits ${bits} must be a non-empty subset of read=1, write=2, delegate=4`);
  return ACCESS_ACTIONS.filter((a) => (bits & SCOPE_BITS[a]) !== 0);
}

function expectOptionalTime(value: WireValue | undefined, field: string): number | null {
  return value === null ? null : expectTime(value, field);
}

interface PayloadCodec<B extends TxBody> {
  encode(body: B): WireValue;
  decode(payload: WireValue, field: string): B;
}

type CodecTable = { readonly [T in TxBody['type']]: PayloadCodec<Extract<TxBody, { type: T }>> };

/** One entry per transaction type: its payload's wire shape. Adding a type is adding an entry here. */
const PAYLOAD_CODECS: CodecTable = {
  [TxType.RegisterIdentity]: {
    encode: (b) => [ROLE_CODES[b.role]],
    decode(payload, field) {
      const [role] = expectArray(payload, 1, field);
      const code = expectU32(role, `${field}.role`);
      if (code === ROLE_CODES.patient) return { type: TxType.RegisterIdentity, role: 'patient' };
      if (code === ROLE_CODES.doctor) return { type: TxType.RegisterIdentity, role: 'doctor' };
      throw new DecodeError(DecodeReason.UnknownType, `${field}.role`, `role ${code} cannot self-register`);
    },
  },
  [TxType.AttestDoctor]: {
    encode: (b) => [b.doctor, b.name, b.licence, BigInt(b.expiresAt)],
    decode(payload, field) {
      const [doctor, name, licence, expiresAt] = expectArray(payload, 4, field);
      return {
        type: TxType.AttestDoctor,
        doctor: expectBytes(doctor, ACCOUNT_ID_LENGTH, `${field}.doctor`),
        name: expectString(name, MAX_NAME_BYTES, `${field}.name`),
        licence: expectString(licence, MAX_LICENCE_BYTES, `${field}.licence`),
        expiresAt: expectTime(expiresAt, `${field}.expiresAt`),
      };
    },
  },
  [TxType.RevokeAttestation]: {
    encode: (b) => [b.doctor, b.reason],
    decode(payload, field) {
      const [doctor, reason] = expectArray(payload, 2, field);
      return {
        type: TxType.RevokeAttestation,
        doctor: expectBytes(doctor, ACCOUNT_ID_LENGTH, `${field}.doctor`),
        reason: expectString(reason, MAX_REASON_BYTES, `${field}.reason`),
      };
    },
  },
  [TxType.CreateRecord]: {
    encode: (b) => [b.commitment, BigInt(b.size), b.contentType, b.policy],
    decode(payload, field) {
      const [commitment, size, contentType, policy] = expectArray(payload, 4, field);
      return {
        type: TxType.CreateRecord,
        commitment: expectBytes(commitment, HASH_LENGTH, `${field}.commitment`),
        size: expectU64(size, `${field}.size`),
        contentType: expectString(contentType, MAX_CONTENT_TYPE_BYTES, `${field}.contentType`, CONTENT_TYPE_PATTERN),
        policy: expectBytesUpTo(policy, MAX_PROGRAM_BYTES, `${field}.policy`),
      };
    },
  },
  [TxType.AddRecordVersion]: {
    encode: (b) => [b.record, b.commitment, BigInt(b.size), b.contentType],
    decode(payload, field) {
      const [record, commitment, size, contentType] = expectArray(payload, 4, field);
      return {
        type: TxType.AddRecordVersion,
        record: expectBytes(record, HASH_LENGTH, `${field}.record`),
        commitment: expectBytes(commitment, HASH_LENGTH, `${field}.commitment`),
        size: expectU64(size, `${field}.size`),
        contentType: expectString(contentType, MAX_CONTENT_TYPE_BYTES, `${field}.contentType`, CONTENT_TYPE_PATTERN),
      };
    },
  },
  [TxType.SetRecordPolicy]: {
    encode: (b) => [b.record, b.policy],
    decode(payload, field) {
      const [record, policy] = expectArray(payload, 2, field);
      return {
        type: TxType.SetRecordPolicy,
        record: expectBytes(record, HASH_LENGTH, `${field}.record`),
        policy: expectBytesUpTo(policy, MAX_PROGRAM_BYTES, `${field}.policy`),
      };
    },
  },
  [TxType.EraseRecord]: {
    encode: (b) => [b.record],
    decode(payload, field) {
      const [record] = expectArray(payload, 1, field);
      return { type: TxType.EraseRecord, record: expectBytes(record, HASH_LENGTH, `${field}.record`) };
    },
  },
  [TxType.ReadRecord]: {
    encode: (b) => [b.record, b.version, b.purpose, b.emergency, b.reason],
    decode(payload, field) {
      const [record, version, purpose, emergency, reason] = expectArray(payload, 5, field);
      return {
        type: TxType.ReadRecord,
        record: expectBytes(record, HASH_LENGTH, `${field}.record`),
        version: expectU32(version, `${field}.version`),
        purpose: expectString(purpose, MAX_PURPOSE_BYTES, `${field}.purpose`, PURPOSE_PATTERN),
        emergency: expectBoolean(emergency, `${field}.emergency`),
        reason: expectString(reason, MAX_REASON_BYTES, `${field}.reason`),
      };
    },
  },
  [TxType.GrantAccess]: {
    encode: (b) => [b.record, b.grantee, encodeScope(b.scope), b.expiresAt === null ? null : BigInt(b.expiresAt)],
    decode(payload, field) {
      const [record, grantee, scope, expiresAt] = expectArray(payload, 4, field);
      return {
        type: TxType.GrantAccess,
        record: expectBytes(record, HASH_LENGTH, `${field}.record`),
        grantee: expectBytes(grantee, ACCOUNT_ID_LENGTH, `${field}.grantee`),
        scope: decodeScope(scope, `${field}.scope`),
        expiresAt: expectOptionalTime(expiresAt, `${field}.expiresAt`),
      };
    },
  },
  [TxType.RevokeAccess]: {
    encode: (b) => [b.record, b.grantee],
    decode(payload, field) {
      const [record, grantee] = expectArray(payload, 2, field);
      return {
        type: TxType.RevokeAccess,
        record: expectBytes(record, HASH_LENGTH, `${field}.record`),
        grantee: expectBytes(grantee, ACCOUNT_ID_LENGTH, `${field}.grantee`),
      };
    },
  },
  [TxType.Vote]: {
    encode: (b) => [b.sourceHeight, b.sourceHash, b.targetHeight, b.targetHash],
    decode(payload, field) {
      const [sourceHeight, sourceHash, targetHeight, targetHash] = expectArray(payload, 4, field);
      return {
        type: TxType.Vote,
        sourceHeight: expectU32(sourceHeight, `${field}.sourceHeight`),
        sourceHash: expectBytes(sourceHash, HASH_LENGTH, `${field}.sourceHash`),
        targetHeight: expectU32(targetHeight, `${field}.targetHeight`),
        targetHash: expectBytes(targetHash, HASH_LENGTH, `${field}.targetHash`),
      };
    },
  },
  [TxType.Evidence]: {
    encode: (b) => [b.kind, b.first, b.second],
    decode(payload, field) {
      const [kind, first, second] = expectArray(payload, 3, field);
      const code = expectU32(kind, `${field}.kind`);
      if (code !== EvidenceKind.DoubleVote && code !== EvidenceKind.DoubleProposal) {
        throw new DecodeError(DecodeReason.UnknownType, `${field}.kind`, `unknown evidence kind ${code}`);
      }
      return {
        type: TxType.Evidence,
        kind: code,
        first: expectBytesUpTo(first, MAX_EVIDENCE_ITEM_BYTES, `${field}.first`),
        second: expectBytesUpTo(second, MAX_EVIDENCE_ITEM_BYTES, `${field}.second`),
      };
    },
  },
  [TxType.Stake]: {
    encode: (b) => [b.amount],
    decode(payload, field) {
      const [amount] = expectArray(payload, 1, field);
      return { type: TxType.Stake, amount: expectBigU64(amount, `${field}.amount`) };
    },
  },
  [TxType.Unstake]: {
    encode: (b) => [b.amount],
    decode(payload, field) {
      const [amount] = expectArray(payload, 1, field);
      return { type: TxType.Unstake, amount: expectBigU64(amount, `${field}.amount`) };
    },
  },
};

/** Encodes a body's payload (the fifth element of a transaction). */
export function encodePayload(body: TxBody): WireValue {
  const codec = PAYLOAD_CODECS[body.type] as PayloadCodec<TxBody>;
  return codec.encode(body);
}

/** Decodes the payload of a transaction of wire type `type`. */
export function decodePayload(type: number, payload: WireValue, field: string): TxBody {
  const codec = (PAYLOAD_CODECS as Record<number, PayloadCodec<TxBody> | undefined>)[type];
  if (codec === undefined) throw new DecodeError(DecodeReason.UnknownType, 'tx.type', `unknown transaction type ${type}`);
  return codec.decode(payload, field);
}

/** Human names of transaction types, for logs, RPC and the explorer. */
export const TX_TYPE_NAMES: Readonly<Record<TxBody['type'], string>> = {
  [TxType.RegisterIdentity]: 'identity.register',
  [TxType.AttestDoctor]: 'identity.attest',
  [TxType.RevokeAttestation]: 'identity.revokeAttestation',
  [TxType.CreateRecord]: 'record.create',
  [TxType.AddRecordVersion]: 'record.addVersion',
  [TxType.SetRecordPolicy]: 'record.setPolicy',
  [TxType.EraseRecord]: 'record.erase',
  [TxType.GrantAccess]: 'access.grant',
  [TxType.RevokeAccess]: 'access.revoke',
  [TxType.ReadRecord]: 'access.read',
  [TxType.Vote]: 'consensus.vote',
  [TxType.Evidence]: 'consensus.evidence',
  [TxType.Stake]: 'consensus.stake',
  [TxType.Unstake]: 'consensus.unstake',
};
