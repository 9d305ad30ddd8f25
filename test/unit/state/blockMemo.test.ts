/**
 * applyBlock and buildBlockContents remember each doctor's attestations for the whole block (BlockMemo). This
 * holds them to the plain path, applyTx without a memo, on seeded random blocks in which hospitals attest and
 * revoke the doctors that other transactions of the same block rely on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleBlock } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import type { KeyPair } from '../../../src/crypto/ed25519.ts';
import { merkleRoot } from '../../../src/crypto/merkle.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { DEFAULT_POLICY, instantiatePolicyTemplate } from '../../../src/script/templates.ts';
import { applyBlock, buildBlockContents, type BlockExecution } from '../../../src/state/applyBlock.ts';
import { applyTx, type BlockContext } from '../../../src/state/applyTx.ts';
import { BlockError, TxError, TxErrorCode } from '../../../src/state/errors.ts';
import { buildGenesis } from '../../../src/state/genesis.ts';
import { MemoryState, StateOverlay } from '../../../src/state/overlay.ts';
import { nextStateRoot } from '../../../src/state/commitment.ts';
import type { Hash } from '../../../src/types/primitives.ts';
import type { StateEntry } from '../../../src/types/state.ts';
import { TxType, type Transaction, type TxBody } from '../../../src/types/transaction.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../../helpers/fixtures.ts';

const hospitals = [testKey('memo/hospital/0'), testKey('memo/hospital/1')];
const doctors = [0, 1, 2].map((i) => testKey(`memo/doctor/${i}`));
const patients = [0, 1].map((i) => testKey(`memo/patient/${i}`));
const T = GENESIS_TIME + 10_000;
const spec = testGenesis('pow', {
  hospitals: hospitals.map((h, i) => ({ id: toHex(h.publicKey), name: `Hospital ${i}`, stake: 0 })),
});
const genesis = buildGenesis(spec);
function template(name: string, args: Record<string, string> = {}): Uint8Array {
  const compiled = instantiatePolicyTemplate(name, args);
  if (!compiled.ok) throw new Error(`${name} does not compile`);
  return compiled.program;
}
const emergency = template('emergency-access');
const byHospital1 = template('hospital-doctors', { hospital: toHex(hospitals[1]!.publicKey) });

const ctxAt = (height: number): BlockContext => ({ chainId: spec.chainId, height, time: T + height, policyFlags: CURRENT_POLICY_FLAGS });

function block(txs: readonly Transaction[], height: number) {
  return assembleBlock(
    {
      chainId: spec.chainId,
      height,
      parent: genesis.block.hash,
      time: T + height,
      txRoot: merkleRoot(txs.map((tx) => tx.id)),
      stateRoot: new Uint8Array(32),
      proposer: hospitals[0]!.publicKey,
      seal: new Uint8Array(0),
    },
    txs,
  );
}

/**
 * The state the random blocks run on: everyone registered; doctor 0 attested by both hospitals, doctor 1 by
 * hospital 0, doctor 2 by none; each patient's record (one default policy, one emergency-access) granted to
 * every doctor, and a third record without grants that any doctor attested by hospital 1 may read (so a new
 * attestation can allow a read, after the same doctor's attestations were looked up by an earlier transaction).
 */
function setup(): { writes: StateEntry[]; records: Hash[]; nonces: Map<KeyPair, number> } {
  const state = new MemoryState();
  state.apply(genesis.writes);
  const nonces = new Map<KeyPair, number>();
  const tx = (key: KeyPair, body: TxBody): Transaction => {
    const nonce = nonces.get(key) ?? 0;
    nonces.set(key, nonce + 1);
    return testTx(key, nonce, body);
  };
  const txs = [
    ...doctors.map((d) => tx(d, { type: TxType.RegisterIdentity, role: 'doctor' })),
    ...patients.map((p) => tx(p, { type: TxType.RegisterIdentity, role: 'patient' })),
    ...(
      [
        [0, 0],
        [1, 0],
        [0, 1],
      ] as const
    ).map(([h, d]) => tx(hospitals[h]!, { type: TxType.AttestDoctor, doctor: doctors[d]!.publicKey, name: 'Dr', licence: 'L', expiresAt: T + 1e9 })),
  ];
  const creates = patients.map((p, i) =>
    tx(p, { type: TxType.CreateRecord, commitment: new Uint8Array(32).fill(i), size: 1, contentType: 'text/plain', policy: i === 0 ? DEFAULT_POLICY : emergency }),
  );
  creates.push(tx(patients[0]!, { type: TxType.CreateRecord, commitment: new Uint8Array(32).fill(9), size: 1, contentType: 'text/plain', policy: byHospital1 }));
  const records = creates.map((c) => c.id);
  const grants = patients.flatMap((p, i) =>
    doctors.map((d) => tx(p, { type: TxType.GrantAccess, record: records[i]!, grantee: d.publicKey, scope: ['read', 'write'], expiresAt: null })),
  );
  const { writes } = applyBlock(state, block([...txs, ...creates, ...grants], 1), genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
  return { writes, records, nonces };
}

const actionArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('read' as const), doctor: fc.nat(2), record: fc.nat(2), emergency: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('version' as const), doctor: fc.nat(2), record: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), hospital: fc.nat(1), doctor: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('attest' as const), hospital: fc.nat(1), doctor: fc.nat(2), expired: fc.boolean() }) },
);
type Action = typeof actionArb extends fc.Arbitrary<infer A> ? A : never;

