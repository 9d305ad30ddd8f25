import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Chain } from '../../src/chain/chain.ts';
import { PosSealer } from '../../src/chain/sealer.ts';
import { InlineSignatureVerifier } from '../../src/chain/signatureVerifier.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { createEngine } from '../../src/consensus/index.ts';
import { chainDatabaseDir } from '../../src/node/openChain.ts';
import { parseGenesis } from '../../src/state/genesis.ts';
import { createLevelChainStore } from '../../src/store/index.ts';
import type { Block } from '../../src/types/block.ts';
import type { GenesisSpec } from '../../src/types/genesis.ts';
import { TxType, type Transaction } from '../../src/types/transaction.ts';
import { GENESIS_TIME, silentLogger, testKey, testTx } from '../helpers/fixtures.ts';

/** A chain built in the test process: what a node that was never killed ends up with, height by height. */
export interface ReferenceChain {
  readonly genesisJson: object;
  readonly genesis: GenesisSpec;
  /** Index = height; [0] is genesis. */
  readonly blocks: readonly Block[];
  /** State writes of each height (genesis included), hex key -> hex value or null (deleted). */
  readonly writes: readonly ReadonlyMap<string, string | null>[];
  /** The whole state after `height`, hex key -> hex value. */
  stateAt(height: number): Map<string, string>;
}

/** The genesis file of the reference chain: one PoS hospital, 1 s slots, years in the past so no block is "future". */
export function referenceGenesisJson(): object {
  return {
    chainId: 'medchain-test',
    time: GENESIS_TIME,
    consensus: { engine: 'pos', slotMs: 1000 },
    hospitals: [{ id: toHex(testKey('hospital').publicKey), name: 'General Hospital', stake: 100 }],
  };
}

/**
 * Builds `height` blocks of `txsPerBlock` transactions each in the LevelDB datadir `datadir` (genesis.json
 * written beside it): registrations of fresh patient and doctor keys and, from block 2 on, the hospital's
 * attestations of doctors registered in earlier blocks (a third of each block). Deterministic: same blocks,
 * same hashes every run.
 */
export async function buildReferenceChain(datadir: string, height: number, txsPerBlock: number): Promise<ReferenceChain> {
  const genesisJson = referenceGenesisJson();
  const genesis = parseGenesis(genesisJson);
  await writeFile(join(datadir, 'genesis.json'), JSON.stringify(genesisJson, null, 2));
  const store = createLevelChainStore(chainDatabaseDir(datadir));
  await store.start();
  const hospital = testKey('hospital');
  const sealer = new PosSealer(hospital.secretKey);
  let now = GENESIS_TIME;
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(), logger: silentLogger, clock: () => now });
  const writes: Map<string, string | null>[] = [];
  const blocks: Block[] = [];
  try {
    await chain.start();
    const genesisWrites = new Map<string, string | null>();
    for await (const { key, value } of store.readState()) genesisWrites.set(toHex(key), toHex(value));
    writes.push(genesisWrites);
    const genesisBlock = await chain.getBlockByHeight(0);
    blocks.push(genesisBlock!);

    let fresh = 0;
    let hospitalNonce = 0;
    const unattested: Uint8Array[] = [];
    const attestations = Math.floor(txsPerBlock / 3);
    for (let h = 1; h <= height; h++) {
      const candidates: Transaction[] = [];
      for (let i = 0; i < attestations && unattested.length > 0; i++) {
        const doctor = unattested.shift()!;
        candidates.push(
          testTx(hospital, hospitalNonce++, {
            type: TxType.AttestDoctor,
            doctor,
            name: `Dr ${fresh}-${i}`,
            licence: `L-${h}-${i}`,
            expiresAt: GENESIS_TIME + 10 * 365 * 86_400_000,
          }),
        );
      }
      while (candidates.length < txsPerBlock) {
        const key = testKey(`reference-chain/${fresh++}`);
        const role = fresh % 2 === 0 ? 'doctor' : 'patient';
        candidates.push(testTx(key, 0, { type: TxType.RegisterIdentity, role }));
        if (role === 'doctor') unattested.push(key.publicKey);
      }
      const time = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: chain.head.header.time + 1, parentState: chain.state });
      if (time === null) throw new Error('the reference hospital has no slot');
      now = time;
      const built = chain.buildBlock(hospital.publicKey, time, candidates);
      if (built.excluded.length > 0) throw new Error(`reference block ${h} left out a transaction: ${built.excluded[0]!.error.message}`);
      const block = await chain.commitBuiltBlock(built, await sealer.seal(built.header));
      if (block === null) throw new Error(`reference block ${h} went stale`);
      blocks.push(block);
      writes.push(new Map(built.execution.writes.map((w) => [toHex(w.key), w.value === null ? null : toHex(w.value)])));
    }
  } finally {
    await chain.stop();
    await store.stop();
  }
  return {
    genesisJson,
    genesis,
    blocks,
    writes,
    stateAt(h) {
      const state = new Map<string, string>();
      for (let i = 0; i <= h; i++) {
        for (const [k, v] of writes[i]!) {
          if (v === null) state.delete(k);
          else state.set(k, v);
        }
      }
      return state;
    },
  };
}
