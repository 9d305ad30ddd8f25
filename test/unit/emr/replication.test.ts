import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import { blobKey } from '../../../src/chain/indexer.ts';
import { DEFAULT_MEMPOOL_OPTIONS, Mempool } from '../../../src/chain/mempool.ts';
import { PosSealer } from '../../../src/chain/sealer.ts';
import { InlineSignatureVerifier, SignatureCache } from '../../../src/chain/signatureVerifier.ts';
import {
  decodeBlobResponse,
  encodeBlobBundle,
  encodeCustodyBlobRequest,
  encodeCustodyRequest,
  encodeReadBlobRequest,
  type BlobResponse,
} from '../../../src/codec/blobRequest.ts';
import { toHex, utf8, fromUtf8 } from '../../../src/codec/bytes.ts';
import { encodeCanonical } from '../../../src/codec/canonical.ts';
import { encodeEnvelopeUpload } from '../../../src/codec/envelopeUpload.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { sign, type KeyPair } from '../../../src/crypto/ed25519.ts';
import { BlobReplicator, type ReplicationOptions } from '../../../src/emr/replication.ts';
import { RecordService } from '../../../src/emr/recordService.ts';
import { commitCiphertext, decryptRecord, encryptRecord, newCommitmentSalt, recordAssociatedData, unwrapDataKey, wrapDataKey } from '../../../src/envelope/index.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import type { ChainStatus, GossipKind, Network, PeerInfo } from '../../../src/p2p/interface.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { DEFAULT_POLICY } from '../../../src/script/index.ts';
import { createMemoryChainStore, type ChainStore } from '../../../src/store/index.ts';
import type { Block } from '../../../src/types/block.ts';
import { TxType, type Transaction, type TxBody } from '../../../src/types/transaction.ts';
import { getRecord } from '../../../src/state/accessors.ts';
import { SEED } from '../../helpers/chainBuilder.ts';
import { GENESIS_TIME, silentLogger, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospitalA = testKey('hospital');
const hospitalB = testKey('hospital-b');
const patient = testKey('patient');
const doctor = testKey('doctor');
const doctor2 = testKey('doctor-2');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Network that routes blob requests to other in-process replicators: the loopback the unit tests use in
 * place of libp2p. `tamper` plays a hostile peer by rewriting its responses; `gate` holds responses back.
 */
class LoopbackNetwork implements Network {
  readonly peerId: string;
  readonly addresses: readonly string[] = [];
  readonly penalties: { peer: string; reason: string }[] = [];
  readonly #routes = new Map<string, (request: Uint8Array, from: string) => Promise<Uint8Array>>();
  tamper: ((peer: string, response: Uint8Array) => Uint8Array) | undefined;
  gate: Promise<void> | undefined;
  pending = 0;

  constructor(peerId: string) {
    this.peerId = peerId;
  }

  connect(peer: string, handler: (request: Uint8Array, from: string) => Promise<Uint8Array>): void {
    this.#routes.set(peer, handler);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(_kind: GossipKind, _data: Uint8Array): Promise<void> {}
  requestStatus(_peer: string): Promise<ChainStatus> {
    throw new Error('not routed by the loopback');
  }
  requestBlocksByRange(_peer: string, _start: number, _count: number): Promise<Uint8Array[]> {
    throw new Error('not routed by the loopback');
  }
  requestBlockByHash(_peer: string, _hash: Uint8Array): Promise<Uint8Array | undefined> {
    throw new Error('not routed by the loopback');
  }
  requestHeadersByRange(_peer: string, _start: number, _count: number): Promise<Uint8Array[]> {
    throw new Error('not routed by the loopback');
  }

  async requestBlob(peer: string, request: Uint8Array): Promise<Uint8Array> {
    const handler = this.#routes.get(peer);
    if (handler === undefined) throw new Error(`no route to ${peer}`);
    const response = await handler(request, this.peerId);
    this.pending += 1;
    try {
      await this.gate;
    } finally {
      this.pending -= 1;
    }
    return this.tamper === undefined ? response : this.tamper(peer, response);
  }

  peers(): PeerInfo[] {
    return [...this.#routes.keys()].map((id) => ({ id, addresses: [], direction: 'outbound' as const, score: 0, status: undefined }));
  }
  addPeer(_multiaddr: string): Promise<string> {
    throw new Error('not routed by the loopback');
  }
  async removePeer(peerId: string): Promise<void> {
    this.#routes.delete(peerId);
  }
  penalize(peer: string, reason: string): void {
    this.penalties.push({ peer, reason });
  }
}

interface HospitalNode {
  readonly chain: Chain;
  readonly store: ChainStore;
  readonly mempool: Mempool;
  readonly records: RecordService;
  readonly network: LoopbackNetwork;
  readonly replicator: BlobReplicator;
}

const FAST: Partial<ReplicationOptions> = { retryBaseMs: 5, retryMaxMs: 50, requestTimeoutMs: 1000, maxAttempts: 6 };

async function hospitalNode(name: string, key: KeyPair | undefined, now: { t: number }, options: Partial<ReplicationOptions>): Promise<HospitalNode> {
  const genesis = testGenesis('pos', {
    hospitals: [
      { id: toHex(hospitalA.publicKey), name: 'General Hospital', stake: 100 },
      { id: toHex(hospitalB.publicKey), name: 'Second Hospital', stake: 0 },
    ],
  });
  const store = createMemoryChainStore();
  await store.start();
  const cache = new SignatureCache();
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(cache), logger: silentLogger, clock: () => now.t });
  await chain.start();
  const mempool = new Mempool(DEFAULT_MEMPOOL_OPTIONS, {
    chainId: genesis.chainId,
    state: () => chain.state,
    nextBlock: () => ({ height: chain.head.header.height + 1, time: now.t, policyFlags: CURRENT_POLICY_FLAGS }),
    signatureCache: cache,
  });
  chain.onHead((block) => mempool.onBlock(block));
  const records = new RecordService({ chain, mempool, ...(key ? { escrow: key } : {}), logger: silentLogger, clock: () => now.t });
  const network = new LoopbackNetwork(name);
  const replicator = new BlobReplicator({ ...FAST, ...options }, { chain, records, network, ...(key ? { keyPair: key } : {}), logger: silentLogger, clock: () => now.t });
  return { chain, store, mempool, records, network, replicator };
}

/**
 * Two hospitals' nodes on one chain: A produces blocks (it holds the stake), B imports them. A patient, an
 * attested doctor, and helpers that play the patient's client against A's record service only.
 */
async function twoHospitals(options: { bKey?: KeyPair | null; b?: Partial<ReplicationOptions> } = {}) {
  const now = { t: GENESIS_TIME + 5000 };
  const A = await hospitalNode('A', hospitalA, now, {});
  const B = await hospitalNode('B', options.bKey === null ? undefined : (options.bKey ?? hospitalB), now, options.b ?? {});
  A.network.connect('B', (request, from) => B.replicator.handleRequest(request, from));
  B.network.connect('A', (request, from) => A.replicator.handleRequest(request, from));
  const unsynced: Block[] = [];

  /** Produces a block on A from its mempool; B imports it unless `toB` is false (then `syncB` does). */
  const produce = async (toB = true): Promise<Block> => {
    const time = A.chain.engine.nextProposalTime(A.chain.parentInfo(), hospitalA.publicKey, { now: now.t, parentState: A.chain.state })!;
    now.t = time;
    const built = A.chain.buildBlock(hospitalA.publicKey, time, A.mempool.candidates());
    for (const { tx } of built.excluded) A.mempool.drop(tx);
    const block = (await A.chain.commitBuiltBlock(built, await new PosSealer(hospitalA.secretKey).seal(built.header)))!;
    unsynced.push(block);
    if (toB) await syncB();
    return block;
  };
  const syncB = async (): Promise<void> => {
    for (const block of unsynced.splice(0)) await B.chain.importBlock(block.bytes);
  };
  const nonces = new Map<KeyPair, number>();
  const signed = (key: KeyPair, body: TxBody): Transaction => {
    const nonce = nonces.get(key) ?? 0;
    nonces.set(key, nonce + 1);
    return testTx(key, nonce, body);
  };
  const send = (key: KeyPair, body: TxBody): Transaction => {
    const tx = signed(key, body);
    A.mempool.add(tx);
    return tx;
  };

  for (const [key, role] of [[patient, 'patient'], [doctor, 'doctor'], [doctor2, 'doctor']] as const) send(key, { type: TxType.RegisterIdentity, role });
  await produce();
  for (const d of [doctor, doctor2]) send(hospitalA, { type: TxType.AttestDoctor, doctor: d.publicKey, name: 'Dr', licence: 'L', expiresAt: GENESIS_TIME + 10 * 365 * 86_400_000 });
  await produce();

  /** A version encrypted by the patient and committed on chain (uploaded to A only by `upload`). */
  const newVersion = async (record: Uint8Array | null, text: string, options: { toB?: boolean } = {}) => {
    const version = record === null ? 0 : getRecord(A.chain.state, record)!.versionCount;
    const { ciphertext, dataKey } = encryptRecord(utf8(text), { random: secureRandom, associatedData: recordAssociatedData(A.chain.genesisSpec.chainId, record, version) });
    const salt = newCommitmentSalt(secureRandom);
    const commitment = commitCiphertext(ciphertext, salt);
    const tx =
      record === null
        ? send(patient, { type: TxType.CreateRecord, commitment, size: ciphertext.length, contentType: 'application/fhir+json', policy: DEFAULT_POLICY })
        : send(patient, { type: TxType.AddRecordVersion, record, commitment, size: ciphertext.length, contentType: 'application/fhir+json' });
    await produce(options.toB ?? true);
    return { id: record ?? tx.id, version, ciphertext, salt, dataKey };
  };
  type Version = Awaited<ReturnType<typeof newVersion>>;

  /** What the patient's client uploads to A after the version is on chain: the ciphertext, then envelopes. */
  const upload = async (v: Version, readers: KeyPair[]) => {
    await A.records.uploadCiphertext(v.id, v.version, v.salt, v.ciphertext);
    await uploadEnvelopes(v, [patient, ...readers]);
  };
  const uploadEnvelopes = async (v: Version, readers: KeyPair[]) => {
    const ad = recordAssociatedData(A.chain.genesisSpec.chainId, v.id, v.version);
    const request = encodeEnvelopeUpload({
      chainId: A.chain.genesisSpec.chainId,
      record: v.id,
      version: v.version,
      uploader: patient.publicKey,
      envelopes: readers.map((r) => ({ reader: r.publicKey, envelope: wrapDataKey(v.dataKey, r.publicKey, { random: secureRandom, associatedData: ad }) })),
    });
    await A.records.uploadEnvelopes(request, sign(request, patient.secretKey));
  };

  /** A custody request as hospital `key` signs it (or `signer` forges it). */
  const custody = (key: KeyPair, record: Uint8Array, version: number, extra: { time?: number; signer?: KeyPair; chainId?: string; readers?: Uint8Array[]; peer?: string } = {}) => {
    const body = encodeCustodyRequest({
      chainId: extra.chainId ?? A.chain.genesisSpec.chainId,
      record,
      version,
      time: extra.time ?? now.t,
      requester: key.publicKey,
      ciphertext: true,
      readers: extra.readers ?? [],
      // The peer that sends it (answer() sends from 'X' unless told otherwise).
      peer: extra.peer ?? 'X',
    });
    return encodeCustodyBlobRequest(body, sign(body, (extra.signer ?? key).secretKey));
  };

  return { A, B, now, produce, syncB, send, signed, newVersion, upload, uploadEnvelopes, custody };
}

/** Every blob a node holds under a record, as hex key -> hex value. */
async function blobsOf(store: ChainStore, record: Uint8Array): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const { key, value } of store.readBlobs(record)) out.set(toHex(key), toHex(value));
  return out;
}

