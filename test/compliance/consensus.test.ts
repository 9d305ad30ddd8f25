/**
 * One compliance suite for every ConsensusEngine: the two real engines and a toy round-robin engine defined
 * here, which proves the interface is pluggable. Each drives a real Chain over a memory store.
 */
import { describe, expect, it } from 'vitest';
import { assembleBlock, encodeHeader, encodeHeaderForSigning } from '../../src/codec/block.ts';
import { bytesEqual, toHex } from '../../src/codec/bytes.ts';
import type { ConsensusContext, ConsensusEngine, ParentInfo } from '../../src/consensus/interface.ts';
import { PosEngine, sealPosHeader } from '../../src/consensus/pos/posEngine.ts';
import { MAX_FUTURE_DRIFT_MS, PowEngine, decodePowSeal, encodePowSeal, meetsTarget } from '../../src/consensus/pow/powEngine.ts';
import { verify, type KeyPair } from '../../src/crypto/ed25519.ts';
import { merkleRoot } from '../../src/crypto/merkle.ts';
import { getAccount, getAttestation, getHospitals } from '../../src/state/accessors.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../../src/state/errors.ts';
import type { StateReader } from '../../src/state/overlay.ts';
import type { Block, BlockHeader } from '../../src/types/block.ts';
import type { GenesisSpec } from '../../src/types/genesis.ts';
import type { AccountId } from '../../src/types/primitives.ts';
import { TxType, type Transaction } from '../../src/types/transaction.ts';
import { powSealHeader, startTestChain, type TestChain } from '../helpers/chainBuilder.ts';
import { GENESIS_TIME, testGenesis, testKey, testTx } from '../helpers/fixtures.ts';

// ---------------------------------------------------------------------------------------------------------
// A toy engine: hospitals take turns by height, each block signed by its turn's hospital.
// ---------------------------------------------------------------------------------------------------------

class RoundRobinEngine implements ConsensusEngine {
  readonly kind = 'round-robin';

  /** The hospital whose turn `height` is, in genesis order. */
  proposerFor(height: number, state: StateReader): AccountId | undefined {
    const hospitals = getHospitals(state);
    return hospitals[height % hospitals.length];
  }

  verifyHeader(header: BlockHeader, _headerBytes: Uint8Array, parent: ParentInfo, ctx: ConsensusContext): BlockError | null {
    if (header.time <= parent.header.time) return new BlockError(BlockErrorCode.BadTime, 'time must move forward');
    if (header.time > ctx.now + MAX_FUTURE_DRIFT_MS) return new BlockError(BlockErrorCode.FutureBlock, 'from the future', ErrorAction.Ignore);
    const expected = this.proposerFor(header.height, ctx.parentState);
    if (expected === undefined || !bytesEqual(expected, header.proposer)) return new BlockError(BlockErrorCode.WrongProposer, 'not its turn');
    if (!verify(header.seal, encodeHeaderForSigning(header), header.proposer)) return new BlockError(BlockErrorCode.BadSeal, 'bad signature');
    return null;
  }

  score(_header: BlockHeader, parent: ParentInfo): bigint {
    return parent.score + 1n;
  }

  nextProposalTime(parent: ParentInfo, proposer: AccountId, ctx: ConsensusContext): number | null {
    const expected = this.proposerFor(parent.header.height + 1, ctx.parentState);
    return expected !== undefined && bytesEqual(expected, proposer) ? Math.max(ctx.now, parent.header.time + 1) : null;
  }

