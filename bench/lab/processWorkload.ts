/**
 * The consensus lab's EMR workload for real node processes (issue 7 §2): every key derives from the seed, and
 * every transaction is signed before the nodes start, so the same seed gives the same transactions byte for
 * byte (the genesis time is the only thing that differs between runs, and no transaction depends on it).
 *
 * Patients and doctors are genesis accounts (registered at height 0). Setup waves, submitted and waited for
 * before anything is measured: the hospitals (the validators) attest the doctors; each patient creates a
 * record; each patient grants two doctors read and write on it (the doctors that use it later) and a third
 * read only (a spare grant, revoked later). The measured stream then mixes read receipts and new versions by
 * granted doctors (both run the record's policy), new versions by owners, new grants, revocations of the
 * spare grants, new records, registrations of fresh keys and attestations of doctors not attested yet.
 *
 * A measured transaction depends only on the setup and on its own sender's earlier transactions (nonces), never
 * on another measured transaction, so any interleaving the network chooses is valid and the stream can be
 * offered at a fixed rate without waiting for inclusions.
 *
 * Every record version comes with its blobs, as a client's would: a ciphertext (seeded bytes standing for the
 * encrypted FHIR bundle; the node checks only its size and salted commitment), uploaded with key envelopes by
 * processUploads.ts once the version's number is known.
 */
import { signTransaction } from '../../src/codec/transaction.ts';
import { toHex, utf8 } from '../../src/codec/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { commitCiphertext } from '../../src/envelope/commitment.ts';
import { DEFAULT_POLICY } from '../../src/script/templates.ts';
import type { AccessAction } from '../../src/types/record.ts';
import { TxType, type Transaction, type TxBody } from '../../src/types/transaction.ts';
import { seededRandom } from '../lib/workload.ts';

/** Seeded pseudo-random bytes (not secret: benchmark blobs and data keys). */
export function seededBytes(seed: number): (length: number) => Uint8Array {
  const random = seededRandom(seed);
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const word = Math.floor(random() * 0x1_0000_0000);
      for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (word >>> (8 * k)) & 0xff;
    }
    return out;
  };
}

export const LAB_CHAIN_ID = 'medchain-lab';
/** Attestations and nothing else carry a time; a fixed one keeps the bytes independent of the run's clock. */
export const LAB_ATTESTATION_EXPIRY = Date.UTC(2100, 0, 1);
/** Setup waves never give one sender more transactions than this at once (the mempool holds 64 per sender). */
const MAX_PER_SENDER_PER_WAVE = 48;
/**
 * Setup waves that create blobs hold at most this many transactions, so the lab's uploads reach every node
 * before its custody fetches start (a second after import) and hospitals do not fetch from each other.
 */
const MAX_BLOB_TXS_PER_WAVE = 80;
/** Ciphertext sizes: small FHIR bundles (every hospital stores every version). */
const CREATE_BYTES = 1024;
const OWNER_VERSION_BYTES = 512;
const DOCTOR_VERSION_BYTES = 768;

/** Measured kinds and their weights (out of 100). */
export const LAB_MIX: readonly (readonly [LabTxKind, number])[] = [
  ['read', 42],
  ['doctorVersion', 10],
  ['ownerVersion', 8],
  ['grant', 6],
  ['revoke', 4],
  ['create', 12],
  ['register', 15],
  ['attest', 3],
];
export type LabTxKind = 'attest' | 'create' | 'grant' | 'read' | 'doctorVersion' | 'ownerVersion' | 'revoke' | 'register';

/** The off-chain side of a transaction that makes hospitals want blobs (custody replication). */
export type LabBlob =
  | {
      /** A new version (a record's creation is its version 0). */
      readonly kind: 'version';
      readonly record: Uint8Array;
      readonly owner: KeyPair;
      readonly author: KeyPair;
      readonly salt: Uint8Array;
      readonly ciphertext: Uint8Array;
    }
  | {
      /** A grant with read scope: the grantee needs an envelope of every version. */
      readonly kind: 'grant';
      readonly record: Uint8Array;
      readonly owner: KeyPair;
      readonly grantee: Uint8Array;
    };

