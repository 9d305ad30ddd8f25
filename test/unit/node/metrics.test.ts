import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeMetrics } from '../../../src/node/metrics.ts';

/** The value of one sample line, e.g. `medchain_head_height 7` or `medchain_x{a="b"} 2`. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return undefined;
}

describe('NodeMetrics', () => {
  afterEach(() => {
    // Nothing of ours may land on prom-client's global registry, which other code in the process shares.
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('medchain_'))).toEqual([]);
  });

  it('reads gauges from their sources at scrape time', async () => {
    const values = { head: 7, finalized: 5, peers: 2, mempool: 31, target: 9 };
    const metrics = new NodeMetrics({
      headHeight: () => values.head,
      finalizedHeight: () => values.finalized,
      peers: () => values.peers,
      mempoolTransactions: () => values.mempool,
      syncTargetHeight: () => values.target,
    });
    let text = await metrics.text();
    expect(sample(text, 'medchain_head_height')).toBe(7);
    expect(sample(text, 'medchain_finalized_height')).toBe(5);
    expect(sample(text, 'medchain_peers')).toBe(2);
    expect(sample(text, 'medchain_mempool_transactions')).toBe(31);
    expect(sample(text, 'medchain_sync_target_height')).toBe(9);
    Object.assign(values, { head: 8, peers: 0, mempool: 0, target: 8 });
    text = await metrics.text();
    expect(sample(text, 'medchain_head_height')).toBe(8);
    expect(sample(text, 'medchain_peers')).toBe(0);
    expect(sample(text, 'medchain_mempool_transactions')).toBe(0);
    expect(sample(text, 'medchain_sync_target_height')).toBe(8);
    expect(text).toContain('# TYPE medchain_head_height gauge');
    expect(text).toContain('# HELP medchain_peers Connected peers.');
  });

  it('a gauge without a source stays 0', async () => {
    const text = await new NodeMetrics({}, { processMetrics: false }).text();
    expect(sample(text, 'medchain_finalized_height')).toBe(0);
    expect(sample(text, 'medchain_sync_target_height')).toBe(0);
  });

  it('counts gossip by topic and verdict, every series present from the start', async () => {
    const metrics = new NodeMetrics({}, { processMetrics: false });
    let text = await metrics.text();
    for (const topic of ['tx', 'block', 'vote']) {
      for (const verdict of ['accept', 'ignore', 'reject']) {
        expect(sample(text, `medchain_gossip_messages_total{topic="${topic}",verdict="${verdict}"}`), `${topic}/${verdict}`).toBe(0);
      }
    }
    metrics.gossip('block', 'reject');
    metrics.gossip('block', 'reject');
    metrics.gossip('tx', 'accept');
    text = await metrics.text();
    expect(sample(text, 'medchain_gossip_messages_total{topic="block",verdict="reject"}')).toBe(2);
    expect(sample(text, 'medchain_gossip_messages_total{topic="tx",verdict="accept"}')).toBe(1);
    expect(sample(text, 'medchain_gossip_messages_total{topic="block",verdict="accept"}')).toBe(0);
    expect(text).toContain('# TYPE medchain_gossip_messages_total counter');
  });

  it('records block imports in a histogram from 1 ms to 5 s and counts them', async () => {
    const metrics = new NodeMetrics({}, { processMetrics: false });
    metrics.observeBlockImport(0.0004);
    metrics.observeBlockImport(0.02);
    metrics.observeBlockImport(3);
    const text = await metrics.text();
    expect(sample(text, 'medchain_blocks_imported_total')).toBe(3);
    expect(sample(text, 'medchain_block_import_seconds_count')).toBe(3);
    expect(sample(text, 'medchain_block_import_seconds_sum')).toBeCloseTo(3.0204, 6);
    expect(sample(text, 'medchain_block_import_seconds_bucket{le="0.001"}')).toBe(1);
    expect(sample(text, 'medchain_block_import_seconds_bucket{le="0.025"}')).toBe(2);
    expect(sample(text, 'medchain_block_import_seconds_bucket{le="2.5"}')).toBe(2);
    expect(sample(text, 'medchain_block_import_seconds_bucket{le="5"}')).toBe(3);
    expect(sample(text, 'medchain_block_import_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(() => metrics.observeBlockImport(-1)).toThrow(/non-negative number of seconds, got -1/);
    expect(() => metrics.observeBlockImport(Number.NaN)).toThrow(/got NaN/);
  });

  it('timeBlockImport measures a successful import and does not count a failed one', async () => {
    const metrics = new NodeMetrics({}, { processMetrics: false });
    const clock = { t: 1000 };
    const result = await metrics.timeBlockImport(async () => {
      clock.t += 250; // ms
      return 'block';
    }, () => clock.t);
    expect(result).toBe('block');
    await expect(metrics.timeBlockImport(async () => Promise.reject(new Error('UNKNOWN_PARENT')), () => clock.t)).rejects.toThrow('UNKNOWN_PARENT');
    const text = await metrics.text();
    expect(sample(text, 'medchain_blocks_imported_total')).toBe(1);
    expect(sample(text, 'medchain_block_import_seconds_sum')).toBeCloseTo(0.25, 9);
  });

  it('denied reads follow a running total, or are counted by calls; reorgs are counted', async () => {
    const records = { deniedReadCount: 0 };
    const followed = new NodeMetrics({ deniedReadsTotal: () => records.deniedReadCount }, { processMetrics: false });
    expect(sample(await followed.text(), 'medchain_denied_reads_total')).toBe(0);
    records.deniedReadCount = 3;
    expect(sample(await followed.text(), 'medchain_denied_reads_total')).toBe(3);
    expect(sample(await followed.text(), 'medchain_denied_reads_total')).toBe(3); // a scrape adds nothing by itself
    records.deniedReadCount = 5;
    expect(sample(await followed.text(), 'medchain_denied_reads_total')).toBe(5);

    const counted = new NodeMetrics({}, { processMetrics: false });
    counted.deniedRead();
    counted.deniedRead(2);
    counted.reorg();
    const text = await counted.text();
    expect(sample(text, 'medchain_denied_reads_total')).toBe(3);
    expect(sample(text, 'medchain_reorgs_total')).toBe(1);
  });

  it('each node has its own registry, with medchain_-prefixed process metrics', async () => {
    const a = new NodeMetrics({ headHeight: () => 1 });
    const b = new NodeMetrics({ headHeight: () => 2 });
    a.reorg();
    const [textA, textB] = await Promise.all([a.text(), b.text()]);
    expect(sample(textA, 'medchain_head_height')).toBe(1);
    expect(sample(textB, 'medchain_head_height')).toBe(2);
    expect(sample(textB, 'medchain_reorgs_total')).toBe(0);
    expect(textA).toMatch(/^medchain_process_cpu_user_seconds_total \d/m);
    expect(textA).toMatch(/^medchain_nodejs_heap_size_used_bytes \d/m);
    // Every metric of ours is prefixed.
    const names = a.registry.getMetricsAsArray().map((m) => m.name);
    expect(names.filter((n) => !n.startsWith('medchain_'))).toEqual([]);
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(new NodeMetrics({}, { processMetrics: false }).registry.getMetricsAsArray().some((m) => m.name.includes('process_'))).toBe(false);
  });

  it('a source that fails makes the scrape fail, instead of reporting a stale value', async () => {
    const metrics = new NodeMetrics(
      {
        headHeight: () => {
          throw new Error('node not started');
        },
      },
      { processMetrics: false },
    );
    await expect(metrics.text()).rejects.toThrow('node not started');
  });
});
