/**
 * Seeded, reproducible block workloads for the validation benchmarks, produced on a real Chain (the same
 * buildBlock, commitBuiltBlock and PoS sealer a node uses), so every block is one a node would accept.
 *
 * Two mixes:
 * - `plain`: fresh keys registering themselves (one signature, one new account each);
 * - `emr`: a hospital network at work. Setup blocks register patients and doctors, the hospitals attest the
 *   doctors, each patient creates a record under the default policy and grants two doctors. Measured blocks
 *   then mix read receipts by granted doctors and new versions by them (both run the record's policy:
 *   granted, role and attestation lookups), new versions by owners, new grants, revocations, new records and
 *   new registrations.
 *
 * Same seed, same options: the same blocks, byte for byte (keys derive from the seed, times from the genesis).
 */
import pino from 'pino';
import { Chain } from '../../src/chain/chain.ts';
import { PosSealer } from '../../src/chain/sealer.ts';
import { InlineSignatureVerifier } from '../../src/chain/signatureVerifier.ts';
import { signTransaction } from '../../src/client/signTransaction.ts';
import { toHex, utf8 } from '../../src/codec/bytes.ts';
import { decodeTransaction } from '../../src/codec/transaction.ts';
import { createEngine } from '../../src/consensus/index.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { DEFAULT_POLICY } from '../../src/script/templates.ts';
import { parseGenesis } from '../../src/state/genesis.ts';
import { createMemoryChainStore } from '../../src/store/index.ts';
import type { GenesisSpec } from '../../src/types/genesis.ts';
import type { Hash } from '../../src/types/primitives.ts';
import { TxType, type Transaction, type TxBody } from '../../src/types/transaction.ts';
import { mulberry32 } from './random.ts';

export type WorkloadMix = 'emr' | 'plain';

export interface WorkloadOptions {
  readonly mix: WorkloadMix;
  readonly seed: number;
  /** Transactions in every block (setup blocks included). */
  readonly txsPerBlock: number;
  /** Blocks that are measured, after the setup blocks. */
  readonly blocks: number;
  /** Tests only: flip one bit of this measured transaction's signature (the block is still built and sealed). */
  readonly tamper?: { readonly block: number; readonly tx: number };
}

export interface Workload {
  readonly name: string;
  readonly options: WorkloadOptions;
  readonly genesis: GenesisSpec;
  /** Blocks that prepare the state the measured blocks run on (imported first, not measured). */
  readonly setup: readonly Uint8Array[];
  readonly measured: readonly Uint8Array[];
  readonly measuredTxs: number;
  /** Measured transactions by kind. */
  readonly mixCounts: Readonly<Record<string, number>>;
  /** Hash and time of the last block: an importer's clock must not be behind it. */
  readonly headHash: Hash;
  readonly headTime: number;
}

const GENESIS_TIME = 1_700_000_000_000;
const YEAR_MS = 365 * 86_400_000;
const silent = pino({ level: 'silent' });

/** The workload's only source of randomness (mulberry32). */
export const seededRandom = mulberry32;

interface Actor {
  readonly key: KeyPair;
  nonce: number;
}

interface RecordState {
  readonly id: Hash;
  readonly owner: number;
  versions: number;
  /** Doctors (indexes) holding an active grant. */
  readonly grantees: Set<number>;
}