export interface LabTx {
  readonly tx: Transaction;
  readonly id: string;
  readonly hex: string;
  readonly kind: LabTxKind;
  readonly blob?: LabBlob;
}

export interface LabWorkloadOptions {
  readonly seed: number;
  readonly validators: number;
  /** Measured transactions to sign (main window plus saturation step). */
  readonly measuredTxs: number;
}

export interface LabWorkload {
  readonly seed: number;
  /** The validators' keys, in node order (node i runs with hospitals[i]). */
  readonly hospitals: readonly KeyPair[];
  /** Genesis accounts: the patients and doctors the workload uses. */
  readonly accounts: readonly { readonly id: string; readonly role: 'patient' | 'doctor' }[];
  readonly patients: number;
  readonly doctors: number;
  /** Setup transactions in waves: a wave may depend on the waves before it, never on itself. */
  readonly setup: readonly (readonly LabTx[])[];
  /** The measured stream, in submission order. */
  readonly measured: readonly LabTx[];
  readonly mixCounts: Readonly<Record<string, number>>;
}

interface Actor {
  readonly key: KeyPair;
  nonce: number;
}

interface LabRecord {
  readonly id: Uint8Array;
  readonly owner: Actor;
  /** Doctors (indexes) with read and write, used by the measured reads and versions. */
  readonly users: readonly number[];
  /** The doctor with the spare read-only grant, revoked at most once. */
  spare: number | undefined;
  /** Every doctor ever granted on this record (a second grant would replace the first). */
  readonly granted: Set<number>;
}

/** Actor counts for a stream of `measuredTxs`: enough senders that none has many transactions pending at once. */
export function labActorCounts(measuredTxs: number): { patients: number; doctors: number } {
  const doctors = Math.min(2000, Math.max(8, Math.ceil(measuredTxs / 60)));
  const patients = Math.min(6000, doctors * 2);
  return { patients, doctors };
}

/**
 * Doctors waiting to be attested in the measured stream: at most 24 per hospital, so a hospital never has
 * more pending than the mempool takes from one sender (64) even when nothing is included for a while.
 */
export function labUnattestedCount(measuredTxs: number, validators: number): number {
  return Math.min(24 * validators, Math.ceil((measuredTxs * 3) / 100) + 8);
}

