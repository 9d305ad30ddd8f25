/**
 * Issue 7 §2, the consensus lab's process mode: its flags, the figures it computes from what it recorded, a
 * workload that the production state transition accepts in any interleaving the network may choose, and one
 * short run on real `medchain start` processes whose transactions go through the nodes' own tx_submit.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Chain } from '../../../src/chain/chain.ts';
import { PosSealer } from '../../../src/chain/sealer.ts';
import { InlineSignatureVerifier } from '../../../src/chain/signatureVerifier.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { createEngine } from '../../../src/consensus/index.ts';
import { proposerForSlot } from '../../../src/consensus/pos/posEngine.ts';
import { keyPairFromSeed } from '../../../src/crypto/ed25519.ts';
import { parseGenesis } from '../../../src/state/genesis.ts';
import { createMemoryChainStore } from '../../../src/store/index.ts';
import type { Transaction } from '../../../src/types/transaction.ts';
import {
  blockIntervals,
  fairness,
  latencies,
  missedSlots,
  parseProcSample,
  percentile,
  propagation,
  reorgDepths,
  resources,
  staleRate,
  throughput,
  type LabBlock,
  type LabRecording,
} from '../../../bench/lab/processAnalysis.ts';
import { parseProcessLabArgs, runProcessLab, simulatorCheck } from '../../../bench/lab/processLab.ts';
import { labGenesis, readNodeLog } from '../../../bench/lab/processNetwork.ts';
import { generateLabWorkload, seededBytes } from '../../../bench/lab/processWorkload.ts';
import { mulberry32 } from '../../helpers/process.ts';

const OUT = '/tmp/medchain-lab-test-out';

describe('bench:consensus flags', () => {
  it('has defaults that finish in minutes on 2 cores', () => {
    const o = parseProcessLabArgs([], OUT);
    expect(o).toMatchObject({ engines: ['pos', 'pow'], nodes: 4, durationS: 60, load: 50, saturationLoad: 1500, saturationS: 15, delaysMs: [0], seed: 7, confirmations: 6, uploads: 'submitter', help: false });
    expect(parseProcessLabArgs(['--delay-ms', '0,50,200', '--engines', 'pow'], OUT)).toMatchObject({ delaysMs: [0, 50, 200], engines: ['pow'] });
  });

  it('refuses bad values with an error naming the flag', () => {
    const bad: [string[], RegExp][] = [
      [['--nodes', '1'], /--nodes must be an integer from 2 to 16, got "1"/],
      [['--duration', 'abc'], /--duration must be an integer/],
      [['--load', '0'], /--load must be an integer from 1/],
      [['--engines', 'pos,raft'], /--engines takes pos and\/or pow, got "raft"/],
      [['--engines', 'pos,pos'], /--engines names an item twice/],
      [['--delay-ms', '0,,50'], /--delay-ms has an empty item/],
      [['--delay-ms', '20000'], /--delay-ms must be an integer from 0 to 10000/],
      [['--load', '100', '--saturation-load', '80'], /--saturation-load must be above --load \(100 tx\/s\)/],
      [['--uploads', 'some'], /--uploads takes all, submitter, none, got "some"/],
      [['--confirmations', '0'], /--confirmations must be an integer from 1 to 100/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of bad) expect(() => parseProcessLabArgs(args, OUT), args.join(' ')).toThrow(message);
    expect(parseProcessLabArgs(['--saturation-load', '0'], OUT).saturationLoad).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Figures from a hand-made recording: two nodes, heights 0-5 in slots 0-6 (slot 4 missed), a stale block at 3.
// ---------------------------------------------------------------------------------------------------------

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
/** A block hash whose first 16 hex digits (what the nodes log) tell the blocks apart. */
const h = (n: number, fork = '0'): string => (fork + n.toString(16).padStart(2, '0')).padEnd(64, 'c');
const block = (height: number, time: number, seen: (number | null)[], txs: string[], proposer = A, hash = h(height)): LabBlock => ({
  hash,
  height,
  parent: h(height - 1),
  proposer,
  time,
  seen,
  txs,
});
const window = { start: 1000, end: 7000 };
const recording = (engine: 'pos' | 'pow'): LabRecording => ({
  engine,
  proposers: [A, B],
  stakes: [1000, 1000],
  genesisTime: 0,
  slotMs: engine === 'pos' ? 1000 : null,
  confirmations: 2,
  blocks: [
    block(0, 0, [null, null], []),
    block(1, 1000, [1010, 1030], ['t1', 'vote']),
    block(2, 2000, [2050, 2010], ['t2'], B),
    // Height 3: a stale block on node 1 (carries t3 too), then the canonical one.
    block(3, 3000, [3005, null], ['t3'], A, h(3, 'f')),
    block(3, 3000, [3200, 3020], ['t3'], B),
    block(4, 5000, [5040, 5010], ['t4'], B),
    block(5, 6000, [6010, 6030], [], A),
  ],
  canonical: [0, 1, 2, 3, 4, 5].map((height) => h(height)),
  submissions: [
    { id: 't1', node: 0, kind: 'read', phase: 'main', at: 900, rttMs: 3, refused: null },
    { id: 't2', node: 1, kind: 'create', phase: 'main', at: 1500, rttMs: 4, refused: null },
    { id: 't3', node: 1, kind: 'grant', phase: 'main', at: 2500, rttMs: 5, refused: null },
    { id: 'gone', node: 0, kind: 'read', phase: 'main', at: 2600, rttMs: 5, refused: null },
    { id: 'no', node: 0, kind: 'read', phase: 'main', at: 2700, rttMs: 5, refused: 'NONCE_TOO_FAR_AHEAD' },
    { id: 'sat', node: 0, kind: 'read', phase: 'saturation', at: 6500, rttMs: 5, refused: null },
  ],
  produced: [
    { node: 0, height: 1, hashPrefix: h(1).slice(0, 16), at: 1001, txs: 2 },
    { node: 1, height: 2, hashPrefix: h(2).slice(0, 16), at: 2001, txs: 1 },
    { node: 0, height: 3, hashPrefix: h(3, 'f').slice(0, 16), at: 3001, txs: 1 },
    { node: 1, height: 3, hashPrefix: h(3).slice(0, 16), at: 3002, txs: 1 },
    { node: 1, height: 9, hashPrefix: h(9).slice(0, 16), at: 6900, txs: 0 },
    { node: 1, height: 2, hashPrefix: h(2).slice(0, 16), at: 500, txs: 0 },
  ],
  reorgs: [
    { node: 0, at: 3200, depth: 1 },
    { node: 1, at: 4000, depth: 2 },
    { node: 1, at: 9000, depth: 5 },
  ],
  finality: [
    { node: 0, at: 4000, height: 1 },
    { node: 1, at: 4100, height: 1 },
    { node: 0, at: 6100, height: 3 },
    { node: 1, at: 6200, height: 3 },
  ],
});

