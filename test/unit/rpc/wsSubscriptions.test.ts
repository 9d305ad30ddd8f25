// ChainSubscriptions against a scripted chain: reorgs, removed activity, finality, held notifications. The
// WebSocket tests drive it through a real Chain; here the chain's events are emitted by hand, in the order
// Chain emits them (reorg listeners first, then each applied block's head listeners).

import { describe, expect, it } from 'vitest';
import type { Head } from '../../../src/chain/chain.ts';
import { assembleBlock } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import type { RpcContext } from '../../../src/rpc/method.ts';
import { ChainSubscriptions, accountsConcerned, type SubscriptionChain } from '../../../src/rpc/subscriptions.ts';
import { putRecord } from '../../../src/state/accessors.ts';
import { MemoryState, StateOverlay } from '../../../src/state/overlay.ts';
import type { Block } from '../../../src/types/block.ts';
import type { Checkpoint } from '../../../src/state/finality.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { silentLogger, testKey, testTx } from '../../helpers/fixtures.ts';

const patient = testKey('patient');
const doctor = testKey('doctor');
const delegate = testKey('delegate');
const hospital = testKey('hospital');
const hex = (bytes: Uint8Array) => toHex(bytes);

/** Emits head and reorg events by hand; its head state is whatever the test puts there. */
class ScriptedChain implements SubscriptionChain {
  readonly #heads = new Set<(block: Block, head: Head) => void>();
  readonly #reorgs = new Set<(reverted: readonly Block[], applied: readonly Block[]) => void>();
  state = new StateOverlay(new MemoryState());
  finalized: Checkpoint = { height: 0, hash: new Uint8Array(32) };

  onHead(listener: (block: Block, head: Head) => void): () => void {
    this.#heads.add(listener);
    return () => this.#heads.delete(listener);
  }

  onReorg(listener: (reverted: readonly Block[], applied: readonly Block[]) => void): () => void {
    this.#reorgs.add(listener);
    return () => this.#reorgs.delete(listener);
  }

