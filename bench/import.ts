/**
 * First block-validation benchmark (issue 2): cold import of blocks of 1,000 signed transactions into a
 * LevelDB-backed chain (decode, hash, verify every signature, apply, state root, one synced batch), and the
 * raw single-thread verify rate of the Ed25519 verifier, measured in the same run.
 *
 *   npm run bench            (options: --blocks N --txs N)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Chain } from '../src/chain/chain.ts';
import { InlineSignatureVerifier, type SignatureVerifier } from '../src/chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../src/chain/verifyPool.ts';
import { PosSealer } from '../src/chain/sealer.ts';
import { signTransaction } from '../src/client/signTransaction.ts';
import { toHex, utf8 } from '../src/codec/bytes.ts';
import { decodeBlock } from '../src/codec/block.ts';
import { signingBytesOf } from '../src/codec/transaction.ts';
import { createEngine } from '../src/consensus/index.ts';
import { keyPairFromSeed, verify } from '../src/crypto/ed25519.ts';
import { sha256 } from '../src/crypto/hash.ts';
import { parseGenesis } from '../src/state/genesis.ts';
import { createLevelChainStore, createMemoryChainStore } from '../src/store/index.ts';
import { TxType, type Transaction } from '../src/types/transaction.ts';

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '5' }, txs: { type: 'string', default: '1000' } } });
const BLOCKS = Number(values.blocks);
const TXS = Number(values.txs);
const logger = pino({ level: 'silent' });
const hospital = keyPairFromSeed(sha256(utf8('bench/hospital')));
const genesis = parseGenesis({
  chainId: 'medchain-bench',
  time: 1_700_000_000_000,
  consensus: { engine: 'pos', slotMs: 1000 },
  hospitals: [{ id: toHex(hospital.publicKey), name: 'Bench Hospital', stake: 1 }],
});

/** Fresh keys register themselves: one signature check and one new account each. */
function registrations(block: number): Transaction[] {
  return Array.from({ length: TXS }, (_, i) => {
    const key = keyPairFromSeed(sha256(utf8(`bench/key/${block}/${i}`)));
    return signTransaction({ chainId: genesis.chainId, sender: key.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: i % 2 ? 'doctor' : 'patient' } }, key.secretKey);
  });
}

async function startChain(store: ReturnType<typeof createMemoryChainStore>, now: { t: number }, verifier: SignatureVerifier = new InlineSignatureVerifier()): Promise<Chain> {
  await store.start();
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier, logger, clock: () => now.t });
  await chain.start();
  return chain;
}

// 1. Produce the blocks (not measured).
const now = { t: genesis.time };
const producer = await startChain(createMemoryChainStore(), now);
const sealer = new PosSealer(hospital.secretKey);
const blocks: Uint8Array[] = [];
for (let b = 0; b < BLOCKS + 1; b++) {
  const time = producer.engine.nextProposalTime(producer.parentInfo(), hospital.publicKey, { now: now.t, parentState: producer.state })!;
  now.t = time;
  const built = producer.buildBlock(hospital.publicKey, time, registrations(b));
  const block = await producer.commitBuiltBlock(built, await sealer.seal(built.header));
  blocks.push(block!.bytes);
}

// 2. Raw verify rate on the same transactions (single thread), measured beside the import.
const sample = decodeBlock(blocks[1]!).transactions;
const prepared = sample.map((tx) => [tx.signature, signingBytesOf(tx.bytes), tx.sender] as const);
function rawVerifyRate(): number {
  const start = performance.now();
  let ok = 0;
  for (const [sig, msg, pk] of prepared) if (verify(sig, msg, pk)) ok++;
  if (ok !== prepared.length) throw new Error('a benchmark signature failed to verify');
  return prepared.length / ((performance.now() - start) / 1000);
}

// 3. Cold import into LevelDB (sync writes), once per verifier. Block 0 warms up the JIT and the database.
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function measureImport(makeVerifier: () => SignatureVerifier & { start?: () => Promise<void>; stop?: () => Promise<void> }) {
  const dir = await mkdtemp(join(tmpdir(), 'medchain-bench-'));
  const verifier = makeVerifier();
  await verifier.start?.();
  try {
    const importer = await startChain(createLevelChainStore(join(dir, 'chain')), now, verifier);
    await importer.importBlock(blocks[0]!);
    const importMs: number[] = [];
    const verifyRates: number[] = [];
    for (let b = 1; b <= BLOCKS; b++) {
      verifyRates.push(rawVerifyRate());
      const start = performance.now();
      await importer.importBlock(blocks[b]!);
      importMs.push(performance.now() - start);
    }
    await importer.stop();
    return { ms: median(importMs), raw: median(verifyRates) };
  } finally {
    await verifier.stop?.();
    await rm(dir, { recursive: true, force: true });
  }
}

rawVerifyRate();
const runs = [
  { name: 'main thread', ...(await measureImport(() => new InlineSignatureVerifier())) },
  { name: '1 worker', ...(await measureImport(() => new WorkerSignatureVerifier({ workers: 1 }))) },
  { name: '2 workers', ...(await measureImport(() => new WorkerSignatureVerifier({ workers: 2 }))) },
];
const raw = median(runs.map((r) => r.raw));
console.log(`medchain bench: cold import of ${BLOCKS} blocks x ${TXS} signed transactions (LevelDB, one synced batch per block)`);
console.log(`  raw verify, sodium-native, 1 thread     ${Math.round(raw)} verifies/s (same run)`);
for (const r of runs) {
  const tps = TXS / (r.ms / 1000);
  console.log(`  import, signatures on ${r.name.padEnd(12)} ${r.ms.toFixed(1).padStart(6)} ms/block  ${String(Math.round(tps)).padStart(6)} tx/s  ${((tps / raw) * 100).toFixed(0).padStart(4)} % of 1-thread raw verify`);
}
console.log(JSON.stringify({ blocks: BLOCKS, txsPerBlock: TXS, rawVerifyPerSec: raw, runs: runs.map((r) => ({ name: r.name, msPerBlock: r.ms, tps: TXS / (r.ms / 1000) })) }));
