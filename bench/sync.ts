/**
 * Sync benchmark: how fast a fresh node catches up with a peer over real libp2p (TCP, Noise, Yamux on
 * 127.0.0.1) into a real LevelDB, and the same blocks imported locally with no network, so the network's
 * share is visible. A second fresh node syncs with the source's head as its trusted checkpoint
 * (sync.assumeValid): it fetches the header chain first, then imports the blocks without signature checks. Both nodes use the node's own wiring (createNetworkHandlers, Libp2pNetwork, Syncer as in
 * src/node/node.ts); the importing chains verify signatures on 2 worker threads, as the node does on 2 cores.
 *
 *   npm run bench:sync            (options: --blocks N  --min-txs N  --max-txs N  --seed N  --out DIR)
 *
 * The source chain is built first (not measured): PoS, one validator, each block 20-80 signed transactions
 * of a medical workload: registrations, doctor attestations, record creations, grants, read receipts and new
 * versions by granted doctors (the last two run the record's policy). The genesis time is set far enough in
 * the past that every block's slot has already started, so every chain runs on the real clock, as a node
 * catching up would, and the PoS future-drift rule never holds a block back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Chain } from '../src/chain/chain.ts';
import { DEFAULT_MEMPOOL_OPTIONS, Mempool } from '../src/chain/mempool.ts';
import { PosSealer } from '../src/chain/sealer.ts';
import { InlineSignatureVerifier, SignatureCache, type SignatureVerifier } from '../src/chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../src/chain/verifyPool.ts';
import { signTransaction } from '../src/client/signTransaction.ts';
import { describeBlock, describeHeader } from '../src/codec/block.ts';
import type { ImportOptions } from '../src/chain/chain.ts';
import { toHex, utf8 } from '../src/codec/bytes.ts';
import { createEngine } from '../src/consensus/index.ts';
import { keyPairFromSeed, type KeyPair } from '../src/crypto/ed25519.ts';
import { sha256 } from '../src/crypto/hash.ts';
import { createNetworkHandlers } from '../src/node/networkHandlers.ts';
import { Libp2pNetwork } from '../src/p2p/libp2pNetwork.ts';
import { Syncer, type TrustedCheckpoint } from '../src/p2p/sync.ts';
import { DEFAULT_POLICY } from '../src/script/templates.ts';
import { parseGenesis } from '../src/state/genesis.ts';
import { createLevelChainStore } from '../src/store/index.ts';
import type { ChainStore } from '../src/store/interface.ts';
import type { AccessAction } from '../src/types/record.ts';
import { TxType, type Transaction, type TxBody } from '../src/types/transaction.ts';
import { mulberry32 } from '../test/helpers/process.ts';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '10000' },
    'min-txs': { type: 'string', default: '20' },
    'max-txs': { type: 'string', default: '80' },
    seed: { type: 'string', default: '20261124' },
    out: { type: 'string', default: fileURLToPath(new URL('out/', import.meta.url)) },
  },
});
const BLOCKS = Number(values.blocks);
const MIN_TXS = Number(values['min-txs']);
const MAX_TXS = Number(values['max-txs']);
const SEED = Number(values.seed);
for (const [name, n] of [['blocks', BLOCKS], ['min-txs', MIN_TXS], ['max-txs', MAX_TXS]] as const) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${n}`);
}
if (MAX_TXS < MIN_TXS) throw new RangeError('--max-txs must be at least --min-txs');
const VERIFY_WORKERS = 2;
const SLOT_MS = 1000;
const SYNC_TIMEOUT_MS = 10 * 60_000;

// Warnings and errors only, on stderr: stdout carries the figures.
const logger = pino({ level: 'warn' }, pino.destination(2));
const hospital = keyPairFromSeed(sha256(utf8('bench/sync/hospital')));
const genesis = parseGenesis({
  chainId: 'medchain-bench-sync',
  // Every slot up to block N (plus a margin for building) lies in the past.
  time: Math.floor((Date.now() - (BLOCKS + 600) * SLOT_MS) / SLOT_MS) * SLOT_MS,
  consensus: { engine: 'pos', slotMs: SLOT_MS },
  hospitals: [{ id: toHex(hospital.publicKey), name: 'Bench Hospital', stake: 1000 }],
});

const dir = await mkdtemp(join(tmpdir(), 'medchain-bench-sync-'));
// Ctrl+C: leave no temporary datadirs behind.
process.once('SIGINT', () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------------------
// The workload: accounts act only on what earlier blocks settled, so every transaction applies.
// ---------------------------------------------------------------------------------------------------------

interface Actor {
  readonly key: KeyPair;
  nonce: number;
}
interface Grant {
  readonly record: Uint8Array;
  readonly doctor: Actor;
  readonly scope: readonly AccessAction[];
}

const random = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const hospitalActor: Actor = { key: hospital, nonce: 0 };
const settled = { patients: [] as Actor[], doctors: [] as Actor[], unattested: [] as Actor[], attested: [] as Actor[], records: [] as { id: Uint8Array; owner: Actor }[], grants: [] as Grant[] };
const granted = new Set<string>();
let keyCounter = 0;

function signed(actor: Actor, body: TxBody): Transaction {
  return signTransaction({ chainId: genesis.chainId, sender: actor.key.publicKey, nonce: actor.nonce++, body }, actor.key.secretKey);
}

/** One block's transactions; what they create becomes usable from the next block on. */
function blockTransactions(time: number): Transaction[] {
  const count = MIN_TXS + Math.floor(random() * (MAX_TXS - MIN_TXS + 1));
  const fresh = { patients: [] as Actor[], doctors: [] as Actor[], unattested: [] as Actor[], attested: [] as Actor[], records: [] as { id: Uint8Array; owner: Actor }[], grants: [] as Grant[] };
  const txs: Transaction[] = [];
  const register = (role: 'patient' | 'doctor'): Transaction => {
    const actor: Actor = { key: keyPairFromSeed(sha256(utf8(`bench/sync/key/${keyCounter++}`))), nonce: 0 };
    if (role === 'patient') {
      fresh.patients.push(actor);
    } else {
      fresh.doctors.push(actor);
      fresh.unattested.push(actor);
    }
    return signed(actor, { type: TxType.RegisterIdentity, role });
  };
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.15 || settled.patients.length === 0) txs.push(register('patient'));
    else if (roll < 0.2 || settled.doctors.length === 0) txs.push(register('doctor'));
    else if (roll < 0.23 && settled.unattested.length > 0) {
      const doctor = settled.unattested.pop()!;
      fresh.attested.push(doctor);
      txs.push(signed(hospitalActor, { type: TxType.AttestDoctor, doctor: doctor.key.publicKey, name: `Dr ${keyCounter}`, licence: `LIC-${keyCounter}`, expiresAt: time + 5 * 365 * 86_400_000 }));
    } else if (roll < 0.53 || settled.records.length === 0 || settled.attested.length === 0) {
      const owner = pick(settled.patients);
      const tx = signed(owner, {
        type: TxType.CreateRecord,
        commitment: sha256(utf8(`bench/sync/commitment/${keyCounter++}`)),
        size: 1024 + Math.floor(random() * 100_000),
        contentType: 'application/fhir+json',
        policy: DEFAULT_POLICY,
      });
      fresh.records.push({ id: tx.id, owner });
      txs.push(tx);
    } else if (roll < 0.78 || settled.grants.length === 0) {
      const record = pick(settled.records);
      const doctor = pick(settled.attested);
      // A second grant to the same doctor would replace the first, and a version written under it could fail.
      const pair = `${toHex(record.id)}/${toHex(doctor.key.publicKey)}`;
      if (granted.has(pair)) {
        txs.push(register('patient'));
        continue;
      }
      granted.add(pair);
      const scope: AccessAction[] = random() < 0.5 ? ['read'] : ['read', 'write'];
      txs.push(signed(record.owner, { type: TxType.GrantAccess, record: record.id, grantee: doctor.key.publicKey, scope, expiresAt: random() < 0.5 ? null : time + 365 * 86_400_000 }));
      fresh.grants.push({ record: record.id, doctor, scope });
    } else {
      // A granted doctor reads (a receipt) or, with write scope, adds a version: either way the record's policy runs.
      const grant = pick(settled.grants);
      txs.push(
        grant.scope.includes('write') && roll > 0.9
          ? signed(grant.doctor, { type: TxType.AddRecordVersion, record: grant.record, commitment: sha256(utf8(`bench/sync/commitment/${keyCounter++}`)), size: 2048, contentType: 'application/fhir+json' })
          : signed(grant.doctor, { type: TxType.ReadRecord, record: grant.record, version: 0, purpose: 'TREAT', emergency: false, reason: '' }),
      );
    }
  }
  for (const key of Object.keys(fresh) as (keyof typeof fresh)[]) (settled[key] as unknown[]).push(...fresh[key]);
  return txs;
}

