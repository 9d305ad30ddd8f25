import { concatBytes, u32be, utf8 } from '../codec/bytes.ts';
import type { AccountId, Hash } from '../types/primitives.ts';

/** State key namespaces: the first byte of every state key. Each entry: key -> value. */
export const StateNamespace = {
  /** 0x00 || name -> chain parameters (the genesis spec) */
  Params: 0x00,
  /** 0x01 || accountId -> Account [roleCode, nonce, registeredAt] */
  Account: 0x01,
  /** 0x02 || doctorId || hospitalId -> Attestation [name, licence, expiresAt, attestedAt, revokedAt|nil, reason] */
  Attestation: 0x02,
  /** 0x03 || hospitalId -> Hospital [name]; 0x03 || 'list' -> [hospitalId...] in genesis order */
  Hospital: 0x03,
  /** 0x04 || 'set' -> the validator set [[id, stake]...] sorted by id */
  Validators: 0x04,
  /** 0x05 || recordId -> RecordMeta [owner, policy, createdAt, versionCount, erasedAt|nil] */
  Record: 0x05,
  /** 0x06 || recordId || u32be(version) -> RecordVersion [commitment, size, contentType, author, addedAt] */
  RecordVersion: 0x06,
  /** 0x07 || recordId || granteeId -> Grant [grantor, scopeBits, expiresAt|nil, grantedAt, revokedAt|nil] */
  Grant: 0x07,
} as const;

export const stateKey = {
  params: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Params]), utf8('genesis')),
  account: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Account]), id),
  attestation: (doctor: AccountId, hospital: AccountId): Uint8Array =>
    concatBytes(new Uint8Array([StateNamespace.Attestation]), doctor, hospital),
  hospital: (id: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Hospital]), id),
  hospitalList: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Hospital]), utf8('list')),
  record: (id: Hash): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Record]), id),
  recordVersion: (id: Hash, version: number): Uint8Array =>
    concatBytes(new Uint8Array([StateNamespace.RecordVersion]), id, u32be(version)),
  grant: (record: Hash, grantee: AccountId): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Grant]), record, grantee),
  validatorSet: (): Uint8Array => concatBytes(new Uint8Array([StateNamespace.Validators]), utf8('set')),
};
