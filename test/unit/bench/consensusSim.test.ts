import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIM_CONFIG,
  LatencyHistogram,
  mulberry32,
  retargetDifficulty,
  runStaleSweep,
  simulate,
  theoreticalStaleRate,
  type SimConfig,
} from '../../../bench/lab/sim.ts';
import { parseSimArgs } from '../../../bench/lab/simBench.ts';
import { encodePowSeal, nextDifficulty } from '../../../src/consensus/pow/powEngine.ts';
import type { BlockHeader } from '../../../src/types/block.ts';

const base: SimConfig = { ...DEFAULT_SIM_CONFIG, nodes: 50, blocks: 2000, loadTps: 100 };

describe('consensus lab simulation: determinism', () => {
  // Jitter, gossip over a graph, transactions and PoS votes: every random stream is exercised.
  const busy: SimConfig = { ...base, nodes: 40, blocks: 800, jitterMs: 40, degree: 6, validationMs: 5, seed: 11 };

  it('gives the same result, bit for bit, for the same seed and config', () => {
    for (const engine of ['pow', 'pos'] as const) {
      const a = JSON.stringify(simulate({ ...busy, engine }));
      const b = JSON.stringify(simulate({ ...busy, engine }));
      expect(a).toBe(b);
    }
  });

  it('gives a different result for a different seed', () => {
    for (const engine of ['pow', 'pos'] as const) {
      const a = simulate({ ...busy, engine });
      const b = simulate({ ...busy, engine, seed: 12 });
      expect(JSON.stringify(b)).not.toBe(JSON.stringify(a));
      expect(b.fairness.blocksByNode).not.toEqual(a.fairness.blocksByNode);
      expect(b.txs.inclusion.meanMs).not.toBe(a.txs.inclusion.meanMs);
      // The network's jitter stream follows the seed too.
      expect(b.propagation.meanMs).not.toBe(a.propagation.meanMs);
    }
  });
});