// ---------------------------------------------------------------------------------------------------------
// Chains and the node's network wiring
// ---------------------------------------------------------------------------------------------------------

interface ChainHandle {
  readonly chain: Chain;
  readonly store: ChainStore;
  readonly cache: SignatureCache;
  stop(): Promise<void>;
}

/** A chain over LevelDB in `datadir/chain` on the real clock; `workers` > 0 verifies on worker threads as the node does. */
async function openChain(datadir: string, workers: number): Promise<ChainHandle> {
  const store = createLevelChainStore(join(datadir, 'chain'));
  await store.start();
  const cache = new SignatureCache();
  const verifier: SignatureVerifier = workers > 0 ? new WorkerSignatureVerifier({ workers }, cache) : new InlineSignatureVerifier(cache);
  if (verifier instanceof WorkerSignatureVerifier) await verifier.start();
  const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier, logger, clock: Date.now });
  await chain.start();
  return {
    chain,
    store,
    cache,
    async stop() {
      await chain.stop();
      if (verifier instanceof WorkerSignatureVerifier) await verifier.stop();
      await store.stop();
    },
  };
}

/**
 * Time during which at least one chain.importBlock call for a block from the network was running (sync
 * queues a whole range at once, so calls overlap: their union is counted, not their sum), and the bytes.
 */
