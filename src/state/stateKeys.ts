import { concatBytes, utf8, writeU32be } from '../codec/bytes.ts';
import { keyString } from './overlay.ts';
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
  /** 0x08 || u32be(height) -> block hash, for the last BLOCK_HASH_WINDOW ancestors and all above the justified block */
  BlockHash: 0x08,
  /** 0x09 || validatorId || u32be(targetHeight) -> [sourceHeight] the validator's vote at that target height */
  Vote: 0x09,
  /** 0x0a || u32be(sourceHeight) || u32be(targetHeight) -> stake that voted for that link */
  Tally: 0x0a,
  /**
   * 0x0b || 'f' -> [justifiedHeight, justifiedHash, finalizedHeight, finalizedHash]; 0x0b || 'j' || u32be(h) -> hash;
   * 0x0b || 'p' -> the next height whose voting data is to be pruned
   */
  Finality: 0x0b,
  /** 0x0c || u32be(height) -> [[validatorId, delta sign (0 add, 1 withdraw), amount]...] stake changes due then */
  StakeChange: 0x0c,
  /** 0x0d || hospitalId -> unbonded balance (u64) */
  Balance: 0x0d,
  /** 0x0e || validatorId -> [height, evidence kind] of the slashing */
  Slashed: 0x0e,
} as const;

// Keys are built on every state read and write of a block, so each is one allocation (no temporaries).
/** ns || a */
function key1(ns: number, a: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + a.length);
  out[0] = ns;
  out.set(a, 1);
  return out;
}

/** ns || a || b */
function key2(ns: number, a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + a.length + b.length);
  out[0] = ns;
  out.set(a, 1);
  out.set(b, 1 + a.length);
  return out;
}

/** ns || a || u32be(n) */
function keyU32(ns: number, a: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(1 + a.length + 4);
  out[0] = ns;
  out.set(a, 1);
  writeU32be(out, 1 + a.length, n);
  return out;
}

const NO_BYTES = new Uint8Array(0);
const PARAMS_KEY = concatBytes(new Uint8Array([StateNamespace.Params]), utf8('genesis'));
const HOSPITAL_LIST_KEY = concatBytes(new Uint8Array([StateNamespace.Hospital]), utf8('list'));
const VALIDATOR_SET_KEY = concatBytes(new Uint8Array([StateNamespace.Validators]), utf8('set'));
const FINALITY_KEY = concatBytes(new Uint8Array([StateNamespace.Finality]), utf8('f'));
const JUSTIFIED_PREFIX = utf8('j');
const PRUNE_CURSOR_KEY = concatBytes(new Uint8Array([StateNamespace.Finality]), utf8('p'));

/** Every call returns a new array: a caller may keep or change the key it was given. */
export const stateKey = {
  params: (): Uint8Array => PARAMS_KEY.slice(),
  account: (id: AccountId): Uint8Array => key1(StateNamespace.Account, id),
  attestation: (doctor: AccountId, hospital: AccountId): Uint8Array => key2(StateNamespace.Attestation, doctor, hospital),
  hospital: (id: AccountId): Uint8Array => key1(StateNamespace.Hospital, id),
  hospitalList: (): Uint8Array => HOSPITAL_LIST_KEY.slice(),
  record: (id: Hash): Uint8Array => key1(StateNamespace.Record, id),
  recordVersion: (id: Hash, version: number): Uint8Array => keyU32(StateNamespace.RecordVersion, id, version),
  grant: (record: Hash, grantee: AccountId): Uint8Array => key2(StateNamespace.Grant, record, grantee),
  validatorSet: (): Uint8Array => VALIDATOR_SET_KEY.slice(),
  blockHash: (height: number): Uint8Array => keyU32(StateNamespace.BlockHash, NO_BYTES, height),
  vote: (validator: AccountId, targetHeight: number): Uint8Array => keyU32(StateNamespace.Vote, validator, targetHeight),
  tally: (sourceHeight: number, targetHeight: number): Uint8Array => {
    const out = new Uint8Array(9);
    out[0] = StateNamespace.Tally;
    writeU32be(out, 1, sourceHeight);
    writeU32be(out, 5, targetHeight);
    return out;
  },
  finality: (): Uint8Array => FINALITY_KEY.slice(),
  justified: (height: number): Uint8Array => keyU32(StateNamespace.Finality, JUSTIFIED_PREFIX, height),
  pruneCursor: (): Uint8Array => PRUNE_CURSOR_KEY.slice(),
  stakeChanges: (height: number): Uint8Array => keyU32(StateNamespace.StakeChange, NO_BYTES, height),
  balance: (id: AccountId): Uint8Array => key1(StateNamespace.Balance, id),
  slashed: (id: AccountId): Uint8Array => key1(StateNamespace.Slashed, id),
};

const RECORD_VERSION_CHAR = String.fromCharCode(StateNamespace.RecordVersion);
const HOSPITAL_LIST_STRING = keyString(HOSPITAL_LIST_KEY);

/** Character codes of a key string being built, reused: the builders below run synchronously. */
const keyCodes: number[] = [];

/**
 * keyString(ns || a || b) as one flat string: a concatenation of the parts' strings is a rope that every map
 * lookup first copies into one, and apply() takes a plain array far faster than a typed array (see keyString).
 */
function partsKeyString(ns: number, a: Uint8Array, b: Uint8Array = NO_BYTES): string {
  const n = a.length;
  const m = b.length;
  keyCodes.length = 1 + n + m;
  keyCodes[0] = ns;
  for (let i = 0; i < n; i++) keyCodes[1 + i] = a[i]!;
  for (let i = 0; i < m; i++) keyCodes[1 + n + i] = b[i]!;
  return String.fromCharCode.apply(null, keyCodes);
}

/**
 * keyString of the keys above, built from their parts (for getByKeyString): equal to
 * `keyString(stateKey.x(...))` for the same arguments (test/unit/state/stateKeys.test.ts).
 */
export const stateKeyString = {
  account: (id: AccountId): string => partsKeyString(StateNamespace.Account, id),
  attestation: (doctor: AccountId, hospital: AccountId): string => partsKeyString(StateNamespace.Attestation, doctor, hospital),
  /** attestation(doctor, hospital) is this + keyString(hospital): a doctor's attestations share it. */
  attestationsOf: (doctor: AccountId): string => partsKeyString(StateNamespace.Attestation, doctor),
  hospital: (id: AccountId): string => partsKeyString(StateNamespace.Hospital, id),
  hospitalList: (): string => HOSPITAL_LIST_STRING,
  record: (id: Hash): string => partsKeyString(StateNamespace.Record, id),
  recordVersion: (id: Hash, version: number): string => {
    const v = version >>> 0;
    return RECORD_VERSION_CHAR + keyString(id) + String.fromCharCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  },
  grant: (record: Hash, grantee: AccountId): string => partsKeyString(StateNamespace.Grant, record, grantee),
};