  initialSeal(): Uint8Array {
    return new Uint8Array(0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------------

interface EngineEnv {
  readonly genesis: GenesisSpec;
  createEngine(): ConsensusEngine;
  /** Accounts that may propose (validators, authorities or miners). */
  readonly proposers: readonly KeyPair[];
  /** Seals a freshly built header as `key` would. */
  seal(header: BlockHeader, key: KeyPair): BlockHeader;
  /** A copy of a sealed header whose seal no longer holds. */
  tamperSeal(header: BlockHeader): BlockHeader;
  /** Whether the engine decides who may propose (PoW lets anyone). */
  readonly checksProposer: boolean;
}

const hospital = testKey('hospital');
const otherHospital = testKey('other-hospital');
const doctor = testKey('doctor');
const CHAIN_LENGTH = 10;

function twoHospitalGenesis(consensus: Record<string, unknown>): GenesisSpec {
  return testGenesis('pos', {
    consensus,
    hospitals: [
      { id: toHex(hospital.publicKey), name: 'General Hospital', stake: 1 },
      { id: toHex(otherHospital.publicKey), name: 'St Elsewhere', stake: 3 },
    ],
  });
}

/** Transactions for block `height`: a new patient each time, a doctor at 1 and its attestation at 2. */
function txsFor(height: number): Transaction[] {
  const txs = [testTx(testKey(`patient-${height}`), 0, { type: TxType.RegisterIdentity, role: 'patient' })];
  if (height === 1) txs.push(testTx(doctor, 0, { type: TxType.RegisterIdentity, role: 'doctor' }));
  if (height === 2) {
    txs.push(testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: doctor.publicKey, name: 'Dr A', licence: 'L', expiresAt: GENESIS_TIME + 1e9 }));
  }
  return txs;
}

async function parentInfoAt(tc: TestChain, height: number): Promise<ParentInfo> {
  const block = (await tc.chain.getBlockByHeight(height))!;
  const meta = (await tc.store.getBlockMeta(block.hash))!;
  const grandparentTime = height === 0 ? null : (await tc.chain.getBlockByHeight(height - 1))!.header.time;
  return { header: block.header, hash: block.hash, score: meta.score, grandparentTime };
}

export function engineCompliance(name: string, makeEnv: () => EngineEnv): void {
  describe(`consensus engine compliance: ${name}`, () => {
    const env = makeEnv();
    const ctxOf = (tc: TestChain, now = tc.now.t): ConsensusContext => ({ now, parentState: tc.chain.state });

    /** The proposer with the earliest turn on the head, and that time. */
    function nextTurn(tc: TestChain, parent: ParentInfo): { key: KeyPair; time: number } {
      let best: { key: KeyPair; time: number } | undefined;
      for (const key of env.proposers) {
        const time = tc.chain.engine.nextProposalTime(parent, key.publicKey, ctxOf(tc));
        if (time !== null && (best === undefined || time < best.time)) best = { key, time };
      }
      if (best === undefined) throw new Error('no proposer has a turn');
      return best;
    }

    /** Builds, seals and commits one block on the head, one second after the previous one. */
    async function produce(tc: TestChain, txs: readonly Transaction[]): Promise<Block> {
      tc.now.t += 1000;
      const { key, time } = nextTurn(tc, tc.chain.parentInfo());
      tc.now.t = time;
      const built = tc.chain.buildBlock(key.publicKey, time, txs);
      expect(built.excluded).toEqual([]);
      const block = await tc.chain.commitBuiltBlock(built, env.seal(built.header, key));
      if (block === null) throw new Error('the head moved while sealing');
      return block;
    }

    /** A header on `parent` at `time` by `key`, sealed by `sealer` (default: the same key). */
    function headerOn(parent: ParentInfo, key: KeyPair, time: number, sealer = key): BlockHeader {
      const header: BlockHeader = {
        chainId: env.genesis.chainId,
        height: parent.header.height + 1,
        parent: parent.hash,
        time,
        txRoot: merkleRoot([]),
        stateRoot: parent.header.stateRoot,
        proposer: key.publicKey,
        seal: env.createEngine().initialSeal(parent),
      };
      return env.seal(header, sealer);
    }

    let producer: TestChain;
    let blocks: Block[] = [];

    async function producedChain(): Promise<TestChain> {
      if (blocks.length > 0) return producer;
      producer = await startTestChain(env.genesis, env.createEngine(), { t: GENESIS_TIME });
      for (let h = 1; h <= CHAIN_LENGTH; h++) blocks.push(await produce(producer, txsFor(h)));
      return producer;
    }

    async function importer(upTo: number, now: number): Promise<TestChain> {
      const tc = await startTestChain(env.genesis, env.createEngine(), { t: now });
      for (const block of blocks.slice(0, upTo)) await tc.chain.importBlock(block.bytes);
      return tc;
    }

    it(`produces ${CHAIN_LENGTH} blocks that another node imports to the same heads and state roots`, async () => {
      const a = await producedChain();
      expect(a.chain.head.header.height).toBe(CHAIN_LENGTH);
      const b = await startTestChain(env.genesis, env.createEngine(), { t: a.now.t });
      for (const block of blocks) {
        await b.chain.importBlock(block.bytes);
        expect(toHex(b.chain.head.hash)).toBe(toHex(block.hash));
        expect(toHex(b.chain.head.header.stateRoot)).toBe(toHex(block.header.stateRoot));
      }
      expect(b.chain.head.score).toBe(a.chain.head.score);
      // The transactions really ran on both.
      expect(getAttestation(b.chain.state, doctor.publicKey, hospital.publicKey)?.attestedAt).toBe(2);
      expect(getAccount(b.chain.state, testKey(`patient-${CHAIN_LENGTH}`).publicKey)).toEqual(
        getAccount(a.chain.state, testKey(`patient-${CHAIN_LENGTH}`).publicKey),
      );
    });

    it('accepts every produced header against its parent, and the score strictly increases', async () => {
      const a = await producedChain();
      const engine = env.createEngine();
      let previous = (await parentInfoAt(a, 0)).score;
      for (let h = 1; h <= CHAIN_LENGTH; h++) {
        const parent = await parentInfoAt(a, h - 1);
        const block = blocks[h - 1]!;
        expect(engine.verifyHeader(block.header, block.headerBytes, parent, ctxOf(a))).toBeNull();
        const score = (await parentInfoAt(a, h)).score;
        expect(score > previous, `score at ${h}`).toBe(true);
        // No votes in these chains: the head state has the same (genesis) justified checkpoint as every block's.
        expect(engine.score(block.header, parent, a.chain.state)).toBe(score);
        previous = score;
      }
    });

    it('refuses a tampered seal (REJECT), in verifyHeader and on import, and the head stays put', async () => {
      const a = await producedChain();
      const parent = await parentInfoAt(a, 4);
      const genuine = blocks[4]!;
      const tampered = env.tamperSeal(genuine.header);
      expect(tampered.seal).not.toEqual(genuine.header.seal);
      expect(env.createEngine().verifyHeader(tampered, encodeHeader(tampered), parent, ctxOf(a))).toMatchObject({
        code: BlockErrorCode.BadSeal,
        action: ErrorAction.Reject,
      });
      const b = await importer(4, a.now.t);
      const forged = assembleBlock(tampered, genuine.transactions);
      await expect(b.chain.importBlock(forged.bytes)).rejects.toMatchObject({ code: BlockErrorCode.BadSeal });
      expect(b.chain.head.header.height).toBe(4);
      await b.chain.importBlock(genuine.bytes);
      expect(b.chain.head.header.height).toBe(5);
    });

    it('refuses a block time not after its parent (REJECT)', async () => {
      const a = await producedChain();
      const parent = await parentInfoAt(a, CHAIN_LENGTH);
      const engine = env.createEngine();
      const { key, time } = nextTurn(a, parent);
      const onTime = headerOn(parent, key, time);
      expect(engine.verifyHeader(onTime, encodeHeader(onTime), parent, ctxOf(a))).toBeNull();
      for (const at of [parent.header.time, parent.header.time - 1000]) {
        const header = headerOn(parent, key, at);
        expect(engine.verifyHeader(header, encodeHeader(header), parent, ctxOf(a))).toMatchObject({
          code: BlockErrorCode.BadTime,
          action: ErrorAction.Reject,
        });
      }
    });

    it('ignores a block too far in the future (IGNORE: it may become valid later)', async () => {
      const a = await producedChain();
      const parent = await parentInfoAt(a, CHAIN_LENGTH);
      const engine = env.createEngine();
      const { key, time } = nextTurn(a, parent);
      const header = headerOn(parent, key, time);
      const encoded = encodeHeader(header);
      const earlyClock = time - MAX_FUTURE_DRIFT_MS - 60_000;
      expect(engine.verifyHeader(header, encoded, parent, ctxOf(a, earlyClock))).toMatchObject({
        code: BlockErrorCode.FutureBlock,
        action: ErrorAction.Ignore,
      });
      expect(engine.verifyHeader(header, encoded, parent, ctxOf(a, time))).toBeNull();
    });

    it(env.checksProposer ? 'refuses a block by a proposer whose turn it is not' : 'lets any account propose', async () => {
      const a = await producedChain();
      const parent = await parentInfoAt(a, CHAIN_LENGTH);
      const engine = env.createEngine();
      let checked = 0;
      for (const key of env.proposers) {
        const time = engine.nextProposalTime(parent, key.publicKey, ctxOf(a));
        if (time === null) continue;
        const impostor = env.proposers.find((k) => k !== key)!;
        const header = headerOn(parent, impostor, time);
        const error = engine.verifyHeader(header, encodeHeader(header), parent, ctxOf(a, time));
        if (env.checksProposer) expect(error).toMatchObject({ code: BlockErrorCode.WrongProposer, action: ErrorAction.Reject });
        else expect(error).toBeNull();
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });

    it('nextProposalTime is at or after now, after the parent, and deterministic', async () => {
      const a = await producedChain();
      const parent = await parentInfoAt(a, CHAIN_LENGTH);
      const engine = env.createEngine();
      const other = env.createEngine();
      let turns = 0;
      for (const now of [GENESIS_TIME, parent.header.time - 1, parent.header.time, parent.header.time + 1, parent.header.time + 123_457]) {
        for (const key of [...env.proposers, testKey('not-a-validator')]) {
          const time = engine.nextProposalTime(parent, key.publicKey, ctxOf(a, now));
          expect(engine.nextProposalTime(parent, key.publicKey, ctxOf(a, now))).toBe(time);
          expect(other.nextProposalTime(parent, key.publicKey, ctxOf(a, now))).toBe(time);
          if (time === null) continue;
          turns++;
          expect(time).toBeGreaterThanOrEqual(now);
          expect(time).toBeGreaterThan(parent.header.time);
          // A turn given is a turn the engine accepts.
          const header = headerOn(parent, key, time);
          expect(engine.verifyHeader(header, encodeHeader(header), parent, ctxOf(a, time))).toBeNull();
        }
      }
      expect(turns).toBeGreaterThanOrEqual(5);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The three engines
// ---------------------------------------------------------------------------------------------------------

const signSeal = (header: BlockHeader, key: KeyPair): BlockHeader => sealPosHeader(header, key.secretKey);
const flipSignature = (header: BlockHeader): BlockHeader => {
  const seal = header.seal.slice();
  seal[0]! ^= 0x01;
  return { ...header, seal };
};

engineCompliance('proof of work', () => {
  const genesis = twoHospitalGenesis({ engine: 'pow', targetBlockMs: 1000, initialDifficulty: 16, minDifficulty: 1 });
  if (genesis.consensus.engine !== 'pow') throw new Error('expected a PoW genesis');
  const params = genesis.consensus;
  return {
    genesis,
    createEngine: () => new PowEngine(params),
    proposers: [hospital, otherHospital],
    seal: (header) => powSealHeader(header),
    tamperSeal(header) {
      // The next nonce whose hash misses the target (most do at this difficulty).
      const { difficulty, nonce } = decodePowSeal(header.seal)!;
      for (let n = nonce + 1n; ; n++) {
        const candidate = { ...header, seal: encodePowSeal({ difficulty, nonce: n }) };
        if (!meetsTarget(encodeHeader(candidate), difficulty)) return candidate;
      }
    },
    checksProposer: false,
  };
});

engineCompliance('proof of stake', () => {
  const genesis = twoHospitalGenesis({ engine: 'pos', slotMs: 1000 });
  if (genesis.consensus.engine !== 'pos') throw new Error('expected a PoS genesis');
  const params = genesis.consensus;
  return {
    genesis,
    createEngine: () => new PosEngine(params, genesis.time),
    proposers: [hospital, otherHospital],
    seal: signSeal,
    tamperSeal: flipSignature,
    checksProposer: true,
  };
});

engineCompliance('toy round-robin authority (defined in this test)', () => ({
  genesis: twoHospitalGenesis({ engine: 'pos', slotMs: 1000 }),
  createEngine: () => new RoundRobinEngine(),
  proposers: [hospital, otherHospital],
  seal: signSeal,
  tamperSeal: flipSignature,
  checksProposer: true,
}));