function bodyOf(a: Action, records: readonly Hash[], height: number): { sender: KeyPair; body: TxBody } {
  switch (a.kind) {
    case 'read':
      return {
        sender: doctors[a.doctor]!,
        body: { type: TxType.ReadRecord, record: records[a.record]!, version: 0, purpose: a.emergency ? 'ETREAT' : 'TREAT', emergency: a.emergency, reason: a.emergency ? 'ER' : '' },
      };
    case 'version':
      return { sender: doctors[a.doctor]!, body: { type: TxType.AddRecordVersion, record: records[a.record]!, commitment: new Uint8Array(32).fill(7), size: 2, contentType: 'text/plain' } };
    case 'revoke':
      return { sender: hospitals[a.hospital]!, body: { type: TxType.RevokeAttestation, doctor: doctors[a.doctor]!.publicKey, reason: 'gone' } };
    case 'attest':
      // An attestation that expires before the next block: valid when written, not valid in a later block.
      return {
        sender: hospitals[a.hospital]!,
        body: { type: TxType.AttestDoctor, doctor: doctors[a.doctor]!.publicKey, name: 'Dr', licence: 'L', expiresAt: a.expired ? T + height + 1 : T + 1e9 },
      };
  }
}

/** The plain path for one transaction: applyTx without a memo on a fork, kept if it applies. */
function applyPlain(overlay: StateOverlay, tx: Transaction, ctx: BlockContext): TxError | null {
  const attempt = overlay.fork();
  try {
    applyTx(attempt, tx, ctx);
  } catch (error) {
    if (!(error instanceof TxError)) throw error;
    return error;
  }
  overlay.merge(attempt);
  return null;
}

const hex = (entries: readonly StateEntry[]) => entries.map((e) => [toHex(e.key), e.value === null ? null : toHex(e.value)]);

function expectSameExecution(actual: BlockExecution, overlay: StateOverlay, height: number): void {
  const { writes, undo } = overlay.writesAndUndo();
  expect(hex(actual.writes)).toEqual(hex(writes));
  expect(hex(actual.undo)).toEqual(hex(undo));
  expect(toHex(actual.stateRoot)).toBe(toHex(nextStateRoot(genesis.block.header.stateRoot, height, writes)));
}

describe('BlockMemo: attestations remembered for a block', () => {
  it('applyBlock and buildBlockContents decide, refuse and write exactly as the plain path, across two blocks', () => {
    const { writes: setupWrites, records, nonces: startNonces } = setup();
    let refusedAfterChange = 0;
    let allowedAfterChange = 0;
    fc.assert(
      fc.property(fc.array(fc.array(actionArb, { minLength: 1, maxLength: 24 }), { minLength: 2, maxLength: 2 }), (blocks) => {
        const state = new MemoryState();
        state.apply(genesis.writes);
        state.apply(setupWrites);
        const nonces = new Map(startNonces);
        blocks.forEach((actions, b) => {
          const height = 2 + b;
          const ctx = ctxAt(height);
          // Nonces follow the plain path, so refused transactions do not stall their sender's later ones.
          const txs: Transaction[] = [];
          const plain = { overlay: new StateOverlay(state), outcomes: [] as (TxError | null)[] };
          for (const action of actions) {
            const { sender, body } = bodyOf(action, records, height);
            const tx = testTx(sender, nonces.get(sender) ?? 0, body);
            const outcome = applyPlain(plain.overlay, tx, ctx);
            if (outcome === null) nonces.set(sender, (nonces.get(sender) ?? 0) + 1);
            txs.push(tx);
            plain.outcomes.push(outcome);
          }
          const built = buildBlockContents(state, txs, ctx, genesis.block.header.stateRoot, txs.length);
          expect(built.included).toEqual(txs.filter((_, i) => plain.outcomes[i] === null));
          expect(built.excluded.map((e) => [toHex(e.tx.id), e.error.code, e.error.message])).toEqual(
            plain.outcomes.flatMap((e, i) => (e === null ? [] : [[toHex(txs[i]!.id), e.code, e.message]])),
          );
          expectSameExecution(built, plain.overlay, height);
          // applyBlock: the same block refused at the same transaction with the same error, or the same result.
          const firstRefused = plain.outcomes.findIndex((e) => e !== null);
          const blockBytes = block(txs, height);
          if (firstRefused === -1) {
            expectSameExecution(applyBlock(state, blockBytes, genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS), plain.overlay, height);
          } else {
            const error = plain.outcomes[firstRefused]!;
            const refusal = (() => {
              try {
                applyBlock(state, blockBytes, genesis.block.header.stateRoot, CURRENT_POLICY_FLAGS);
              } catch (e) {
                return e;
              }
              return undefined;
            })();
            expect(refusal).toBeInstanceOf(BlockError);
            expect((refusal as BlockError).message).toBe(`transaction ${firstRefused}: ${error.code}: ${error.message}`);
          }
          const changed = new Set<string>();
          txs.forEach((tx, i) => {
            const outcome = plain.outcomes[i] as TxError | null;
            const body = tx.body;
            if (body.type === TxType.RevokeAttestation || body.type === TxType.AttestDoctor) {
              if (outcome === null) changed.add(toHex(body.doctor));
            } else if (changed.has(toHex(tx.sender))) {
              if (outcome === null) allowedAfterChange++;
              else if (outcome.code === TxErrorCode.AttestationRevoked || outcome.code === TxErrorCode.NotAttested) refusedAfterChange++;
            }
          });
          state.apply(built.writes);
        });
      }),
      { seed: 0x3e3017, numRuns: 150 },
    );
    // The runs include the cases the memo must not get wrong: a doctor refused after a revocation earlier in the
    // block, and one allowed after an attestation earlier in the block.
    expect(refusedAfterChange).toBeGreaterThan(10);
    expect(allowedAfterChange).toBeGreaterThan(10);
  });
});