  head(block: Block): void {
    for (const listener of this.#heads) listener(block, { hash: block.hash, header: block.header, score: 0n, parentTime: null });
  }

  reorg(reverted: Block[], applied: Block[]): void {
    for (const listener of this.#reorgs) listener(reverted, applied);
    for (const block of applied) this.head(block);
  }
}

function block(height: number, transactions: Transaction[] = [], salt = 0): Block {
  return assembleBlock(
    {
      chainId: 'medchain-test',
      height,
      parent: new Uint8Array(32).fill(height - 1),
      time: 1_000 * height + salt,
      txRoot: new Uint8Array(32),
      stateRoot: new Uint8Array(32),
      proposer: hospital.publicKey,
      seal: Uint8Array.of(salt),
    },
    transactions,
  );
}

function fixture(maxPerConnection?: number) {
  const chain = new ScriptedChain();
  const subs = new ChainSubscriptions({ maxPerConnection }, { chain, logger: silentLogger });
  const connect = () => {
    const ctx: RpcContext = { admin: false, transport: 'ws' };
    const sent: any[] = [];
    subs.connect(ctx, (text) => sent.push(JSON.parse(text)));
    return { ctx, sent, results: () => sent.map((m) => m.params.result) };
  };
  return { chain, subs, connect };
}

const createRecord = (nonce = 0) => testTx(patient, nonce, { type: TxType.CreateRecord, commitment: new Uint8Array(32).fill(7), size: 10, contentType: 'application/fhir+json', policy: new Uint8Array(0) });

describe('ChainSubscriptions', () => {
  it('holds a new subscription\'s notifications until release(), then sends them in order', async () => {
    const { chain, subs, connect } = fixture();
    await subs.start();
    const a = connect();
    const id = subs.subscribe(a.ctx, 'newHeads');
    chain.head(block(1));
    expect(a.sent).toEqual([]);
    subs.release(a.ctx);
    chain.head(block(2));
    expect(a.sent.map((m) => [m.method, m.params.subscription, m.params.result.height])).toEqual([
      ['chain_subscription', id, 1],
      ['chain_subscription', id, 2],
    ]);
  });

  it('tells newHeads subscribers of a reorg, then sends the new branch\'s heads', async () => {
    const { chain, subs, connect } = fixture();
    await subs.start();
    const a = connect();
    subs.subscribe(a.ctx, 'newHeads');
    subs.release(a.ctx);
    const old = [block(2), block(1)];
    const applied = [block(1, [], 9), block(2, [], 9), block(3, [], 9)];
    chain.reorg(old, applied);
    expect(a.results()).toEqual([
      { reverted: old.map((b) => hex(b.hash)), applied: applied.map((b) => hex(b.hash)) },
      ...applied.map((b) => expect.objectContaining({ hash: hex(b.hash), height: b.header.height })),
    ]);
  });

  it('sends the reverted activity of an account again with removed: true, owners of reverted records included', async () => {
    const { chain, subs, connect } = fixture();
    await subs.start();
    const a = connect();
    subs.subscribe(a.ctx, 'accountActivity', patient.publicKey);
    subs.release(a.ctx);
    const create = createRecord();
    // A delegate's grant on the patient's record: it concerns the patient only as the record's owner.
    const grant = testTx(delegate, 0, { type: TxType.GrantAccess, record: create.id, grantee: doctor.publicKey, scope: ['read'], expiresAt: null });
    const lost = block(1, [create, grant]);
    // The record exists in the head state while its block is canonical.
    putRecord(chain.state, { id: create.id, owner: patient.publicKey, policy: new Uint8Array(0), createdAt: 1, versionCount: 1, erasedAt: null });
    chain.head(lost);
    expect(a.results().map((r) => [r.type, r.sender, r.removed])).toEqual([
      ['record.create', hex(patient.publicKey), undefined],
      ['access.grant', hex(delegate.publicKey), undefined],
    ]);
    // The reorg takes it away: the new head state has no such record.
    chain.state = new StateOverlay(new MemoryState());
    chain.reorg([lost], [block(1, [], 5)]);
    expect(a.results().slice(2)).toEqual([
      { txId: hex(grant.id), type: 'access.grant', height: 1, blockHash: hex(lost.hash), sender: hex(delegate.publicKey), record: hex(create.id), removed: true },
      { txId: hex(create.id), type: 'record.create', height: 1, blockHash: hex(lost.hash), sender: hex(patient.publicKey), record: hex(create.id), removed: true },
    ]);
  });

  it('sends finalized only when the finalized checkpoint advances', async () => {
    const { chain, subs, connect } = fixture();
    await subs.start();
    const a = connect();
    subs.subscribe(a.ctx, 'finalized');
    subs.release(a.ctx);
    chain.head(block(1));
    expect(a.sent).toEqual([]);
    chain.finalized = { height: 3, hash: new Uint8Array(32).fill(3) };
    chain.head(block(4));
    chain.head(block(5));
    expect(a.results()).toEqual([{ height: 3, hash: hex(new Uint8Array(32).fill(3)) }]);
  });

  it('forgets a connection on disconnect and hears nothing after stop()', async () => {
    const { chain, subs, connect } = fixture();
    await subs.start();
    const a = connect();
    const b = connect();
    subs.subscribe(a.ctx, 'newHeads');
    subs.subscribe(b.ctx, 'newHeads');
    subs.release(a.ctx);
    subs.release(b.ctx);
    subs.disconnect(a.ctx);
    expect(subs.size).toBe(1);
    chain.head(block(1));
    expect([a.sent.length, b.sent.length]).toEqual([0, 1]);
    await subs.stop();
    chain.head(block(2));
    expect(b.sent.length).toBe(1);
    // A context no transport registered (HTTP) cannot subscribe.
    expect(() => subs.subscribe({ admin: false, transport: 'http' }, 'newHeads')).toThrow(expect.objectContaining({ reason: 'SUBSCRIPTIONS_NEED_WEBSOCKET' }));
  });

  it('never lets one slow request hold notifications back without bound', async () => {
    const { chain, subs, connect } = fixture();
    await subs.start();
    const a = connect();
    subs.subscribe(a.ctx, 'newHeads');
    for (let h = 1; h <= 300; h++) chain.head(block(h));
    expect(a.sent.length).toBeGreaterThan(0);
    expect(a.sent.map((m) => m.params.result.height)).toEqual(Array.from({ length: a.sent.length }, (_, i) => i + 1));
  });
});

describe('accountsConcerned', () => {
  const record = createRecord().id;
  const ownerOf = (id: Uint8Array) => (hex(id) === hex(record) ? patient.publicKey : undefined);
  const of = (tx: Transaction) => [...accountsConcerned(tx, ownerOf)].sort();

  it('names the sender, the record owner, the grantee and the attested doctor', () => {
    const stranger = testKey('stranger');
    expect(of(testTx(stranger, 0, { type: TxType.ReadRecord, record, version: 0, purpose: 'TREAT', emergency: false, reason: '' }))).toEqual(
      [hex(stranger.publicKey), hex(patient.publicKey)].sort(),
    );
    expect(of(testTx(patient, 1, { type: TxType.RevokeAccess, record, grantee: doctor.publicKey }))).toEqual([hex(patient.publicKey), hex(doctor.publicKey)].sort());
    expect(of(testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr D', licence: 'L', expiresAt: 1 }))).toEqual(
      [hex(hospital.publicKey), hex(doctor.publicKey)].sort(),
    );
    expect(of(testTx(hospital, 1, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'left' }))).toContain(hex(doctor.publicKey));
    expect(of(testTx(doctor, 0, { type: TxType.AddRecordVersion, record, commitment: new Uint8Array(32), size: 1, contentType: 'text/plain' }))).toContain(hex(patient.publicKey));
    expect(of(testTx(patient, 2, { type: TxType.EraseRecord, record }))).toEqual([hex(patient.publicKey)]);
    expect(of(testTx(stranger, 0, { type: TxType.RegisterIdentity, role: 'patient' }))).toEqual([hex(stranger.publicKey)]);
  });
});