interface ImportTally {
  ms: number;
  inFlight: number;
  busySince: number;
  blocks: number;
  bytes: number;
  firstAt: number | undefined;
  /** Blocks imported with their signatures trusted (on the header chain of the trusted checkpoint). */
  trusted: number;
  /** Called after each import; the bench watches for the source's head here. */
  after?: () => void;
}

/** Mempool, gossip handlers, Libp2pNetwork and Syncer around `handle`, wired as MedchainNode does (no RPC, no producer). */
function networkStack(handle: ChainHandle, datadir: string, tally: ImportTally, assumeValid?: TrustedCheckpoint) {
  const { chain, cache } = handle;
  const mempool = new Mempool(DEFAULT_MEMPOOL_OPTIONS, {
    chainId: genesis.chainId,
    state: () => chain.state,
    nextBlock: () => chain.nextBlockContext(Math.max(Date.now(), chain.head.header.time + 1)),
    signatureCache: cache,
    clock: Date.now,
  });
  chain.onHead((block) => mempool.onBlock(block));
  // As in the node, every block from the network (gossip or sync) goes through one import; here it is timed
  // for the bench: the rest of the sync is waiting on the network.
  const importBlock = async (bytes: Uint8Array, options?: ImportOptions) => {
    const started = performance.now();
    tally.firstAt ??= started;
    if (options?.signaturesTrusted === true) tally.trusted++;
    if (tally.inFlight++ === 0) tally.busySince = started;
    try {
      return await chain.importBlock(bytes, options);
    } finally {
      if (--tally.inFlight === 0) tally.ms += performance.now() - tally.busySince;
      tally.blocks++;
      tally.bytes += bytes.length;
      tally.after?.();
    }
  };
  let syncer: Syncer | undefined;
  const handlers = createNetworkHandlers({
    chain,
    mempool,
    logger,
    onUnknownParent: (peer, bytes) => void syncer?.onUnknownParent(peer, bytes),
    onPeerStatus: (peer, status) => syncer?.onPeerStatus(peer, status),
    importBlock,
  });
  const network = new Libp2pNetwork(
    { chainId: genesis.chainId, genesisHash: chain.genesisHash, datadir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], maxPeers: 50 },
    { handlers, logger, clock: Date.now },
  );
  syncer = new Syncer(
    {},
    {
      network,
      chain: { status: () => handlers.status(), importBlock, describeBlock, describeHeader },
      logger,
      clock: Date.now,
      ...(assumeValid === undefined ? {} : { assumeValid }),
    },
  );
  return {
    network,
    syncer,
    async start() {
      await network.start();
      await syncer.start();
    },
    async stop() {
      await syncer.stop();
      await network.stop();
    },
  };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const rate = (n: number, ms: number): string => String(Math.round(n / (ms / 1000))).padStart(7);