describe('consensus lab simulation: PoW stale rate', () => {
  it('lands within 10 % of 1 − e^(−d/T) at d/T = 0.05 and 0.2 (full mesh, fixed delay, 100 nodes)', () => {
    // ~1,500 expected forks per point: one standard deviation is ~2.6 % relative, so 10 % is ~3.8 sigma
    // beyond the ~1 % the finder's own share (1/N) takes off.
    const points = runStaleSweep({ ...DEFAULT_SIM_CONFIG, nodes: 100, seed: 3 }, { ratios: [0.05, 0.2], minBlocks: 8000, targetForks: 1500, tolerance: 0.1 });
    for (const p of points) {
      expect(p.theory).toBeCloseTo(theoreticalStaleRate(p.delayOverInterval), 12);
      expect(p.samplingError).toBeLessThan(0.03);
      expect(Math.abs(p.relativeError)).toBeLessThan(0.1);
      expect(p.pass).toBe(true);
      expect(p.reorgs).toBeGreaterThan(0);
    }
    // Orphans / all blocks is the other count: (d/T)/(1 + d/T) in the same model, visibly under the formula at 0.2.
    const at02 = points[1]!;
    expect(Math.abs(at02.orphanRate - 0.2 / 1.2) / (0.2 / 1.2)).toBeLessThan(0.1);
    expect(at02.orphanRelativeError).toBeLessThan(-0.05);
  });

  it('spaces canonical blocks exponentially at a fixed difficulty: median T ln 2, cv 1', () => {
    const r = simulate({ ...base, engine: 'pow', nodes: 10, intervalMs: 1000, delayMs: 0, blocks: 20_000, loadTps: 0 });
    expect(r.blockIntervals.ms.count).toBeGreaterThan(19_000);
    expect(Math.abs(r.blockIntervals.ms.meanMs - 1000)).toBeLessThan(30);
    expect(Math.abs(r.blockIntervals.ms.p50Ms - 1000 * Math.LN2)).toBeLessThan(30);
    // p99 of an exponential: T ln 100.
    expect(Math.abs(r.blockIntervals.ms.p99Ms - 1000 * Math.log(100)) / (1000 * Math.log(100))).toBeLessThan(0.08);
    expect(Math.abs(r.blockIntervals.cv! - 1)).toBeLessThan(0.05);
  });

  it('retargets as production does when asked: nextDifficulty over the same solve times', () => {
    const params = { engine: 'pow' as const, targetBlockMs: 500, initialDifficulty: 10 ** 12, minDifficulty: 1, retargetWindow: 8 };
    for (const solve of [0, 1, 250, 500, 499, 2000, 3000, 3001, 60_000, -40]) {
      const d = 10n ** 15n;
      const parent = { header: { time: 10_000 + solve, seal: encodePowSeal({ difficulty: d, nonce: 0n }) } as BlockHeader, hash: new Uint8Array(32), score: 0n, grandparentTime: 10_000 };
      const production = Number(nextDifficulty(params, parent)) / Number(d);
      expect(retargetDifficulty(1, solve, 500, 8), `solve ${solve}`).toBeCloseTo(production, 12);
    }
  });

  it('with a per-block retarget, spaces blocks a little below the target and more widely than a fixed difficulty', () => {
    const config: SimConfig = { ...base, engine: 'pow', nodes: 10, intervalMs: 1000, delayMs: 0, blocks: 20_000, loadTps: 0 };
    const fixed = simulate(config);
    const retargeted = simulate({ ...config, retargetWindow: 8 });
    expect(JSON.stringify(simulate({ ...config, retargetWindow: 8 }))).toBe(JSON.stringify(retargeted));
    // An EMA over 8 blocks: a fast block raises the next difficulty, a slow one lowers it; the mean interval
    // settles about 7 % under the target and the spread of single intervals grows (cv 1.07 against 1).
    expect(retargeted.blockIntervals.ms.meanMs).toBeGreaterThan(900);
    expect(retargeted.blockIntervals.ms.meanMs).toBeLessThan(960);
    expect(retargeted.blockIntervals.cv!).toBeGreaterThan(fixed.blockIntervals.cv! + 0.03);
  });

  it('sweeps the stale rate at a fixed difficulty whatever the run retargets', () => {
    const sweep = { ratios: [0.1], minBlocks: 2000, targetForks: 50, tolerance: 0.1 };
    expect(runStaleSweep({ ...base, retargetWindow: 8 }, sweep)).toEqual(runStaleSweep(base, sweep));
  });

  it('has no stale blocks and no reorgs with zero delay, on a full mesh and on a graph', () => {
    for (const degree of [0, 4]) {
      const r = simulate({ ...base, delayMs: 0, degree, engine: 'pow' });
      expect(r.blocks.produced).toBe(2000);
      expect(r.staleRate).toBe(0);
      expect(r.forkRate).toBe(0);
      expect(r.blocks.orphaned).toBe(0);
      expect(r.reorgs.count).toBe(0);
      expect(r.propagation.maxMs).toBe(0);
    }
    // …and a delay makes them appear, so the zeros above are not a counter that never moves.
    const delayed = simulate({ ...base, delayMs: 400, engine: 'pow' });
    expect(delayed.staleRate).toBeGreaterThan(0.05);
    expect(delayed.reorgs.count).toBeGreaterThan(0);
    expect(delayed.reorgs.maxDepth).toBeGreaterThanOrEqual(1);
  });
});

