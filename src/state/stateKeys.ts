import { concatBytes, utf8 } from '../codec/bytes.ts';
import type { AccountId } from '../types/primitives.ts';

/** State key namespaces: the first byte of every state key. Each entry: key -> value. */
export const StateNamespace = {
  /** 0x00 || name -> chain parameters (the genesis spec) */
  Params: 0x00,
  /** 0x01 || accountId -> Account [roleCode, nonce, registeredAt] */
  Account: 0x01,
  /** 0x02 || doctorId || hospitalId -> Attestation [name, licence, expiresAt, attestedAt, revokedAt|nil, reason] */
  Attestation: 0x02,
  /** 0x03 || hospitalId -> Hospital [name] */
  Hospital: 0x03,
  /** 0x04 || 'set' -> the validator set [[id, stake]...] sorted by id */
  Validators: 0x04,
} as const;

export const stateKey = {
  params: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Params]), utf8('genesis')),
  account: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Account]), id),
  attestation: (doctor: AccountId, hospital: AccountId): Uint8Array =>
    concatBytes(new Uint8Array([StateNamespace.Attestation]), doctor, hospital),
  hospital: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Hospital]), id),
  validatorSet: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Validators]), utf8('set')),
};
