import type { WireValue } from './canonical.ts';
import { DecodeError, DecodeReason } from './errors.ts';
import { expectArray, expectBytes, expectString, expectU32, expectU64 } from './fields.ts';
import { ACCOUNT_ID_LENGTH } from '../types/primitives.ts';
import { ROLE_CODES } from '../types/identity.ts';
import { TxType, type TxBody } from '../types/transaction.ts';

/** Limits of identity payload fields. */
export const MAX_NAME_BYTES = 128;
export const MAX_LICENCE_BYTES = 64;
export const MAX_REASON_BYTES = 256;

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
        expiresAt: expectU64(expiresAt, `${field}.expiresAt`),
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
};