describe('consensus lab simulation: PoS slots', () => {
  it('has no forks, reorgs or missed slots when the delay is under the slot and nobody is offline', () => {
    const r = simulate({ ...base, engine: 'pos', delayMs: 1900, slotMs: 2000 });
    expect(r.slots).toEqual({ total: 2000, missed: 0, missedRate: 0 });
    expect(r.blocks.produced).toBe(2000);
    expect(r.staleRate).toBe(0);
    expect(r.forkRate).toBe(0);
    expect(r.reorgs.count).toBe(0);
    // Finality, as in production: the child (slot +1) reaches the voters a delay later; their votes reach the
    // proposers a delay after that (5,800 ms), too late for slot +2, so the block of slot +3 carries them and
    // reaches the observer a delay later: 3 slots + 1 delay. When the observer proposes that block itself, it
    // has it at once (one block in 50).
    expect(r.finality!.lag.maxMs).toBe(3 * 2000 + 1900);
    expect(Math.abs(r.finality!.lag.p50Ms - (3 * 2000 + 1900))).toBeLessThan(2);
    expect(r.finality!.lag.meanMs).toBeGreaterThan(3 * 2000 + 1900 - 1900 / 10);
    // Every canonical block is a slot after its parent.
    expect(r.blockIntervals.ms).toMatchObject({ p50Ms: 2000, p99Ms: 2000, maxMs: 2000 });
    expect(r.blockIntervals.cv).toBe(0);
  });

  it('forks when the previous slot’s block arrives after the next slot starts', () => {
    const r = simulate({ ...base, engine: 'pos', delayMs: 2100, slotMs: 2000 });
    expect(r.forkRate).toBeGreaterThan(0.5);
    expect(r.reorgs.count).toBeGreaterThan(0);
  });

  it('misses about a share p of slots when proposers are offline with probability p', () => {
    const r = simulate({ ...base, engine: 'pos', offline: 0.2, blocks: 5000, loadTps: 0 });
    // One standard deviation is sqrt(0.2 · 0.8 / 5000) = 0.0057.
    expect(Math.abs(r.slots!.missedRate - 0.2)).toBeLessThan(0.03);
    expect(r.slots!.missed + r.blocks.produced).toBe(5000);
    expect(r.forkRate).toBe(0);
  });
});

describe('consensus lab simulation: fairness, throughput, latency', () => {
  it('gives nodes with equal shares near-equal numbers of canonical blocks', () => {
    for (const engine of ['pow', 'pos'] as const) {
      const r = simulate({ ...base, engine, nodes: 20, blocks: 20_000, loadTps: 0 });
      // ~1,000 blocks per node: one standard deviation of a share is ~0.0015.
      expect(r.fairness.maxAbsShareDiff).toBeLessThan(0.01);
      expect(r.fairness.pValue).toBeGreaterThan(0.001);
      expect(r.fairness.expectedGini).toBe(0);
      expect(r.fairness.gini).toBeLessThan(0.05);
    }
  });

  it('follows skewed (zipf) shares', () => {
    for (const engine of ['pow', 'pos'] as const) {
      const r = simulate({ ...base, engine, nodes: 20, shares: 'zipf', blocks: 20_000, loadTps: 0 });
      const share0 = r.fairness.blocksByNode[0]! / r.fairness.blocks;
      expect(r.fairness.expectedShares[0]).toBeCloseTo(1 / 3.5977, 3);
      expect(Math.abs(share0 - r.fairness.expectedShares[0]!)).toBeLessThan(0.02);
      expect(r.fairness.expectedGini).toBeGreaterThan(0.3);
    }
  });

  it('carries the offered load below capacity and about the capacity at saturation', () => {
    for (const engine of ['pow', 'pos'] as const) {
      const below = simulate({ ...base, engine, loadTps: 200 });
      expect(below.txs.notIncluded).toBe(0);
      expect(Math.abs(below.txs.throughputTps - 200) / 200).toBeLessThan(0.03);
      const saturated = simulate({ ...base, engine, blocks: 400, loadTps: 750 });
      expect(saturated.txs.capacityTps).toBe(500);
      expect(saturated.txs.notIncluded).toBeGreaterThan(0);
      // PoS loses nothing to forks here; PoW loses its stale blocks (5 % at d/T = 0.05).
      expect(saturated.txs.throughputTps).toBeLessThanOrEqual(500);
      expect(saturated.txs.throughputTps).toBeGreaterThan(engine === 'pos' ? 499 : 450);
    }
  });

  it('orders latency percentiles p50 ≤ p95 ≤ p99 ≤ max and finality after inclusion', () => {
    for (const engine of ['pow', 'pos'] as const) {
      const r = simulate({ ...base, engine, jitterMs: 30 });
      for (const s of [r.txs.inclusion, r.txs.finality, r.propagation]) {
        expect(s.count).toBeGreaterThan(0);
        expect(s.p50Ms).toBeLessThanOrEqual(s.p90Ms);
        expect(s.p90Ms).toBeLessThanOrEqual(s.p95Ms);
        expect(s.p95Ms).toBeLessThanOrEqual(s.p99Ms);
        expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
      }
      expect(r.txs.finality.p50Ms).toBeGreaterThan(r.txs.inclusion.p50Ms);
      expect(r.propagation.p50Ms).toBeGreaterThanOrEqual(100);
    }
  });

  it('computes quantiles within 0.1 % of the exact nearest rank', () => {
    const random = mulberry32(5);
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = Math.floor(random() ** 3 * 3e9);
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]! / 1000;
      expect(Math.abs(h.quantileMs(q) - exact)).toBeLessThanOrEqual(Math.max(0.001, exact * 0.001));
    }
  });
});