async function answer(node: HospitalNode, request: Uint8Array, from = 'X'): Promise<BlobResponse> {
  return decodeBlobResponse(await node.replicator.handleRequest(request, from));
}

describe('custody replication between hospitals', () => {
  it('copies a new version\'s ciphertext and envelopes to the other hospital, retrying until the upload arrives', async () => {
    const w = await twoHospitals();
    await w.A.replicator.start();
    await w.B.replicator.start();
    const v0 = await w.newVersion(null, 'version zero');
    // B sees the version before A holds its ciphertext: its first attempts are refused NOT_FOUND, then retried.
    for (let i = 0; i < 500 && w.A.replicator.stats.refused === 0; i++) await sleep(2);
    expect(w.A.replicator.stats.refused).toBeGreaterThan(0);
    expect(w.B.replicator.pendingJobs).toBe(1);
    await w.upload(v0, [doctor]);
    await w.B.replicator.settled();
    const onA = await blobsOf(w.A.store, v0.id);
    expect(onA.size).toBe(3);
    expect(await blobsOf(w.B.store, v0.id)).toEqual(onA);

    // A later version, and a grant whose envelope the patient uploaded before granting.
    const v1 = await w.newVersion(v0.id, 'version one', { toB: false });
    await w.upload(v1, []);
    await w.syncB();
    await w.B.replicator.settled();
    expect(await w.B.store.getBlob(blobKey.ciphertext(v0.id, 1))).toEqual(await w.A.store.getBlob(blobKey.ciphertext(v0.id, 1)));
    await w.uploadEnvelopes(v0, [doctor2]);
    await w.uploadEnvelopes(v1, [doctor2]);
    w.send(patient, { type: TxType.GrantAccess, record: v0.id, grantee: doctor2.publicKey, scope: ['read'], expiresAt: null });
    await w.produce();
    await w.B.replicator.settled();
    expect(await blobsOf(w.B.store, v0.id)).toEqual(await blobsOf(w.A.store, v0.id));
    expect(await w.B.store.getBlob(blobKey.envelope(v0.id, 1, doctor2.publicKey))).toBeDefined();

    // The copy is the real thing: the doctor decrypts what B holds.
    const envelope = (await w.B.store.getBlob(blobKey.envelope(v0.id, 0, doctor.publicKey)))!;
    const key = unwrapDataKey(envelope, doctor.seed, recordAssociatedData(w.A.chain.genesisSpec.chainId, v0.id, 0));
    expect(fromUtf8(decryptRecord(v0.ciphertext, key, recordAssociatedData(w.A.chain.genesisSpec.chainId, null, 0)))).toBe('version zero');
    expect(w.B.network.penalties).toEqual([]);
    expect(w.B.replicator.stats.fetchedCiphertexts).toBe(2);
    await w.A.replicator.stop();
    await w.B.replicator.stop();
  });

  it('refuses custody to a key that is not a hospital, to a forged signature, and to a stale or future request', async () => {
    const w = await twoHospitals();
    const v0 = await w.newVersion(null, 'text');
    await w.upload(v0, []);
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0))).toMatchObject({ kind: 'bundle', salt: v0.salt, ciphertext: v0.ciphertext });

    expect(await answer(w.A, w.custody(patient, v0.id, 0))).toMatchObject({ kind: 'refused', code: 'NOT_A_HOSPITAL' });
    expect(await answer(w.A, w.custody(doctor, v0.id, 0))).toMatchObject({ kind: 'refused', code: 'NOT_A_HOSPITAL' });
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { signer: patient }))).toMatchObject({ kind: 'refused', code: 'BAD_SIGNATURE' });
    // A hospital's request replayed by another peer (one it also asked) gets nothing.
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { peer: 'B' }), 'M')).toMatchObject({ kind: 'refused', code: 'WRONG_PEER' });
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { peer: 'B' }), 'B')).toMatchObject({ kind: 'bundle' });

    const window = 5 * 60_000;
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { time: w.now.t - window - 1 }))).toMatchObject({ kind: 'refused', code: 'STALE_REQUEST' });
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { time: w.now.t + window + 1 }))).toMatchObject({ kind: 'refused', code: 'STALE_REQUEST' });
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { time: w.now.t - window + 1000 }))).toMatchObject({ kind: 'bundle' });

    expect(await answer(w.A, w.custody(hospitalB, v0.id, 7))).toMatchObject({ kind: 'refused', code: 'NOT_FOUND' });
    expect(await answer(w.A, w.custody(hospitalB, new Uint8Array(32), 0))).toMatchObject({ kind: 'refused', code: 'NOT_FOUND' });
    expect(await answer(w.A, w.custody(hospitalB, v0.id, 0, { chainId: 'medchain-other' }))).toMatchObject({ kind: 'refused', code: 'MALFORMED' });
    // Asking for named readers sends only theirs.
    const only = await answer(w.A, w.custody(hospitalB, v0.id, 0, { readers: [patient.publicKey, doctor.publicKey] }));
    expect(only.kind === 'bundle' && only.envelopes.map((e) => toHex(e.reader))).toEqual([toHex(patient.publicKey)]);
  });
});