/** Builds and signs the whole workload. */
export function generateLabWorkload(options: LabWorkloadOptions): LabWorkload {
  const { seed, validators, measuredTxs } = options;
  if (!Number.isInteger(measuredTxs) || measuredTxs < 0) throw new RangeError(`measuredTxs must be a non-negative integer, got ${measuredTxs}`);
  const keyOf = (name: string): KeyPair => keyPairFromSeed(sha256(utf8(`medchain-lab/${seed}/${name}`)));
  const counts = labActorCounts(measuredTxs);
  const hospitals: Actor[] = Array.from({ length: validators }, (_, i) => ({ key: keyOf(`hospital/${i}`), nonce: 0 }));
  const patients: Actor[] = Array.from({ length: counts.patients }, (_, i) => ({ key: keyOf(`patient/${i}`), nonce: 0 }));
  const doctors: Actor[] = Array.from({ length: counts.doctors }, (_, i) => ({ key: keyOf(`doctor/${i}`), nonce: 0 }));
  const unattested: Actor[] = Array.from({ length: labUnattestedCount(measuredTxs, validators) }, (_, i) => ({ key: keyOf(`new-doctor/${i}`), nonce: 0 }));
  const random = seededRandom(seed);
  const sign = (actor: Actor, kind: LabTxKind, body: TxBody): LabTx => {
    const tx = signTransaction({ chainId: LAB_CHAIN_ID, sender: actor.key.publicKey, nonce: actor.nonce++, body }, actor.key.secretKey);
    return { tx, id: toHex(tx.id), hex: toHex(tx.bytes), kind };
  };
  let attested = 0;
  const attest = (hospital: Actor, doctor: Actor): LabTx =>
    sign(hospital, 'attest', {
      type: TxType.AttestDoctor,
      doctor: doctor.key.publicKey,
      name: `Dr Lab ${attested}`,
      licence: `LAB-${seed}-${attested++}`,
      expiresAt: LAB_ATTESTATION_EXPIRY,
    });
  // Blob bytes from their own seeded stream, so adding a kind to the mix does not shift them.
  const bytes = seededBytes(seed ^ 0x5eed_b10b);
  /** A version's blobs and the body fields that commit to them. */
  const newVersion = (size: number): { salt: Uint8Array; ciphertext: Uint8Array; commitment: Uint8Array } => {
    const salt = bytes(32);
    const ciphertext = bytes(size);
    return { salt, ciphertext, commitment: commitCiphertext(ciphertext, salt) };
  };
  const signVersion = (author: Actor, owner: Actor, kind: LabTxKind, size: number, body: (commitment: Uint8Array) => TxBody, recordOf?: (tx: Transaction) => Uint8Array): LabTx => {
    const v = newVersion(size);
    const t = sign(author, kind, body(v.commitment));
    const record = recordOf === undefined ? t.tx.id : recordOf(t.tx);
    return { ...t, blob: { kind: 'version', record, owner: owner.key, author: author.key, salt: v.salt, ciphertext: v.ciphertext } };
  };
  const signGrant = (owner: Actor, record: Uint8Array, grantee: Actor, scope: AccessAction[]): LabTx => {
    const t = sign(owner, 'grant', { type: TxType.GrantAccess, record, grantee: grantee.key.publicKey, scope, expiresAt: null });
    return scope.includes('read') ? { ...t, blob: { kind: 'grant', record, owner: owner.key, grantee: grantee.key.publicKey } } : t;
  };
  const createBody = (size: number) => (commitment: Uint8Array): TxBody => ({ type: TxType.CreateRecord, commitment, size, contentType: 'application/fhir+json', policy: DEFAULT_POLICY });
  const versionBody = (record: Uint8Array, size: number) => (commitment: Uint8Array): TxBody => ({ type: TxType.AddRecordVersion, record, commitment, size, contentType: 'application/fhir+json' });

  // ---- setup ----
  const setup: LabTx[][] = [];
  /** Appends txs as waves in which no sender has more than MAX_PER_SENDER_PER_WAVE transactions. */
  const addWaves = (txs: readonly LabTx[]): void => {
    const waves: LabTx[][] = [];
    const perSender = new Map<string, number>();
    for (const t of txs) {
      const sender = toHex(t.tx.sender);
      const n = perSender.get(sender) ?? 0;
      perSender.set(sender, n + 1);
      const w = Math.floor(n / MAX_PER_SENDER_PER_WAVE);
      (waves[w] ??= []).push(t);
    }
    for (const wave of waves) {
      const size = wave.some((t) => t.blob !== undefined) ? MAX_BLOB_TXS_PER_WAVE : wave.length;
      for (let i = 0; i < wave.length; i += size) setup.push(wave.slice(i, i + size));
    }
  };
  addWaves(doctors.map((d, i) => attest(hospitals[i % validators]!, d)));
  const records: LabRecord[] = [];
  const creates = patients.map((owner) => {
    const t = signVersion(owner, owner, 'create', CREATE_BYTES, createBody(CREATE_BYTES));
    records.push({ id: t.tx.id, owner, users: [], spare: undefined, granted: new Set() });
    return t;
  });
  addWaves(creates);
  const grants: LabTx[] = [];
  const distinctDoctors = (n: number, avoid: ReadonlySet<number>): number[] => {
    const out: number[] = [];
    while (out.length < n) {
      const d = Math.floor(random() * doctors.length);
      if (!avoid.has(d) && !out.includes(d)) out.push(d);
    }
    return out;
  };
  for (const record of records) {
    const [a, b, spare] = distinctDoctors(3, record.granted) as [number, number, number];
    (record.users as number[]).push(a, b);
    record.spare = spare;
    for (const d of [a, b, spare]) {
      record.granted.add(d);
      grants.push(signGrant(record.owner, record.id, doctors[d]!, d === spare ? ['read'] : ['read', 'write']));
    }
  }
  addWaves(grants);

  // ---- measured stream ----
  const totalWeight = LAB_MIX.reduce((s, [, w]) => s + w, 0);
  const chooseKind = (): LabTxKind => {
    let r = random() * totalWeight;
    for (const [kind, w] of LAB_MIX) if ((r -= w) < 0) return kind;
    return LAB_MIX[0]![0];
  };
  const measured: LabTx[] = [];
  const mixCounts: Record<string, number> = {};
  let fresh = 0;
  let nextUnattested = 0;
  let hospitalTurn = 0;
  while (measured.length < measuredTxs) {
    let kind = chooseKind();
    const record = records[Math.floor(random() * records.length)]!;
    if (kind === 'revoke' && record.spare === undefined) kind = 'read';
    if (kind === 'grant' && record.granted.size >= doctors.length) kind = 'ownerVersion';
    if (kind === 'attest' && nextUnattested >= unattested.length) kind = 'register';
    let t: LabTx;
    switch (kind) {
      case 'read':
      case 'doctorVersion': {
        const doctor = doctors[record.users[Math.floor(random() * record.users.length)]!]!;
        t =
          kind === 'read'
            ? sign(doctor, kind, { type: TxType.ReadRecord, record: record.id, version: 0, purpose: 'TREAT', emergency: false, reason: '' })
            : signVersion(doctor, record.owner, kind, DOCTOR_VERSION_BYTES, versionBody(record.id, DOCTOR_VERSION_BYTES), () => record.id);
        break;
      }
      case 'ownerVersion':
        t = signVersion(record.owner, record.owner, kind, OWNER_VERSION_BYTES, versionBody(record.id, OWNER_VERSION_BYTES), () => record.id);
        break;
      case 'grant': {
        const [d] = distinctDoctors(1, record.granted) as [number];
        record.granted.add(d);
        t = signGrant(record.owner, record.id, doctors[d]!, ['read']);
        break;
      }
      case 'revoke': {
        const spare = record.spare!;
        record.spare = undefined;
        t = sign(record.owner, kind, { type: TxType.RevokeAccess, record: record.id, grantee: doctors[spare]!.key.publicKey });
        break;
      }
      case 'create':
        t = signVersion(record.owner, record.owner, kind, CREATE_BYTES, createBody(CREATE_BYTES));
        break;
      case 'register': {
        const actor: Actor = { key: keyOf(`fresh/${fresh++}`), nonce: 0 };
        t = sign(actor, kind, { type: TxType.RegisterIdentity, role: random() < 0.8 ? 'patient' : 'doctor' });
        break;
      }
      case 'attest':
        t = attest(hospitals[hospitalTurn++ % validators]!, unattested[nextUnattested++]!);
        break;
    }
    mixCounts[kind] = (mixCounts[kind] ?? 0) + 1;
    measured.push(t);
  }

  return {
    seed,
    hospitals: hospitals.map((h) => h.key),
    accounts: [
      ...patients.map((p) => ({ id: toHex(p.key.publicKey), role: 'patient' as const })),
      ...doctors.map((d) => ({ id: toHex(d.key.publicKey), role: 'doctor' as const })),
      ...unattested.map((d) => ({ id: toHex(d.key.publicKey), role: 'doctor' as const })),
    ],
    patients: patients.length,
    doctors: doctors.length,
    setup,
    measured,
    mixCounts,
  };
}