describe('parseSimArgs', () => {
  it('has defaults that run both engines and the sweep', () => {
    const o = parseSimArgs([], '/tmp/out');
    expect(o.engines).toEqual(['pow', 'pos']);
    expect(o.nodes).toBe(100);
    expect(o.sweepRatios).toEqual([0.01, 0.02, 0.05, 0.1, 0.2]);
    expect(o.outDir).toBe('/tmp/out');
    expect(o.help).toBe(false);
  });

  it('reads the flags', () => {
    const o = parseSimArgs(['--sim', '--seed', '9', '--nodes', '1000', '--engine', 'pos', '--shares', 'zipf:1.5', '--jitter', '20', '--jitter-dist', 'uniform', '--degree', '8', '--duration', '600', '--offline', '0.1', '--sweep', 'off', '--retarget-window', '8'], '/tmp');
    expect(o).toMatchObject({ retargetWindow: 8, seed: 9, nodes: 1000, engines: ['pos'], shares: 'zipf', zipfExponent: 1.5, jitterMs: 20, jitterDistribution: 'uniform', degree: 8, durationMs: 600_000, offline: 0.1, sweepRatios: [] });
  });

  it('refuses bad input, naming the flag', () => {
    expect(() => parseSimArgs(['--nodes', '0'], '/tmp')).toThrow(/--nodes/);
    expect(() => parseSimArgs(['--nodes', 'ten'], '/tmp')).toThrow(/--nodes/);
    expect(() => parseSimArgs(['--engine', 'pow,raft'], '/tmp')).toThrow(/--engine.*raft/);
    expect(() => parseSimArgs(['--shares', 'skewed'], '/tmp')).toThrow(/--shares/);
    expect(() => parseSimArgs(['--degree', '1'], '/tmp')).toThrow(/--degree/);
    expect(() => parseSimArgs(['--nodes', '10', '--degree', '10'], '/tmp')).toThrow(/--degree/);
    expect(() => parseSimArgs(['--offline', '1'], '/tmp')).toThrow(/--offline/);
    expect(() => parseSimArgs(['--retarget-window', '-1'], '/tmp')).toThrow(/--retarget-window/);
    expect(() => parseSimArgs(['--retarget-window', '1.5'], '/tmp')).toThrow(/--retarget-window/);
    expect(() => parseSimArgs(['--sweep', '0.1,x'], '/tmp')).toThrow(/--sweep/);
    expect(() => parseSimArgs(['--blocks', '10', '--duration', '5'], '/tmp')).toThrow(/--blocks or --duration/);
    expect(() => parseSimArgs(['--load', '100000', '--blocks', '100000'], '/tmp')).toThrow(/--load/);
    expect(() => parseSimArgs(['--bogus'], '/tmp')).toThrow(/bogus/);
  });
});