describe('consensus lab figures', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect([percentile(xs, 50), percentile(xs, 90), percentile(xs, 99), percentile(xs, 100), percentile([], 50)]).toEqual([5, 9, 10, 10, null]);
    expect(() => percentile(xs, 120)).toThrow(/within 0..100/);
  });

  it('times inclusion and finality as the node the transaction was sent to saw them', () => {
    const pos = latencies(recording('pos'), 'main');
    // t1: sent to node 1 at 900, its block announced there at 1010; t2 via node 2: 2010 - 1500; t3 via node 2:
    // the canonical block at 3020 (node 1's stale block does not count).
    expect(pos.includedSamples).toEqual([110, 510, 520]);
    expect(pos).toMatchObject({ submitted: 5, accepted: 4, refused: { NONCE_TOO_FAR_AHEAD: 1 }, notIncluded: 1, notFinal: 0 });
    // PoS: the first finalized notification at or above the block's height, on that node.
    expect(pos.finalSamples).toEqual([4000 - 900, 6200 - 1500, 6200 - 2500]);
    // PoW with 2 confirmations: t1 (height 1) is final when node 1 sees height 3 canonical (3200); t2 (height 2)
    // when node 2 sees height 4 (5010); t3 (height 3) when node 2 sees height 5 (6030).
    const pow = latencies(recording('pow'), 'main');
    expect(pow.finalSamples).toEqual([3200 - 900, 5010 - 1500, 6030 - 2500]);
  });

  it('counts stale blocks against the settled canonical chain, within the window', () => {
    expect(staleRate(recording('pow'), window)).toEqual({ produced: 4, stale: 1, rate: 0.25, staleSeenAsHead: 1, unsettled: 1 });
  });

  it('spaces canonical blocks by their producers\' log times, the last log of a block counting', () => {
    // Canonical 1 at 1001, 2 at 2001 (also logged at 500), 3 at 3002 (the stale 3 at 3001 is not canonical);
    // 4 and 5 were never logged as produced, so they give no interval.
    const figures = blockIntervals(recording('pow'), window);
    expect(figures.ms).toMatchObject({ n: 2, p50: 1000, max: 1001, mean: 1000.5 });
    expect(figures.cv).toBeCloseTo(0.5 / 1000.5, 10);
    // An interval counts in the window where it ends.
    expect(blockIntervals(recording('pow'), { start: 2500, end: 7000 }).ms.n).toBe(1);
    expect(blockIntervals(recording('pow'), { start: 0, end: 1500 })).toEqual({ ms: expect.objectContaining({ n: 0, p50: null }), cv: null });
  });

  it('histograms reorg depths in the window', () => {
    expect(reorgDepths(recording('pow'), window)).toEqual({ count: 2, depths: { '1': 1, '2': 1 }, maxDepth: 2, perNode: [1, 1] });
  });

  it('measures propagation from the first node to announce a canonical block', () => {
    const p = propagation(recording('pos'), window);
    expect(p.toEachSamples).toEqual([20, 40, 180, 30, 20]);
    expect(p.toLastMs.max).toBe(180);
    expect(p.blocks).toBe(5);
  });

  it('compares canonical blocks per proposer with the expected share', () => {
    const f = fairness(recording('pos'), window, [0.5, 0.5]);
    expect(f.blocks).toEqual([2, 3]);
    expect(f.ratio).toEqual([0.8, 1.2]);
    expect(f.jain).toBeCloseTo(4 / (2 * (0.64 + 1.44)), 10);
    expect(f.maxDeviation).toBeCloseTo(0.1, 10);
    expect(fairness(recording('pos'), window, [0.4, 0.6]).jain).toBeCloseTo(1, 10);
  });

  it('charges a slot without a canonical block to its drawn proposer', () => {
    const rec = recording('pos');
    const m = missedSlots(rec, window)!;
    // Slots 1-6; slot 4 has no block.
    expect(m).toMatchObject({ slots: 6, filled: 5, missed: 1 });
    const validators = [A, B].map((id) => ({ id: new Uint8Array(Buffer.from(id, 'hex')), stake: 1000n }));
    const missedBy = toHex(proposerForSlot(validators, 4)!) === A ? [1, 0] : [0, 1];
    expect(m.missedBy).toEqual(missedBy);
    expect(m.drawn.reduce((a, b) => a + b, 0)).toBe(6);
    expect(missedSlots(recording('pow'), window)).toBeNull();
  });

  it('counts only the workload transactions of canonical blocks in the window as throughput', () => {
    // t1, t2, t3 (t4 was never submitted, 'vote' is not the workload's); 6 s window.
    expect(throughput(recording('pos'), window)).toMatchObject({ includedTxs: 3, blocks: 5, includedTxPerSec: 0.5, offeredTxPerSec: 5 / 6 });
  });

  it('reads CPU time and memory from /proc, a command name with spaces included', () => {
    const stat = '4242 (node main (x)) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 50 0 0 20 0 11 0 100 1000000 5000';
    const status = 'Name:\tnode\nVmHWM:\t  409600 kB\nVmRSS:\t  204800 kB\n';
    const a = parseProcSample(stat, status, 0);
    expect(a).toEqual({ at: 0, cpuTicks: 300, rssKiB: 204800, hwmKiB: 409600 });
    const b = { ...a, at: 2000, cpuTicks: 400 };
    expect(resources(a, b, 100)).toEqual({ cpuPercent: 50, rssMiB: 200, peakRssMiB: 400 });
    expect(() => parseProcSample('garbage', status, 0)).toThrow(/unreadable/);
  });

  it("reads produced blocks, reorgs, drops and bans from a node's JSON log", () => {
    const lines = [
      '{"level":30,"time":"2026-01-01T00:00:01.000Z","height":7,"txs":3,"hash":"0123456789abcdef","msg":"produced block"}',
      '{"level":40,"time":"2026-01-01T00:00:02.000Z","reverted":2,"applied":3,"msg":"chain reorganised"}',
      '{"level":30,"time":"2026-01-01T00:00:03.000Z","reason":"NONCE_TOO_LOW","msg":"dropped a pending transaction: nonce 3 was already used"}',
      '{"level":40,"time":"2026-01-01T00:00:04.000Z","reason":"blob requests over 10/s","msg":"peer banned for 10 min: disconnected and refused both ways"}',
      'not json',
    ];
    const facts = readNodeLog(lines, 2);
    expect(facts.produced).toEqual([{ node: 2, height: 7, hashPrefix: '0123456789abcdef', at: Date.parse('2026-01-01T00:00:01.000Z'), txs: 3 }]);
    expect(facts.reorgs).toEqual([{ at: Date.parse('2026-01-01T00:00:02.000Z'), reverted: 2 }]);
    expect(facts.dropped).toEqual({ NONCE_TOO_LOW: 1 });
    expect(facts.warnings).toEqual({ 'peer banned for 10 min: disconnected and refused both ways (blob requests over 10/s)': 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------------------------

describe('the lab workload', () => {
  it('signs the same transactions for the same seed, and others for another seed', () => {
    const a = generateLabWorkload({ seed: 11, validators: 3, measuredTxs: 300 });
    const b = generateLabWorkload({ seed: 11, validators: 3, measuredTxs: 300 });
    const c = generateLabWorkload({ seed: 12, validators: 3, measuredTxs: 300 });
    const hexes = (w: typeof a): string[] => [...w.setup.flat(), ...w.measured].map((t) => t.hex);
    expect(hexes(a)).toEqual(hexes(b));
    expect(hexes(c)[0]).not.toEqual(hexes(a)[0]);
    expect(a.measured).toHaveLength(300);
    for (const kind of ['read', 'doctorVersion', 'ownerVersion', 'grant', 'revoke', 'create', 'register', 'attest']) expect(a.mixCounts[kind], kind).toBeGreaterThan(0);
    expect(seededBytes(1)(9)).toEqual(seededBytes(1)(9));
  });

  it('is valid on the production state transition in any order the network may choose', async () => {
    const w = generateLabWorkload({ seed: 5, validators: 3, measuredTxs: 600 });
    // Only the first hospital has stake here, so one key seals every block; the others still attest.
    const spec = labGenesis(w, { engine: 'pos', slotMs: 1000 }, 1_700_000_000_000) as { hospitals: { stake: number }[] };
    spec.hospitals.forEach((hospital, i) => (hospital.stake = i === 0 ? 1000 : 0));
    const genesis = parseGenesis(spec);
    const store = createMemoryChainStore();
    await store.start();
    let now = genesis.time;
    const chain = new Chain({ genesis }, { store, engine: createEngine(genesis), verifier: new InlineSignatureVerifier(), logger: pino({ level: 'silent' }), clock: () => now });
    await chain.start();
    const proposer = w.hospitals[0]!;
    const sealer = new PosSealer(proposer.secretKey);
    const produce = async (txs: readonly Transaction[]): Promise<void> => {
      const time = chain.engine.nextProposalTime(chain.parentInfo(), proposer.publicKey, { now: chain.head.header.time + 1, parentState: chain.state })!;
      now = time;
      const built = chain.buildBlock(proposer.publicKey, time, txs);
      const excluded = built.excluded.map(({ tx, error }) => `type ${tx.body.type}: ${error.code}`);
      expect(excluded).toEqual([]);
      expect(await chain.commitBuiltBlock(built, await sealer.seal(built.header))).not.toBeNull();
    };
    for (const wave of w.setup) await produce(wave.map((t) => t.tx));
    // Measured transactions depend only on the setup and their sender's nonces: interleave the senders at
    // random (each sender's own order kept) and cut blocks anywhere.
    const bySender = new Map<string, Transaction[]>();
    for (const t of w.measured) {
      const key = toHex(t.tx.sender);
      bySender.set(key, [...(bySender.get(key) ?? []), t.tx]);
    }
    const random = mulberry32(99);
    const queues = [...bySender.values()];
    const order: Transaction[] = [];
    while (queues.some((q) => q.length > 0)) {
      const open = queues.filter((q) => q.length > 0);
      order.push(open[Math.floor(random() * open.length)]!.shift()!);
    }
    for (let i = 0; i < order.length; ) {
      const size = 1 + Math.floor(random() * 150);
      await produce(order.slice(i, i + size));
      i += size;
    }
    await chain.stop();
    await store.stop();
  }, 60_000);

  it('keeps setup waves within the mempool per-sender limit and small enough for the uploads', () => {
    const w = generateLabWorkload({ seed: 7, validators: 4, measuredTxs: 9000 });
    for (const wave of w.setup) {
      const perSender = new Map<string, number>();
      for (const t of wave) perSender.set(toHex(t.tx.sender), (perSender.get(toHex(t.tx.sender)) ?? 0) + 1);
      expect(Math.max(...perSender.values())).toBeLessThanOrEqual(48);
      if (wave.some((t) => t.blob !== undefined)) expect(wave.length).toBeLessThanOrEqual(80);
    }
    // Every hospital key the nodes run with is derived from the seed.
    expect(w.hospitals.map((k) => toHex(k.publicKey))).toEqual(generateLabWorkload({ seed: 7, validators: 4, measuredTxs: 10 }).hospitals.map((k) => toHex(k.publicKey)));
    expect(toHex(keyPairFromSeed(w.hospitals[0]!.seed).publicKey)).toBe(toHex(w.hospitals[0]!.publicKey));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real processes
// ---------------------------------------------------------------------------------------------------------

describe('the lab runs on the production node', () => {
  it('submits through the nodes\' tx_submit and measures what two `medchain start` processes include', async () => {
    const options = { ...parseProcessLabArgs(['--nodes', '2', '--engines', 'pos', '--duration', '5', '--load', '20', '--saturation-load', '0', '--slot-ms', '500'], OUT) };
    const result = await runProcessLab(options, () => {});
    const run = result.runs[0]!;
    // Every transaction was accepted by a real node's tx_submit, and every one reached the settled chain.
    expect(run.main.latency).toMatchObject({ submitted: 100, accepted: 100, refused: {}, notIncluded: 0, notFinal: 0 });
    expect(run.main.latency.includedMs.p50).toBeGreaterThan(0);
    expect(run.main.latency.finalMs.p50!).toBeGreaterThan(run.main.latency.includedMs.p50!);
    // The blocks came from the two processes' own producers (their 'produced block' log lines) and were signed
    // by the lab's validator keys.
    expect(run.main.stale.produced).toBeGreaterThan(3);
    expect(run.main.fairness.blocks.reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    // PoS blocks a slot apart, by the producers' own log times.
    expect(Math.abs(run.main.blockIntervals.ms.p50! - 500)).toBeLessThan(100);
    expect(run.resources.every((r) => r.main !== null && r.main.rssMiB > 50)).toBe(true);
    // The blobs went through record_upload / record_uploadEnvelopes checks (commitment, size, signature).
    expect(run.uploads.stored).toBeGreaterThan(0);
    expect(run.uploads.refused).toEqual({});
    expect(run.bans).toBe(0);
    // The simulator ran on the same settings, its delay the propagation this run measured.
    expect(run.simulated.config).toMatchObject({ engine: 'pos', nodes: 2, slotMs: 500, loadTps: 20, delayMs: run.main.propagation.toEachMs.p50 });
    expect(run.simulated.finalMs.p50).toBeGreaterThan(run.simulated.includedMs.p50);
  }, 60_000);
});

describe('the simulator check beside a process run', () => {
  const options = parseProcessLabArgs(['--nodes', '4', '--load', '50', '--slot-ms', '1000', '--pow-target-ms', '500', '--confirmations', '6'], OUT);

  it('gives PoS finality a slot after the next block, as 4 real nodes measured (2,518 ms p50 on 2026-11-25)', () => {
    const check = simulatorCheck(options, 'pos', 4, 1);
    expect(check.config).toMatchObject({ engine: 'pos', nodes: 4, delayMs: 1, slotMs: 1000, loadTps: 50, seed: options.seed });
    expect(Math.abs(check.includedMs.p50 - 500)).toBeLessThan(50);
    expect(Math.abs(check.finalMs.p50 - 2500)).toBeLessThan(50);
    expect(check.staleRate).toBe(0);
  });

  it('gives PoW finality k confirmations after inclusion, and no delay when propagation was not measured', () => {
    const check = simulatorCheck(options, 'pow', 4, null);
    expect(check.config).toMatchObject({ engine: 'pow', delayMs: 0, intervalMs: 500, confirmations: 6 });
    // Six more blocks at a 500 ms target: about 3 s after inclusion at the median.
    expect(check.finalMs.p50 - check.includedMs.p50).toBeGreaterThan(2000);
    expect(check.finalMs.p50 - check.includedMs.p50).toBeLessThan(4000);
    // The simulator's difficulty is fixed: exponential intervals, median 500 ln 2, cv about 1.
    expect(Math.abs(check.intervalMs.p50 - 500 * Math.LN2)).toBeLessThan(40);
    expect(Math.abs(check.intervalCv! - 1)).toBeLessThan(0.1);
  });
});
