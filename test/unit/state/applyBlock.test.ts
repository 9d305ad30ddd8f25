/** Block execution: all or nothing, deterministic, reversible; block building keeps what applies. */
import { describe, expect, it } from 'vitest';
import { assembleBlock } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { merkleRoot } from '../../../src/crypto/merkle.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { getAccount, getAttestation } from '../../../src/state/accessors.ts';
import { applyBlock, buildBlockContents } from '../../../src/state/applyBlock.ts';
import type { BlockContext } from '../../../src/state/applyTx.ts';
import { BlockError, BlockErrorCode, ErrorAction, TxErrorCode } from '../../../src/state/errors.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState, keyString, type StateReader } from '../../../src/state/overlay.ts';
import type { StateEntry } from '../../../src/types/state.ts';
import { TxType, type Transaction } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospital = testKey('hospital');
const patient = testKey('patient');
const doctor = testKey('doctor');
const spec = testGenesis('pos');
const genesis = buildGenesis(spec);
const T = GENESIS_TIME + 5_000;

function genesisState(): MemoryState {
  const state = new MemoryState();
  state.apply(genesis.writes);
  return state;
}

function block(txs: readonly Transaction[], height = 1, time = T) {
  return assembleBlock(
    {
      chainId: 'medchain-test',
      height,
      parent: genesis.block.hash,
      time,
      txRoot: merkleRoot(txs.map((tx) => tx.id)),
      stateRoot: new Uint8Array(32),
      proposer: hospital.publicKey,
      seal: new Uint8Array(0),
    },
    txs,
  );
}

const registerDoctor = testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' });
const registerPatient = testTx(patient, 0, { type: TxType.RegisterIdentity, role: 'patient' });
const attest = testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr A', licence: 'L', expiresAt: T + 1e6 });
const revoke = testTx(hospital, 1, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'r' });
const goodTxs = [registerDoctor, registerPatient, attest, revoke];

/** Every key/value of a MemoryState, for whole-state comparisons. */
function snapshot(state: StateReader, keys: readonly Uint8Array[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const key of keys) {
    const value = state.get(key);
    out[toHex(key)] = value === undefined ? null : toHex(value);
  }
  return out;
}

const hex = (entries: readonly StateEntry[]) => entries.map((e) => [toHex(e.key), e.value === null ? null : toHex(e.value)]);