/** User + system CPU of the whole process (every thread: main, verify workers, LevelDB), in ms. */
const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
const percentMore = (a: number, b: number): string => {
  const p = Math.round((a / b - 1) * 100);
  return p >= 0 ? `${p} % more` : `${-p} % less`;
};

function newTally(): ImportTally {
  return { ms: 0, blocks: 0, bytes: 0, firstAt: undefined, trusted: 0, inFlight: 0, busySince: 0 };
}

interface SyncRun {
  readonly ms: number;
  readonly cpuMs: number;
  readonly connectMs: number;
  readonly firstBlockMs: number;
  readonly waitingMs: number;
  readonly perSecond: number[];
  readonly tally: ImportTally;
}

/** A fresh node (own LevelDB, 2 verify workers) dials the source and syncs to `target`; stopped afterwards. */
async function syncFreshNode(name: string, sourceStack: ReturnType<typeof networkStack>, target: Uint8Array, assumeValid: TrustedCheckpoint | undefined): Promise<SyncRun> {
  const fresh = await openChain(join(dir, name), VERIFY_WORKERS);
  const tally = newTally();
  const freshStack = networkStack(fresh, join(dir, name), tally, assumeValid);
  try {
    await freshStack.start();
    const caughtUp = new Promise<number>((resolve) => {
      const wanted = toHex(target);
      tally.after = () => {
        if (toHex(fresh.chain.head.hash) === wanted) resolve(performance.now());
      };
    });
    const heights: number[] = [];
    const sampler = setInterval(() => heights.push(fresh.chain.head.header.height), 1000);
    const syncStarted = performance.now();
    const cpu0 = process.cpuUsage();
    await freshStack.network.addPeer(sourceStack.network.addresses[0]!);
    const connectedAt = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not catch up within ${SYNC_TIMEOUT_MS / 1000} s (height ${fresh.chain.head.header.height} of ${BLOCKS})`)), SYNC_TIMEOUT_MS);
    });
    const doneAt = await Promise.race([caughtUp, timeout]).finally(() => clearTimeout(timer));
    clearInterval(sampler);
    const ms = doneAt - syncStarted;
    return {
      ms,
      cpuMs: cpuMs(process.cpuUsage(cpu0)),
      connectMs: connectedAt - syncStarted,
      firstBlockMs: (tally.firstAt ?? doneAt) - syncStarted,
      waitingMs: ms - tally.ms,
      // Per-second progress: the slowest second shows whether the pipeline ever ran dry.
      perSecond: heights.slice(1).map((height, i) => height - heights[i]!),
      tally,
    };
  } finally {
    await freshStack.stop();
    await fresh.stop();
  }
}

const load0 = loadavg();
const handles: ChainHandle[] = [];
const stacks: ReturnType<typeof networkStack>[] = [];
try {
  // 1. The source chain (not measured).
  const buildStarted = performance.now();
  const source = await openChain(join(dir, 'source'), 0);
  handles.push(source);
  const sealer = new PosSealer(hospital.secretKey);
  const blocks: Uint8Array[] = [];
  let txCount = 0;
  for (let b = 0; b < BLOCKS; b++) {
    const { chain } = source;
    const time = chain.engine.nextProposalTime(chain.parentInfo(), hospital.publicKey, { now: chain.head.header.time + 1, parentState: chain.state })!;
    const built = chain.buildBlock(hospital.publicKey, time, blockTransactions(time));
    if (built.excluded.length > 0) {
      const { tx, error } = built.excluded[0]!;
      throw new Error(`the workload made a transaction that does not apply (type ${tx.body.type}): ${error.code}: ${error.message}`);
    }
    const block = await chain.commitBuiltBlock(built, await sealer.seal(built.header));
    blocks.push(block!.bytes);
    txCount += block!.transactions.length;
  }
  const totalBytes = blocks.reduce((sum, b) => sum + b.length, 0);
  const buildMs = performance.now() - buildStarted;
  const sourceHead = source.chain.head;

  // 2. Local import of the same block bytes, no network.
  const local = await openChain(join(dir, 'local'), VERIFY_WORKERS);
  handles.push(local);
  const localStarted = performance.now();
  const localCpu0 = process.cpuUsage();
  // Queued 64 at a time, as sync queues a range: the chain checks the next block's signatures while one commits.
  for (let i = 0; i < blocks.length; i += 64) await Promise.all(blocks.slice(i, i + 64).map((bytes) => local.chain.importBlock(bytes)));
  const localMs = performance.now() - localStarted;
  const localCpuMs = cpuMs(process.cpuUsage(localCpu0));
  if (toHex(local.chain.head.hash) !== toHex(sourceHead.hash)) throw new Error('the local import ended on another head than the source');
  // Its in-memory state would otherwise weigh on the garbage collector during the sync.
  handles.pop();
  await local.stop();

  // 3. Sync over libp2p: the source serves, a fresh node dials it and syncs; first with every check, then
  //    with the source's head as the trusted checkpoint.
  const sourceStack = networkStack(source, join(dir, 'source'), newTally());
  stacks.push(sourceStack);
  await sourceStack.start();
  const checkpoint: TrustedCheckpoint = { height: sourceHead.header.height, hash: sourceHead.hash };
  const full = await syncFreshNode('fresh-full', sourceStack, sourceHead.hash, undefined);
  const trusted = await syncFreshNode('fresh-trusted', sourceStack, sourceHead.hash, checkpoint);
  if (trusted.tally.trusted !== BLOCKS) throw new Error(`only ${trusted.tally.trusted} of ${BLOCKS} blocks were imported as below the trusted checkpoint`);
  if (full.tally.trusted !== 0) throw new Error('the fully checked sync trusted some blocks');

  const load1 = loadavg();
  const avgTxs = txCount / BLOCKS;
  const row = (label: string, ms: number, cpu: number): string =>
    `  ${label.padEnd(34)}${(ms / 1000).toFixed(2).padStart(7)} s ${rate(BLOCKS, ms)} ${rate(txCount, ms)}  ${(totalBytes / 1e6 / (ms / 1000)).toFixed(2).padStart(5)}   ${(cpu / 1000).toFixed(1).padStart(5)} s`;
  console.log(`medchain bench: sync of ${BLOCKS} PoS blocks (${txCount} signed EMR transactions, ${avgTxs.toFixed(0)} per block, ${mb(totalBytes)} MB) into LevelDB, signatures on ${VERIFY_WORKERS} worker threads`);
  console.log(`  seed ${SEED}; machine: ${availableParallelism()} cores, node ${process.version}, load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${load1.map((l) => l.toFixed(2)).join(' ')} at end`);
  console.log(`  source chain built in ${(buildMs / 1000).toFixed(1)} s (not measured)`);
  console.log(`                                        time    blocks/s     tx/s   MB/s   CPU (all threads)`);
  console.log(row('local import, no network', localMs, localCpuMs));
  console.log(row('sync, every signature checked', full.ms, full.cpuMs));
  console.log(row('sync, trusted checkpoint at head', trusted.ms, trusted.cpuMs));
  for (const [name, run] of [['every signature checked', full], ['trusted checkpoint', trusted]] as const) {
    console.log(`  ${name}:`);
    console.log(`    connect (dial, Noise, Yamux)   ${run.connectMs.toFixed(0).padStart(6)} ms`);
    console.log(`    first block imported after     ${run.firstBlockMs.toFixed(0).padStart(6)} ms${run === trusted ? `  (after fetching and checking ${BLOCKS} headers)` : ''}`);
    console.log(`    importing (chain.importBlock)  ${(run.tally.ms / 1000).toFixed(2).padStart(6)} s  (${((run.tally.ms / run.ms) * 100).toFixed(0)} %)`);
    console.log(`    waiting on the network         ${(run.waitingMs / 1000).toFixed(2).padStart(6)} s  (${((run.waitingMs / run.ms) * 100).toFixed(0)} %: headers, round trips, serving, pacing, connect)`);
    console.log(`    blocks per second, by second   median ${run.perSecond.length > 0 ? median(run.perSecond) : '-'}, min ${run.perSecond.length > 0 ? Math.min(...run.perSecond) : '-'}, max ${run.perSecond.length > 0 ? Math.max(...run.perSecond) : '-'}`);
    console.log(`    blocks imported as trusted     ${run.tally.trusted} of ${run.tally.blocks}`);
  }
  console.log(`  network overhead: the checked sync took ${percentMore(full.ms, localMs)} time and ${percentMore(full.cpuMs, localCpuMs)} CPU than the local import`);
  console.log(`  trusted checkpoint: ${(full.ms / trusted.ms).toFixed(2)}x the checked sync's speed, ${percentMore(trusted.cpuMs, full.cpuMs)} CPU`);
  console.log(`    (the source's serving runs in this process, so its CPU is counted too; on a machine shared with other work, wall times vary between runs more than CPU does)`);
  const summary = (run: SyncRun) => ({
    ms: run.ms,
    cpuMs: run.cpuMs,
    blocksPerSec: BLOCKS / (run.ms / 1000),
    txPerSec: txCount / (run.ms / 1000),
    connectMs: run.connectMs,
    firstBlockMs: run.firstBlockMs,
    importMs: run.tally.ms,
    waitingMs: run.waitingMs,
    importedBlocks: run.tally.blocks,
    trustedBlocks: run.tally.trusted,
    importedBytes: run.tally.bytes,
  });
  const report = {
    seed: SEED,
    blocks: BLOCKS,
    minTxs: MIN_TXS,
    maxTxs: MAX_TXS,
    txs: txCount,
    bytes: totalBytes,
    verifyWorkers: VERIFY_WORKERS,
    cores: availableParallelism(),
    node: process.version,
    loadavgStart: load0,
    loadavgEnd: load1,
    local: { ms: localMs, cpuMs: localCpuMs, blocksPerSec: BLOCKS / (localMs / 1000), txPerSec: txCount / (localMs / 1000) },
    sync: summary(full),
    syncTrustedCheckpoint: summary(trusted),
  };
  mkdirSync(values.out, { recursive: true });
  const jsonPath = join(values.out, 'sync.json');
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`  written: ${jsonPath}`);
} finally {
  for (const stack of stacks.reverse()) await stack.stop();
  for (const handle of handles.reverse()) await handle.stop();
  await rm(dir, { recursive: true, force: true });
}