/** Produces the workload's blocks on an in-memory chain. */
export async function generateWorkload(options: WorkloadOptions): Promise<Workload> {
  const { seed, txsPerBlock, blocks, mix } = options;
  if (!Number.isInteger(txsPerBlock) || txsPerBlock < 1) throw new RangeError(`txsPerBlock must be a positive integer, got ${txsPerBlock}`);
  const keyOf = (name: string): KeyPair => keyPairFromSeed(sha256(utf8(`medchain-bench/${seed}/${name}`)));
  const hospitals = [keyOf('hospital/0'), keyOf('hospital/1')];
  const genesis = parseGenesis({
    chainId: 'medchain-bench',
    time: GENESIS_TIME,
    consensus: { engine: 'pos', slotMs: 1000 },
    hospitals: [
      { id: toHex(hospitals[0]!.publicKey), name: 'Bench General', stake: 1 },
      { id: toHex(hospitals[1]!.publicKey), name: 'Bench Clinic', stake: 0 },
    ],
  });
  const store = createMemoryChainStore();
  await store.start();
  let now = GENESIS_TIME;
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(), logger: silent, clock: () => now });
  await chain.start();
  const sealer = new PosSealer(hospitals[0]!.secretKey);

  const produce = async (txs: readonly Transaction[]): Promise<Uint8Array> => {
    const time = chain.engine.nextProposalTime(chain.parentInfo(), hospitals[0]!.publicKey, { now: chain.head.header.time + 1, parentState: chain.state });
    if (time === null) throw new Error('the bench hospital has no slot');
    now = time;
    const built = chain.buildBlock(hospitals[0]!.publicKey, time, txs);
    if (built.excluded.length > 0) {
      const { tx, error } = built.excluded[0]!;
      throw new Error(`workload bug: a transaction of type ${tx.body.type} was left out: ${error.code}: ${error.message}`);
    }
    const block = await chain.commitBuiltBlock(built, await sealer.seal(built.header));
    if (block === null) throw new Error('workload block went stale');
    return block.bytes;
  };
  const sign = (actor: Actor, body: TxBody): Transaction =>
    signTransaction({ chainId: genesis.chainId, sender: actor.key.publicKey, nonce: actor.nonce++, body }, actor.key.secretKey);

  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const setup: Uint8Array[] = [];
  const measured: Uint8Array[] = [];
  const mixCounts: Record<string, number> = {};
  const count = (kind: string): void => {
    mixCounts[kind] = (mixCounts[kind] ?? 0) + 1;
  };
  /** Splits setup transactions into blocks of txsPerBlock (setup transactions never depend on their own block). */
  const produceSetup = async (txs: Transaction[]): Promise<void> => {
    for (let i = 0; i < txs.length; i += txsPerBlock) setup.push(await produce(txs.slice(i, i + txsPerBlock)));
  };
  const tamper = (block: number, txs: Transaction[]): Transaction[] => {
    if (options.tamper?.block !== block) return txs;
    return txs.map((tx, i) => {
      if (i !== options.tamper!.tx) return tx;
      const bytes = tx.bytes.slice();
      bytes[bytes.length - 10]! ^= 0x01;
      return decodeTransaction(bytes);
    });
  };

  let fresh = 0;
  const newActor = (role: string): Actor => ({ key: keyOf(`${role}/${fresh++}`), nonce: 0 });

  if (mix === 'plain') {
    for (let b = 0; b < blocks; b++) {
      const txs = Array.from({ length: txsPerBlock }, (_, i) => {
        count('register');
        return sign(newActor('plain'), { type: TxType.RegisterIdentity, role: i % 2 === 0 ? 'patient' : 'doctor' });
      });
      measured.push(await produce(tamper(b, txs)));
    }
  } else {
    const patientCount = txsPerBlock;
    const doctorCount = Math.max(8, Math.ceil(txsPerBlock / 4));
    const patients = Array.from({ length: patientCount }, () => newActor('patient'));
    const doctors = Array.from({ length: doctorCount }, () => newActor('doctor'));
    const hospitalActors: Actor[] = hospitals.map((key) => ({ key, nonce: 0 }));
    // Setup 1: everyone registers.
    await produceSetup([
      ...patients.map((p) => sign(p, { type: TxType.RegisterIdentity, role: 'patient' })),
      ...doctors.map((d) => sign(d, { type: TxType.RegisterIdentity, role: 'doctor' })),
    ]);
    // Setup 2: the hospitals attest every doctor (round robin), for ten years.
    await produceSetup(
      doctors.map((d, i) =>
        sign(hospitalActors[i % hospitalActors.length]!, {
          type: TxType.AttestDoctor,
          doctor: d.key.publicKey,
          name: `Dr Bench ${i}`,
          licence: `BENCH-${seed}-${i}`,
          expiresAt: GENESIS_TIME + 10 * YEAR_MS,
        }),
      ),
    );
    // Setup 3: each patient creates one record under the default policy; setup 4: grants to two doctors.
    const records: RecordState[] = [];
    const creates = patients.map((p, owner) => {
      const tx = sign(p, { type: TxType.CreateRecord, commitment: sha256(utf8(`record/${seed}/${owner}/0`)), size: 4096, contentType: 'application/fhir+json', policy: DEFAULT_POLICY });
      records.push({ id: tx.id, owner, versions: 1, grantees: new Set() });
      return tx;
    });
    await produceSetup(creates);
    const grants: Transaction[] = [];
    for (const record of records) {
      while (record.grantees.size < 2) {
        const doctor = Math.floor(random() * doctors.length);
        if (record.grantees.has(doctor)) continue;
        record.grantees.add(doctor);
        grants.push(sign(patients[record.owner]!, { type: TxType.GrantAccess, record: record.id, grantee: doctors[doctor]!.key.publicKey, scope: ['read', 'write'], expiresAt: null }));
      }
    }
    await produceSetup(grants);

    // Measured blocks. A record whose grants change in a block is not touched by doctors in that block, and
    // the other way round, so every transaction is valid in the order it is listed.
    const weights: [string, number][] = [
      ['read', 35],
      ['doctorVersion', 15],
      ['ownerVersion', 10],
      ['grant', 15],
      ['revoke', 10],
      ['create', 10],
      ['register', 5],
    ];
    const totalWeight = weights.reduce((s, [, w]) => s + w, 0);
    const chooseKind = (): string => {
      let r = random() * totalWeight;
      for (const [kind, w] of weights) if ((r -= w) < 0) return kind;
      return weights[0]![0];
    };
    for (let b = 0; b < blocks; b++) {
      const txs: Transaction[] = [];
      const grantsChanged = new Set<number>();
      const doctorTouched = new Set<number>();
      const created: RecordState[] = [];
      const registered: Actor[] = [];
      while (txs.length < txsPerBlock) {
        const kind = chooseKind();
        const r = Math.floor(random() * records.length);
        const record = records[r]!;
        const owner = patients[record.owner]!;
        switch (kind) {
          case 'read':
          case 'doctorVersion': {
            if (grantsChanged.has(r) || record.grantees.size === 0) continue;
            const doctor = doctors[pick([...record.grantees])]!;
            doctorTouched.add(r);
            txs.push(
              kind === 'read'
                ? sign(doctor, { type: TxType.ReadRecord, record: record.id, version: Math.floor(random() * record.versions), purpose: 'TREAT', emergency: false, reason: '' })
                : sign(doctor, { type: TxType.AddRecordVersion, record: record.id, commitment: sha256(utf8(`record/${seed}/${r}/${record.versions}`)), size: 2048, contentType: 'application/fhir+json' }),
            );
            if (kind === 'doctorVersion') record.versions++;
            break;
          }
          case 'ownerVersion':
            txs.push(sign(owner, { type: TxType.AddRecordVersion, record: record.id, commitment: sha256(utf8(`record/${seed}/${r}/${record.versions}`)), size: 1024, contentType: 'application/fhir+json' }));
            record.versions++;
            break;
          case 'grant': {
            if (grantsChanged.has(r) || doctorTouched.has(r)) continue;
            const doctor = Math.floor(random() * doctors.length);
            if (record.grantees.has(doctor)) continue;
            grantsChanged.add(r);
            record.grantees.add(doctor);
            txs.push(sign(owner, { type: TxType.GrantAccess, record: record.id, grantee: doctors[doctor]!.key.publicKey, scope: ['read', 'write'], expiresAt: null }));
            break;
          }
          case 'revoke': {
            if (grantsChanged.has(r) || doctorTouched.has(r) || record.grantees.size <= 1) continue;
            const doctor = pick([...record.grantees]);
            grantsChanged.add(r);
            record.grantees.delete(doctor);
            txs.push(sign(owner, { type: TxType.RevokeAccess, record: record.id, grantee: doctors[doctor]!.key.publicKey }));
            break;
          }
          case 'create': {
            const tx = sign(owner, { type: TxType.CreateRecord, commitment: sha256(utf8(`record/${seed}/new/${fresh}`)), size: 8192, contentType: 'application/fhir+json', policy: DEFAULT_POLICY });
            created.push({ id: tx.id, owner: record.owner, versions: 1, grantees: new Set() });
            txs.push(tx);
            break;
          }
          case 'register': {
            const patient = newActor('patient');
            registered.push(patient);
            txs.push(sign(patient, { type: TxType.RegisterIdentity, role: 'patient' }));
            break;
          }
        }
        count(kind);
      }
      measured.push(await produce(tamper(b, txs)));
      records.push(...created);
      patients.push(...registered);
    }
  }

  const head = chain.head;
  await chain.stop();
  await store.stop();
  return {
    name: `${mix} ${txsPerBlock}`,
    options,
    genesis,
    setup,
    measured,
    measuredTxs: blocks * txsPerBlock,
    mixCounts,
    headHash: head.hash,
    headTime: head.header.time,
  };
}