describe('applyBlock', () => {
  it('applies transactions in order, later ones seeing earlier writes (register, attest, revoke in one block)', () => {
    const pre = genesisState();
    const execution = applyBlock(pre, block(goodTxs), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    const post = genesisState();
    post.apply(execution.writes);
    expect(getAttestation(post, doctor.publicKey, hospital.publicKey)).toMatchObject({ attestedAt: 1, revokedAt: 1 });
    expect(getAccount(post, hospital.publicKey)?.nonce).toBe(2);
    // Writes come out in key order, each key once.
    const keys = execution.writes.map((w) => toHex(w.key));
    expect(keys).toEqual([...keys].sort());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is all or nothing: one invalid transaction refuses the block and the pre-state is untouched', () => {
    const pre = genesisState();
    const touched = applyBlock(genesisState(), block(goodTxs), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS).writes.map((w) => w.key);
    const before = snapshot(pre, touched);
    const sizeBefore = pre.size;
    const replay = testTx(hospital, 1, { type: TxType.RevokeAttestation, doctor: doctor.publicKey, reason: 'again' });
    const error = (() => {
      try {
        applyBlock(pre, block([...goodTxs, replay]), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BlockError);
    expect(error).toMatchObject({ code: BlockErrorCode.InvalidTransaction, action: ErrorAction.Reject });
    expect((error as BlockError).message).toMatch(/^transaction 4: NONCE_TOO_LOW: /);
    expect(snapshot(pre, touched)).toEqual(before);
    expect(pre.size).toBe(sizeBefore);
  });

  it('names the first failing transaction when a valid one follows it', () => {
    const badFirst = testTx(patient, 1, { type: TxType.RegisterIdentity, role: 'patient' });
    expect(() => applyBlock(genesisState(), block([badFirst, registerDoctor]), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS)).toThrow(
      /^transaction 0: NONCE_GAP: /,
    );
  });

  it('is deterministic: the same block on equal pre-states gives the same writes, undo log and root', () => {
    const b = block(goodTxs);
    const run = () => applyBlock(genesisState(), b, genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    const first = run();
    const second = run();
    expect(hex(second.writes)).toEqual(hex(first.writes));
    expect(hex(second.undo)).toEqual(hex(first.undo));
    expect(toHex(second.stateRoot)).toBe(toHex(first.stateRoot));
    // And the pre-state reader is only read: running twice on one instance gives the same again.
    const shared = genesisState();
    const a = applyBlock(shared, b, genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    const c = applyBlock(shared, b, genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    expect(toHex(a.stateRoot)).toBe(toHex(first.stateRoot));
    expect(toHex(c.stateRoot)).toBe(toHex(first.stateRoot));
  });

  it('the root depends on the parent root, the height and the writes', () => {
    const pre = genesisState();
    const root = (b: ReturnType<typeof block>, parentRoot = genesis.block.header.stateRoot) =>
      toHex(applyBlock(pre, b, parentRoot, CURRENT_POLICY_FLAGS).stateRoot);
    const base = root(block(goodTxs));
    expect(root(block(goodTxs), new Uint8Array(32).fill(9))).not.toBe(base);
    expect(root(block(goodTxs, 2))).not.toBe(base);
    expect(root(block(goodTxs.slice(0, 3)))).not.toBe(base);
    // The same writes at a different block time give the same root: time is not state.
    expect(root(block(goodTxs, 1, T + 1))).toBe(base);
  });

  it('the undo log restores the pre-state exactly', () => {
    const state = genesisState();
    const execution = applyBlock(state, block(goodTxs), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    const keys = execution.writes.map((w) => w.key);
    const before = snapshot(state, keys);
    state.apply(execution.writes);
    expect(snapshot(state, keys)).not.toEqual(before);
    state.apply(execution.undo);
    expect(snapshot(state, keys)).toEqual(before);
    // New accounts did not exist before: their undo entry deletes them.
    const undoOfDoctor = execution.undo.find((u) => keyString(u.key).endsWith(keyString(doctor.publicKey)) && u.key[0] === 0x01);
    expect(undoOfDoctor?.value).toBeNull();
  });

  it('an empty block writes nothing but still moves the root', () => {
    const execution = applyBlock(genesisState(), block([]), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    expect(execution.writes).toEqual([]);
    expect(toHex(execution.stateRoot)).not.toBe(toHex(genesis.block.header.stateRoot));
  });
});

describe('buildBlockContents', () => {
  const ctx: BlockContext = { chainId: 'medchain-test', height: 1, time: T, policyFlags: CURRENT_POLICY_FLAGS };
  const notAHospital = testTx(patient, 1, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'x', licence: 'y', expiresAt: T + 1 });
  const wrongChain = testTx(testKey('other'), 0, { type: TxType.RegisterIdentity, role: 'patient' }, 'other-chain');
  const duplicate = testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'patient' });

  it('keeps transactions that apply, sets aside those that do not, with their reasons', () => {
    const candidates = [registerDoctor, notAHospital, registerPatient, wrongChain, attest, duplicate, revoke];
    const built = buildBlockContents(genesisState(), candidates, ctx, genesis.block.header.stateRoot, 100);
    expect(built.included).toEqual([registerDoctor, registerPatient, attest, revoke]);
    expect(built.excluded.map((e) => [e.tx, e.error.code])).toEqual([
      // The patient is not registered yet when its attest is tried: registration comes later in the list.
      [notAHospital, TxErrorCode.NonceGap],
      [wrongChain, TxErrorCode.WrongChain],
      [duplicate, TxErrorCode.NonceTooLow],
    ]);
  });

  it('gives exactly what applyBlock gives for the included transactions', () => {
    const candidates = [registerDoctor, registerPatient, notAHospital, attest, duplicate, revoke];
    const built = buildBlockContents(genesisState(), candidates, ctx, genesis.block.header.stateRoot, 100);
    expect(built.excluded.map((e) => e.error.code)).toEqual([TxErrorCode.NotAHospital, TxErrorCode.NonceTooLow]);
    const executed = applyBlock(genesisState(), block(built.included), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
    expect(hex(built.writes)).toEqual(hex(executed.writes));
    expect(hex(built.undo)).toEqual(hex(executed.undo));
    expect(toHex(built.stateRoot)).toBe(toHex(executed.stateRoot));
  });

  it('stops at maxTxs without trying the rest', () => {
    const built = buildBlockContents(genesisState(), [registerDoctor, notAHospital, registerPatient], ctx, genesis.block.header.stateRoot, 1);
    expect(built.included).toEqual([registerDoctor]);
    expect(built.excluded).toEqual([]);
  });

  it('a failing transaction leaves no trace in the result', () => {
    const alone = buildBlockContents(genesisState(), [registerDoctor], ctx, genesis.block.header.stateRoot, 10);
    const withFailures = buildBlockContents(genesisState(), [wrongChain, registerDoctor, duplicate, notAHospital], ctx, genesis.block.header.stateRoot, 10);
    expect(hex(withFailures.writes)).toEqual(hex(alone.writes));
    expect(toHex(withFailures.stateRoot)).toBe(toHex(alone.stateRoot));
  });
});