describe('fetching with a read receipt', () => {
  it('a doctor with a grant reads through B a record uploaded only to A; a receipt not on chain gets nothing', async () => {
    const w = await twoHospitals({ bKey: null });
    const v0 = await w.newVersion(null, 'shared with the doctor');
    await w.upload(v0, [doctor]);
    w.send(patient, { type: TxType.GrantAccess, record: v0.id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    await w.produce();

    // Signed but never submitted: no receipt on chain, so A serves nothing.
    const unrecorded = w.signed(doctor, { type: TxType.ReadRecord, record: v0.id, version: 0, purpose: 'TREAT', emergency: false, reason: '' });
    expect(await answer(w.A, encodeReadBlobRequest(unrecorded.bytes))).toMatchObject({ kind: 'refused', code: 'NOT_INCLUDED' });
    const refused = await w.B.replicator.fetchForRead(unrecorded);
    expect(refused).toMatchObject({ ciphertext: false, envelope: false, refusals: [{ peer: 'A', code: 'NOT_INCLUDED' }] });
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);

    // The same request once included (it carries the doctor's next nonce): B fetches and holds it.
    w.A.mempool.add(unrecorded);
    await w.produce();
    expect(await w.B.chain.getTxLocation(unrecorded.id)).toBeDefined();
    expect(await w.B.replicator.fetchForRead(unrecorded)).toMatchObject({ ciphertext: true, envelope: true });
    const held = await blobsOf(w.B.store, v0.id);
    expect([...held.keys()].sort()).toEqual([toHex(blobKey.ciphertext(v0.id, 0)), toHex(blobKey.envelope(v0.id, 0, doctor.publicKey))].sort());
    const envelope = (await w.B.store.getBlob(blobKey.envelope(v0.id, 0, doctor.publicKey)))!;
    const key = unwrapDataKey(envelope, doctor.seed, recordAssociatedData(w.A.chain.genesisSpec.chainId, v0.id, 0));
    expect(fromUtf8(decryptRecord(v0.ciphertext, key, recordAssociatedData(w.A.chain.genesisSpec.chainId, null, 0)))).toBe('shared with the doctor');

    // A forged receipt, and the real one after the grant is revoked.
    const forged = new Uint8Array(unrecorded.bytes);
    forged[forged.length - 1]! ^= 1;
    expect(await answer(w.A, encodeReadBlobRequest(forged))).toMatchObject({ kind: 'refused', code: 'BAD_SIGNATURE' });
    w.send(patient, { type: TxType.RevokeAccess, record: v0.id, grantee: doctor.publicKey });
    await w.produce();
    expect(await answer(w.A, encodeReadBlobRequest(unrecorded.bytes))).toMatchObject({ kind: 'refused', code: 'DENIED' });
    expect(w.B.network.penalties).toEqual([]);
  });
});

describe('hostile peers', () => {
  it('does not store a tampered ciphertext, stores nothing of that response, and penalizes the peer', async () => {
    const w = await twoHospitals();
    const v0 = await w.newVersion(null, 'the real ciphertext');
    await w.upload(v0, [doctor]);
    w.B.network.tamper = (_peer, response) => {
      const bundle = decodeBlobResponse(response);
      if (bundle.kind !== 'bundle' || bundle.ciphertext === null) return response;
      const ciphertext = bundle.ciphertext.slice();
      ciphertext[3]! ^= 0x40;
      return encodeBlobBundle(bundle.salt, ciphertext, bundle.envelopes);
    };
    const outcome = await w.B.replicator.fetchCustody(v0.id, 0);
    expect(outcome).toMatchObject({ ciphertext: false, gone: false });
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);
    expect(w.B.network.penalties).toEqual([{ peer: 'A', reason: expect.stringContaining('COMMITMENT_MISMATCH') }]);

    // A response that is not a blob response at all, and one too long for the version.
    w.B.network.tamper = () => encodeCanonical([0, 'not bytes']);
    await w.B.replicator.fetchCustody(v0.id, 0);
    w.B.network.tamper = (_peer, response) => {
      const bundle = decodeBlobResponse(response);
      return bundle.kind === 'bundle' ? encodeBlobBundle(bundle.salt, new Uint8Array([...bundle.ciphertext!, 0]), []) : response;
    };
    await w.B.replicator.fetchCustody(v0.id, 0);
    expect(w.B.network.penalties.map((p) => p.reason)).toEqual([
      expect.stringContaining('COMMITMENT_MISMATCH'),
      expect.stringContaining('malformed blob response'),
      expect.stringContaining('SIZE_MISMATCH'),
    ]);
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);

    // An honest answer is stored.
    w.B.network.tamper = undefined;
    expect(await w.B.replicator.fetchCustody(v0.id, 0)).toMatchObject({ ciphertext: true, missingReaders: [] });
    expect(await blobsOf(w.B.store, v0.id)).toEqual(await blobsOf(w.A.store, v0.id));
  });

  it('a read response carrying someone else\'s envelope is refused and penalized', async () => {
    const w = await twoHospitals({ bKey: null });
    const v0 = await w.newVersion(null, 'text');
    await w.upload(v0, [doctor, doctor2]);
    w.send(patient, { type: TxType.GrantAccess, record: v0.id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    await w.produce();
    const receipt = w.send(doctor, { type: TxType.ReadRecord, record: v0.id, version: 0, purpose: 'TREAT', emergency: false, reason: '' });
    await w.produce();
    const stray = (await w.A.store.getBlob(blobKey.envelope(v0.id, 0, doctor2.publicKey)))!;
    w.B.network.tamper = (_peer, response) => {
      const bundle = decodeBlobResponse(response);
      return bundle.kind === 'bundle' ? encodeBlobBundle(bundle.salt, bundle.ciphertext, [...bundle.envelopes, { reader: doctor2.publicKey, envelope: stray }]) : response;
    };
    expect(await w.B.replicator.fetchForRead(receipt)).toMatchObject({ ciphertext: false, envelope: false });
    expect(w.B.network.penalties).toEqual([{ peer: 'A', reason: expect.stringContaining('not asked for') }]);
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);
  });
});

