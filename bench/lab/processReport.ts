/**
 * The process mode's outputs: a terminal table (one column per engine and delay), CSV tables (runs, nodes,
 * latency samples) and SVG charts (latency CDF and histogram, propagation CDF, stale rate against the added
 * delay, block share against expected share), written with the shared output.ts and charts.ts.
 */
import { cdfSvg, histogramSvg, horizontalBarsSvg, lineChartSvg, type LineSeries, type SampleSeries } from './charts.ts';
import type { CsvCell } from './output.ts';
import type { Summary } from './processAnalysis.ts';
import type { LabRunReport, ProcessLabResult } from './processLab.ts';

const ms = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const pct = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(digits)} %`);
const num = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const trio = (s: Pick<Summary, 'p50' | 'p95' | 'p99'>): string => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`;
const duo = (s: Summary): string => `${ms(s.p50)} / ${ms(s.p90)}`;
const counts = (r: Readonly<Record<string, number>>): string => {
  const entries = Object.entries(r);
  return entries.length === 0 ? '0' : entries.map(([k, v]) => `${k}: ${v}`).join(', ');
};

export const runLabel = (r: Pick<LabRunReport, 'engine' | 'delayMs'>): string => `${r.engine} +${r.delayMs} ms`;

/** Rows of the terminal table: a label and one cell per run. */
function tableRows(runs: readonly LabRunReport[]): [string, string[]][] {
  const each = (f: (r: LabRunReport) => string): string[] => runs.map(f);
  return [
    ['offered load (tx/s)', each((r) => num(r.main.throughput.offeredTxPerSec))],
    ['included (tx/s, canonical)', each((r) => num(r.main.throughput.includedTxPerSec))],
    ['saturation: offered -> included (tx/s)', each((r) => (r.saturation === null ? 'skipped' : `${num(r.saturation.throughput.offeredTxPerSec, 0)} -> ${num(r.saturation.throughput.includedTxPerSec)}`))],
    ['submit -> included p50/p95/p99 (ms)', each((r) => trio(r.main.latency.includedMs))],
    ['submit -> final p50/p95/p99 (ms)', each((r) => trio(r.main.latency.finalMs))],
    ['refused / not included / not final', each((r) => `${r.main.latency.submitted - r.main.latency.accepted} / ${r.main.latency.notIncluded} / ${r.main.latency.notFinal}`)],
    ['canonical blocks in window', each((r) => String(r.main.throughput.blocks))],
    ['stale rate (stale / produced)', each((r) => `${pct(r.main.stale.rate)} (${r.main.stale.stale}/${r.main.stale.produced})`)],
    ['reorgs (depth: count)', each((r) => (r.main.reorgs.count === 0 ? '0' : Object.entries(r.main.reorgs.depths).map(([d, n]) => `${d}: ${n}`).join(', ')))],
    ['propagation first -> each p50/p90 (ms)', each((r) => duo(r.main.propagation.toEachMs))],
    ['propagation first -> last p50/p90 (ms)', each((r) => duo(r.main.propagation.toLastMs))],
    ['blocks per node (canonical)', each((r) => r.main.fairness.blocks.join(' '))],
    ['fairness: Jain index / max |share - expected|', each((r) => `${num(r.main.fairness.jain, 3)} / ${pct(r.main.fairness.maxDeviation)}`)],
    ['block interval p50/p95/p99 (ms), cv', each((r) => `${trio(r.main.blockIntervals.ms)}, ${num(r.main.blockIntervals.cv, 2)}`)],
    ['missed slots (of slots)', each((r) => (r.main.missedSlots === null ? 'n/a (PoW)' : `${r.main.missedSlots.missed} of ${r.main.missedSlots.slots}`))],
    ['CPU per node (% of a core)', each((r) => r.resources.map((x) => (x.main === null ? '?' : x.main.cpuPercent.toFixed(0))).join(' '))],
    ['RSS per node (MiB)', each((r) => r.resources.map((x) => (x.main === null ? '?' : x.main.rssMiB.toFixed(0))).join(' '))],
    ['peak RSS per node (MiB)', each((r) => r.resources.map((x) => (x.main === null ? '?' : x.main.peakRssMiB.toFixed(0))).join(' '))],
    ['blob uploads stored / refused', each((r) => `${r.uploads.stored} / ${Object.values(r.uploads.refused).reduce((s, n) => s + n, 0)}`)],
    ['upload lag behind block p50/p90 (ms)', each((r) => duo(r.uploads.lagMs.main))],
    ['peer bans (must be 0)', each((r) => String(r.bans))],
    ['simulator, same settings: included p50/p95/p99', each((r) => trio(r.simulated.includedMs))],
    ['simulator, same settings: final p50/p95/p99', each((r) => trio(r.simulated.finalMs))],
    ['simulator, same settings: stale rate', each((r) => pct(r.simulated.staleRate))],
    ['simulator, same settings: block interval p50/p95/p99, cv', each((r) => `${trio(r.simulated.intervalMs)}, ${num(r.simulated.intervalCv, 2)}`)],
  ];
}

export function summaryTable(result: ProcessLabResult): string {
  const runs = result.runs;
  const rows = tableRows(runs);
  const head = ['', ...runs.map(runLabel)];
  const width0 = Math.max(...rows.map(([label]) => label.length));
  const widths = head.slice(1).map((h, i) => Math.max(h.length, ...rows.map(([, cells]) => cells[i]!.length)));
  const line = (cells: readonly string[]): string => [cells[0]!.padEnd(width0), ...cells.slice(1).map((c, i) => c.padStart(widths[i]!))].join('   ');
  return [line(head), ...rows.map(([label, cells]) => line([label, ...cells]))].join('\n');
}

/** Sentences about what the figures cannot be trusted for, printed under the table. */
export function warnings(result: ProcessLabResult): string[] {
  const out: string[] = [];
  for (const r of result.runs) {
    const label = runLabel(r);
    if (r.bans > 0) {
      const reasons = Object.entries(r.nodeReported.warnings).filter(([m]) => m.startsWith('peer banned'));
      out.push(`${label}: nodes banned each other ${r.bans} times (${reasons.map(([m, n]) => `${n}x ${m.replace(/^peer banned for [^(]*/, '')}`).join('; ')}): figures after the first ban describe a partitioned network`);
    }
    if (r.saturation !== null && r.saturation.throughput.includedTxPerSec >= 0.95 * r.saturation.throughput.offeredTxPerSec) {
      out.push(`${label}: the saturation step was not above capacity (included ${num(r.saturation.throughput.includedTxPerSec)} of ${num(r.saturation.throughput.offeredTxPerSec)} tx/s offered); raise --saturation-load`);
    }
    if (r.main.latency.notIncluded > 0 || r.main.latency.notFinal > 0) {
      out.push(`${label}: ${r.main.latency.notIncluded} accepted transactions never reached the settled chain and ${r.main.latency.notFinal} were not final by the end`);
    }
    const refused = Object.entries(r.main.latency.refused);
    if (refused.length > 0) out.push(`${label}: tx_submit refused ${counts(r.main.latency.refused)} in the main window`);
    for (const [phase, lag] of Object.entries(r.uploads.lagMs)) {
      // Only `all` means to keep blobs off p2p; with `submitter` custody fetches are the point.
      if (r.uploads.mode !== 'all' || lag === null || lag.p90 === null || lag.p90 <= 1000) continue;
      out.push(`${label}: in the ${phase} window the blob uploads reached the nodes ${ms(lag.p90)} ms after the block (p90); custody fetches start after 1 s, so hospitals also fetched blobs from each other`);
    }
    for (const p of r.problems) out.push(`${label}: ${p}`);
  }
  return out;
}

export function csvTables(result: ProcessLabResult): Record<string, { header: string[]; rows: CsvCell[][] }> {
  const runs = result.runs;
  const runsHeader = [
    'engine', 'delay_ms', 'nodes', 'offered_tx_s', 'included_tx_s', 'saturation_offered_tx_s', 'saturation_included_tx_s',
    'included_p50_ms', 'included_p95_ms', 'included_p99_ms', 'final_p50_ms', 'final_p95_ms', 'final_p99_ms',
    'submitted', 'accepted', 'not_included', 'not_final', 'blocks', 'produced', 'stale', 'stale_rate', 'reorgs', 'max_reorg_depth',
    'propagation_p50_ms', 'propagation_p90_ms', 'propagation_last_p50_ms', 'propagation_last_p90_ms', 'jain', 'max_share_deviation',
    'slots', 'missed_slots', 'interval_p50_ms', 'interval_p95_ms', 'interval_p99_ms', 'interval_cv', 'bans', 'uploads_stored', 'uploads_refused', 'wall_s',
  ];
  const runsRows = runs.map((r): CsvCell[] => [
    r.engine, r.delayMs, r.nodes, r.main.throughput.offeredTxPerSec, r.main.throughput.includedTxPerSec,
    r.saturation?.throughput.offeredTxPerSec, r.saturation?.throughput.includedTxPerSec,
    r.main.latency.includedMs.p50, r.main.latency.includedMs.p95, r.main.latency.includedMs.p99,
    r.main.latency.finalMs.p50, r.main.latency.finalMs.p95, r.main.latency.finalMs.p99,
    r.main.latency.submitted, r.main.latency.accepted, r.main.latency.notIncluded, r.main.latency.notFinal,
    r.main.throughput.blocks, r.main.stale.produced, r.main.stale.stale, r.main.stale.rate, r.main.reorgs.count, r.main.reorgs.maxDepth,
    r.main.propagation.toEachMs.p50, r.main.propagation.toEachMs.p90, r.main.propagation.toLastMs.p50, r.main.propagation.toLastMs.p90,
    r.main.fairness.jain, r.main.fairness.maxDeviation, r.main.missedSlots?.slots, r.main.missedSlots?.missed,
    r.main.blockIntervals.ms.p50, r.main.blockIntervals.ms.p95, r.main.blockIntervals.ms.p99, r.main.blockIntervals.cv,
    r.bans, r.uploads.stored, Object.values(r.uploads.refused).reduce((s, n) => s + n, 0), r.wallSeconds,
  ]);
  const nodesHeader = ['engine', 'delay_ms', 'node', 'blocks', 'share', 'expected_share', 'slots_drawn', 'slots_missed', 'reorgs', 'cpu_percent', 'rss_mib', 'peak_rss_mib', 'saturation_cpu_percent', 'reorgs_total_metric'];
  const nodesRows = runs.flatMap((r) =>
    r.main.fairness.blocks.map((blocks, i): CsvCell[] => [
      r.engine, r.delayMs, i + 1, blocks, r.main.fairness.share[i], r.main.fairness.expectedShare[i],
      r.main.missedSlots?.drawn[i], r.main.missedSlots?.missedBy[i], r.main.reorgs.perNode[i],
      r.resources[i]?.main?.cpuPercent, r.resources[i]?.main?.rssMiB, r.resources[i]?.main?.peakRssMiB, r.resources[i]?.saturation?.cpuPercent,
      r.nodeReported.reorgsTotal[i],
    ]),
  );
  const samplesRows: CsvCell[][] = [];
  for (const r of runs) {
    for (const v of r.samples.includedMs) samplesRows.push([r.engine, r.delayMs, 'submit_to_included', v]);
    for (const v of r.samples.finalMs) samplesRows.push([r.engine, r.delayMs, 'submit_to_final', v]);
    for (const v of r.samples.propagationMs) samplesRows.push([r.engine, r.delayMs, 'propagation_first_to_node', v]);
  }
  return {
    runs: { header: runsHeader, rows: runsRows },
    nodes: { header: nodesHeader, rows: nodesRows },
    samples: { header: ['engine', 'delay_ms', 'measure', 'ms'], rows: samplesRows },
  };
}

export function charts(result: ProcessLabResult): Record<string, string> {
  const runs = result.runs;
  const o = result.options;
  const subtitle = `${o.nodes} medchain processes per network on 127.0.0.1, ${o.load} tx/s for ${o.durationS} s, seed ${o.seed}`;
  const latencySeries: SampleSeries[] = runs.flatMap((r) => [
    { label: `${runLabel(r)} included`, values: r.samples.includedMs },
    { label: `${runLabel(r)} final`, values: r.samples.finalMs },
  ]);
  const out: Record<string, string> = {
    'latency-cdf': cdfSvg({ title: 'Submit to included and to final', subtitle, xLabel: 'ms after tx_submit', series: latencySeries, logX: true }),
    'latency-histogram': histogramSvg({ title: 'Submit to included', subtitle, xLabel: 'ms after tx_submit', series: runs.map((r) => ({ label: runLabel(r), values: r.samples.includedMs })) }),
    'propagation-cdf': cdfSvg({
      title: 'Block propagation: first node to each other node (newHeads)',
      subtitle,
      xLabel: 'ms',
      series: runs.map((r) => ({ label: runLabel(r), values: r.samples.propagationMs })),
    }),
  };
  const staleSeries: LineSeries[] = o.engines.map((engine) => ({
    label: engine,
    points: runs.filter((r) => r.engine === engine && r.main.stale.rate !== null).map((r) => [r.delayMs, r.main.stale.rate! * 100] as const),
  }));
  out['stale-vs-delay'] = lineChartSvg({
    title: 'Stale rate against added network delay',
    subtitle: `${subtitle}; the delay is added by each node to every inbound gossip message and request`,
    xLabel: 'added delay per hop (ms)',
    yLabel: 'stale blocks (% of produced)',
    series: staleSeries,
  });
  out['fairness'] = horizontalBarsSvg({
    title: 'Canonical blocks per node against its expected share (1 = proportional)',
    subtitle: 'PoS: stake (equal); PoW: the node\'s share of CPU time in the window (hash power)',
    bars: runs.flatMap((r) =>
      r.main.fairness.ratio.map((ratio, i) => ({ label: `${runLabel(r)} node ${i + 1}`, value: ratio ?? 0, text: `${num(ratio, 2)} (${r.main.fairness.blocks[i]} blocks)` })),
    ),
    reference: { value: 1, label: 'expected' },
  });
  return out;
}