describe('bounds', () => {
  it('a peer that never answers is given up on after the timeout, unpenalized; a busy node answers UNAVAILABLE', async () => {
    const w = await twoHospitals({ b: { requestTimeoutMs: 20 } });
    const v0 = await w.newVersion(null, 'text');
    await w.upload(v0, []);
    w.B.network.gate = new Promise<void>(() => {});
    const started = Date.now();
    expect(await w.B.replicator.fetchCustody(v0.id, 0)).toMatchObject({ ciphertext: false, gone: false, refusals: [] });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(w.B.network.penalties).toEqual([]);
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);

    const busy = new BlobReplicator({ maxServing: 0 }, { chain: w.A.chain, records: w.A.records, network: w.A.network, logger: silentLogger, clock: () => w.now.t });
    expect(await decodeBlobResponse(await busy.handleRequest(w.custody(hospitalB, v0.id, 0), 'X'))).toMatchObject({ kind: 'refused', code: 'UNAVAILABLE' });
  });
});

describe('erasure', () => {
  it('after EraseRecord both nodes hold nothing and every request is refused ERASED', async () => {
    const w = await twoHospitals();
    await w.B.replicator.start();
    const v0 = await w.newVersion(null, 'to be erased');
    await w.upload(v0, [doctor]);
    w.send(patient, { type: TxType.GrantAccess, record: v0.id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    await w.produce();
    const receipt = w.send(doctor, { type: TxType.ReadRecord, record: v0.id, version: 0, purpose: 'TREAT', emergency: false, reason: '' });
    await w.produce();
    await w.B.replicator.settled();
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(3);

    w.send(patient, { type: TxType.EraseRecord, record: v0.id });
    await w.produce();
    expect((await blobsOf(w.A.store, v0.id)).size).toBe(0);
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);
    for (const node of [w.A, w.B]) {
      expect(await answer(node, w.custody(hospitalB, v0.id, 0))).toMatchObject({ kind: 'refused', code: 'ERASED' });
      expect(await answer(node, encodeReadBlobRequest(receipt.bytes))).toMatchObject({ kind: 'refused', code: 'ERASED' });
    }
    expect(await w.B.replicator.fetchCustody(v0.id, 0)).toMatchObject({ gone: true });
    await w.B.replicator.stop();
  });

  it('a fetch answered before the erasure but completing after it stores nothing', async () => {
    const w = await twoHospitals();
    const v0 = await w.newVersion(null, 'erased while in flight');
    await w.upload(v0, [doctor]);
    let release = (): void => {};
    w.B.network.gate = new Promise<void>((resolve) => (release = resolve));
    const fetching = w.B.replicator.fetchCustody(v0.id, 0);
    // A has answered with the blobs; the answer is still on its way when the erasing block reaches B.
    while (w.B.network.pending === 0) await sleep(1);
    w.send(patient, { type: TxType.EraseRecord, record: v0.id });
    await w.produce();
    release();
    expect(await fetching).toMatchObject({ ciphertext: false, gone: true });
    expect((await blobsOf(w.B.store, v0.id)).size).toBe(0);
    expect(w.B.network.penalties).toEqual([]);
  });

  it('an erasure cancels queued custody jobs for the record', async () => {
    const w = await twoHospitals({ b: { retryBaseMs: 60_000 } });
    await w.B.replicator.start();
    const v0 = await w.newVersion(null, 'never uploaded');
    expect(w.B.replicator.pendingJobs).toBe(1);
    w.send(patient, { type: TxType.EraseRecord, record: v0.id });
    await w.produce();
    expect(w.B.replicator.pendingJobs).toBe(0);
    await w.B.replicator.settled();
    await w.B.replicator.stop();
  });
});

describe('malformed requests', () => {
  it('answers MALFORMED and never throws, whatever the bytes', async () => {
    const w = await twoHospitals();
    const v0 = await w.newVersion(null, 'text');
    const notARead = w.signed(patient, { type: TxType.GrantAccess, record: v0.id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    const otherChain = testTx(doctor, 0, { type: TxType.ReadRecord, record: v0.id, version: 0, purpose: 'TREAT', emergency: false, reason: '' }, 'medchain-other');
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([0xc1]),
      new Uint8Array([0x92, 0x01]),
      encodeCanonical([3, new Uint8Array(4)]),
      encodeCanonical([1, new Uint8Array([1, 2, 3])]),
      encodeReadBlobRequest(notARead.bytes),
      encodeReadBlobRequest(otherChain.bytes),
      encodeCanonical([2, encodeCanonical(['medchain/envelopes/v1']), new Uint8Array(64)]),
      new Uint8Array(100_000),
      new Uint8Array([...encodeReadBlobRequest(notARead.bytes), 0]),
    ];
    for (const bytes of cases) expect(await answer(w.A, bytes)).toMatchObject({ kind: 'refused', code: 'MALFORMED' });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const response = await answer(w.A, bytes);
        expect(response).toMatchObject({ kind: 'refused', code: 'MALFORMED' });
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(w.A.replicator.stats.served).toBe(0);
  });
});
