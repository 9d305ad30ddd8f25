/**
 * SVG charts for the consensus lab (issue 7 §2), shared by the simulation and the process mode: a histogram
 * and an empirical CDF of latencies, a line chart of x/y series (e.g. measured vs theoretical stale rate
 * against delay) and labelled horizontal bars. Plain strings, no DOM and no clock: the same data gives the
 * same bytes, so charts can be diffed between runs.
 */

/** One set of samples (e.g. submit-to-inclusion latencies in ms). */
export interface SampleSeries {
  readonly label: string;
  readonly values: readonly number[];
  readonly colour?: string;
}

/** One line of a line chart; points are drawn in the order given. */
export interface LineSeries {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
  readonly colour?: string;
  readonly dashed?: boolean;
  /** Draw a dot at each point (default true). */
  readonly markers?: boolean;
  /** Join the points (default true; false: a scatter). */
  readonly line?: boolean;
}

export interface ChartFrame {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
}

export interface HistogramOptions extends ChartFrame {
  readonly series: readonly SampleSeries[];
  /** Number of bins (default 40). */
  readonly bins?: number;
  /**
   * The x axis ends at this quantile of all samples (default 0.995) so a long tail does not squash the body;
   * samples beyond it are counted in the last bin and the subtitle says how many.
   */
  readonly clipQuantile?: number;
}

export interface CdfOptions extends ChartFrame {
  readonly series: readonly SampleSeries[];
  /** Logarithmic x axis (latencies spanning decades). Non-positive samples are left out. */
  readonly logX?: boolean;
  /** At most this many points per curve (default 400). */
  readonly maxPoints?: number;
}

export interface LineChartOptions extends ChartFrame {
  readonly series: readonly LineSeries[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Force the y axis to start at 0 (default true for linear axes). */
  readonly yFromZero?: boolean;
  /** Format of tick labels (default: a compact number). */
  readonly formatX?: (x: number) => string;
  readonly formatY?: (y: number) => string;
}

export interface HBar {
  readonly label: string;
  readonly value: number;
  /** Text after the bar (default: the value). */
  readonly text?: string;
  readonly colour?: string;
}

export interface HBarOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly bars: readonly HBar[];
  /** A vertical reference line (e.g. the expected share), labelled. */
  readonly reference?: { readonly value: number; readonly label: string };
}

/** A palette that stays readable in print and for common colour-vision deficiencies. */
export const PALETTE: readonly string[] = ['#2f6db5', '#d1782b', '#2f7d5b', '#b5405a', '#7a5bb5', '#8c6d31', '#5b9bd5', '#555555'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A compact label for a tick: 0.05, 1.2k, 3M; always the same text for the same number. */
export function formatTick(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  if (abs >= 1) return trim(n);
  return Number(n.toPrecision(3)).toString();
}

function trim(n: number): string {
  return Number(n.toFixed(Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2)).toString();
}

/** "Nice" linear ticks covering [min, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max <= min) max = min + (min === 0 ? 1 : Math.abs(min) * 0.1);
  const raw = (max - min) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max] (both > 0), with 2 and 5 between them when there are few decades. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of hi - lo <= 2 ? [1, 2, 5] : [1]) {
      const t = Number((m * 10 ** e).toPrecision(12));
      if (t >= min / 1.0001 && t <= max * 1.0001) ticks.push(t);
    }
  }
  if (ticks.length < 2) return [min, max];
  return ticks;
}

/** The q-quantile of sorted values (linear interpolation), NaN when empty. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

interface Axis {
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
  readonly ticks: readonly number[];
}

function linearAxis(min: number, max: number, fromZero: boolean): Axis {
  const ticks = niceTicks(fromZero ? Math.min(0, min) : min, max);
  return { min: ticks[0]!, max: ticks[ticks.length - 1]!, log: false, ticks };
}

function logAxis(min: number, max: number): Axis {
  // The axis ends on 1, 2 or 5 times a power of ten just outside the data.
  const steps = (e: number): number[] => [1, 2, 5].map((m) => Number((m * 10 ** e).toPrecision(12)));
  const lo = Math.max(...steps(Math.floor(Math.log10(min))).filter((s) => s <= min), 10 ** Math.floor(Math.log10(min)));
  const up = [...steps(Math.floor(Math.log10(max))), 10 ** (Math.floor(Math.log10(max)) + 1)].find((s) => s >= max) ?? max;
  const hi = up > lo ? up : lo * 10;
  return { min: lo, max: hi, log: true, ticks: logTicks(lo, hi) };
}

function scale(axis: Axis, v: number, from: number, to: number): number {
  const f = axis.log ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min)) : (v - axis.min) / (axis.max - axis.min);
  return from + f * (to - from);
}

interface Plot {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
}

function plotArea(frame: ChartFrame, legendRows: number): Plot {
  const width = frame.width ?? 760;
  const height = frame.height ?? 440;
  const top = frame.subtitle === undefined ? 48 : 66;
  return { left: 72, top, right: width - 24, bottom: height - 52 - legendRows * 18, width, height };
}

function svgOpen(frame: ChartFrame, plot: Plot): string[] {
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${plot.width}" height="${plot.height}" viewBox="0 0 ${plot.width} ${plot.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(frame.title)}</text>`,
  ];
  if (frame.subtitle !== undefined) lines.push(`<text x="12" y="44" fill="#555">${escapeXml(frame.subtitle)}</text>`);
  return lines;
}

function axes(frame: ChartFrame, plot: Plot, x: Axis, y: Axis, fx: (n: number) => string, fy: (n: number) => string): string[] {
  const out: string[] = [];
  for (const t of y.ticks) {
    const py = scale(y, t, plot.bottom, plot.top).toFixed(1);
    out.push(`<line x1="${plot.left}" y1="${py}" x2="${plot.right}" y2="${py}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${plot.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" fill="#333">${escapeXml(fy(t))}</text>`);
  }
  for (const t of x.ticks) {
    const px = scale(x, t, plot.left, plot.right).toFixed(1);
    out.push(`<line x1="${px}" y1="${plot.top}" x2="${px}" y2="${plot.bottom}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${px}" y="${plot.bottom + 16}" text-anchor="middle" fill="#333">${escapeXml(fx(t))}</text>`);
  }
  out.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 34}" text-anchor="middle">${escapeXml(frame.xLabel)}</text>`);
  if (frame.yLabel !== undefined) {
    const cy = (plot.top + plot.bottom) / 2;
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(frame.yLabel)}</text>`);
  }
  return out;
}

function legend(plot: Plot, entries: readonly { label: string; colour: string; dashed?: boolean }[]): string[] {
  const out: string[] = [];
  let x = plot.left;
  let y = plot.bottom + 52;
  for (const e of entries) {
    if (e.label === '') continue;
    const w = 34 + e.label.length * 6.6;
    if (x + w > plot.right && x > plot.left) {
      x = plot.left;
      y += 18;
    }
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${e.colour}" stroke-width="3"${e.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x + 28}" y="${y}">${escapeXml(e.label)}</text>`);
    x += w + 12;
  }
  return out;
}

function legendRowsFor(labels: readonly string[], width: number): number {
  let rows = 1;
  let x = 72;
  for (const l of labels) {
    if (l === '') continue;
    const w = 34 + l.length * 6.6 + 12;
    if (x + w > width - 24 && x > 72) {
      rows++;
      x = 72;
    }
    x += w;
  }
  return labels.every((l) => l === '') ? 0 : rows;
}

function noData(frame: ChartFrame): string {
  const plot = plotArea(frame, 0);
  return [...svgOpen(frame, plot), `<text x="${plot.width / 2}" y="${plot.height / 2}" text-anchor="middle" fill="#888">no data</text>`, '</svg>', ''].join('\n');
}

/** A histogram of samples, one outlined bar set per series on shared bins (counts as a share of each series). */
export function histogramSvg(options: HistogramOptions): string {
  const series = options.series.filter((s) => s.values.length > 0);
  if (series.length === 0) return noData(options);
  const all = series.flatMap((s) => [...s.values]).sort((a, b) => a - b);
  const lo = Math.min(0, all[0]!);
  const hi = Math.max(lo + 1e-9, quantileSorted(all, options.clipQuantile ?? 0.995));
  const binCount = options.bins ?? 40;
  const binWidth = (hi - lo) / binCount;
  let clipped = 0;
  const shares = series.map((s) => {
    const counts = new Array<number>(binCount).fill(0);
    for (const v of s.values) {
      if (v > hi) clipped++;
      const i = Math.min(binCount - 1, Math.max(0, Math.floor((v - lo) / binWidth)));
      counts[i]!++;
    }
    return counts.map((c) => c / s.values.length);
  });
  const maxShare = Math.max(...shares.flatMap((s) => s));
  const frame: ChartFrame = {
    ...options,
    yLabel: options.yLabel ?? 'share of samples',
    subtitle: [options.subtitle, clipped > 0 ? `${clipped} samples beyond ${formatTick(hi)} counted in the last bin` : undefined].filter((s) => s !== undefined).join(' · ') || undefined,
  };
  const plot = plotArea(frame, legendRowsFor(series.map((s) => s.label), frame.width ?? 760));
  const x = linearAxis(lo, hi, true);
  const y = linearAxis(0, maxShare, true);
  const out = [...svgOpen(frame, plot), ...axes(frame, plot, x, y, formatTick, (n) => `${formatTick(n * 100)} %`)];
  series.forEach((s, k) => {
    const colour = s.colour ?? PALETTE[k % PALETTE.length]!;
    const bars = shares[k]!;
    let path = `M${scale(x, lo, plot.left, plot.right).toFixed(1)},${plot.bottom}`;
    bars.forEach((share, i) => {
      const x0 = scale(x, lo + i * binWidth, plot.left, plot.right).toFixed(1);
      const x1 = scale(x, lo + (i + 1) * binWidth, plot.left, plot.right).toFixed(1);
      const py = scale(y, share, plot.bottom, plot.top).toFixed(1);
      path += ` L${x0},${py} L${x1},${py}`;
    });
    path += ` L${scale(x, hi, plot.left, plot.right).toFixed(1)},${plot.bottom} Z`;
    out.push(`<path d="${path}" fill="${colour}" fill-opacity="${series.length > 1 ? 0.18 : 0.35}" stroke="${colour}" stroke-width="1.5"/>`);
  });
  out.push(...legend(plot, series.map((s, k) => ({ label: `${s.label} (n=${s.values.length})`, colour: s.colour ?? PALETTE[k % PALETTE.length]! }))));
  out.push('</svg>', '');
  return out.join('\n');
}

/** Empirical CDFs of samples, one curve per series, with the p50/p95/p99 levels marked. */
export function cdfSvg(options: CdfOptions): string {
  const logX = options.logX ?? false;
  const series = options.series
    .map((s) => ({ ...s, sorted: [...s.values].filter((v) => !logX || v > 0).sort((a, b) => a - b) }))
    .filter((s) => s.sorted.length > 0);
  if (series.length === 0) return noData(options);
  const lo = Math.min(...series.map((s) => s.sorted[0]!));
  const hi = Math.max(...series.map((s) => s.sorted[s.sorted.length - 1]!));
  const frame: ChartFrame = { ...options, yLabel: options.yLabel ?? 'share of samples at or below' };
  const plot = plotArea(frame, legendRowsFor(series.map((s) => s.label), frame.width ?? 760));
  const x = logX ? logAxis(lo, hi) : linearAxis(lo, hi, true);
  const y: Axis = { min: 0, max: 1, log: false, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const out = [...svgOpen(frame, plot), ...axes(frame, plot, x, y, formatTick, (n) => `${formatTick(n * 100)} %`)];
  for (const level of [0.5, 0.95, 0.99]) {
    const py = scale(y, level, plot.bottom, plot.top).toFixed(1);
    out.push(`<line x1="${plot.left}" y1="${py}" x2="${plot.right}" y2="${py}" stroke="#bbb" stroke-dasharray="3 3"/>`);
    out.push(`<text x="${plot.right - 4}" y="${Number(py) - 3}" text-anchor="end" fill="#888" font-size="10">p${level * 100}</text>`);
  }
  const maxPoints = options.maxPoints ?? 400;
  series.forEach((s, k) => {
    const colour = s.colour ?? PALETTE[k % PALETTE.length]!;
    const n = s.sorted.length;
    const step = Math.max(1, Math.floor(n / maxPoints));
    const pts: string[] = [];
    for (let i = 0; i < n; i += step) pts.push(`${scale(x, s.sorted[i]!, plot.left, plot.right).toFixed(1)},${scale(y, (i + 1) / n, plot.bottom, plot.top).toFixed(1)}`);
    pts.push(`${scale(x, s.sorted[n - 1]!, plot.left, plot.right).toFixed(1)},${plot.top.toFixed(1)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
  });
  out.push(...legend(plot, series.map((s, k) => ({ label: `${s.label} (n=${s.sorted.length})`, colour: s.colour ?? PALETTE[k % PALETTE.length]! }))));
  out.push('</svg>', '');
  return out.join('\n');
}

/** Lines through x/y points, e.g. measured and theoretical stale rate against delay. */
export function lineChartSvg(options: LineChartOptions): string {
  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!logX || px > 0) && (!logY || py > 0)) }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return noData(options);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const plot = plotArea(options, legendRowsFor(series.map((s) => s.label), options.width ?? 760));
  const x = logX ? logAxis(Math.min(...xs), Math.max(...xs)) : linearAxis(Math.min(...xs), Math.max(...xs), false);
  const y = logY ? logAxis(Math.min(...ys), Math.max(...ys)) : linearAxis(Math.min(...ys), Math.max(...ys), options.yFromZero ?? true);
  const out = [...svgOpen(options, plot), ...axes(options, plot, x, y, options.formatX ?? formatTick, options.formatY ?? formatTick)];
  series.forEach((s, k) => {
    const colour = s.colour ?? PALETTE[k % PALETTE.length]!;
    const pts = s.points.map(([px, py]) => `${scale(x, px, plot.left, plot.right).toFixed(1)},${scale(y, py, plot.bottom, plot.top).toFixed(1)}`);
    if (pts.length > 1 && (s.line ?? true)) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`);
    if (s.markers ?? true) for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="${(s.line ?? true) ? 3.5 : 2.5}" fill="${colour}"${(s.line ?? true) ? '' : ' fill-opacity="0.6"'}/>`);
  });
  out.push(...legend(plot, series.map((s, k) => ({ label: s.label, colour: s.colour ?? PALETTE[k % PALETTE.length]!, dashed: s.dashed ?? false }))));
  out.push('</svg>', '');
  return out.join('\n');
}

/** Horizontal bars with their figures (e.g. blocks proposed per node), an optional reference line. */
export function horizontalBarsSvg(options: HBarOptions): string {
  const labelWidth = Math.min(260, 20 + Math.max(4, ...options.bars.map((b) => b.label.length)) * 7);
  const plotWidth = 520;
  const barHeight = 14;
  const gap = 4;
  const top = options.subtitle === undefined ? 48 : 66;
  const max = Math.max(1e-12, options.reference?.value ?? 0, ...options.bars.map((b) => b.value));
  const out: string[] = [];
  let y = top;
  for (const bar of options.bars) {
    const w = Math.max(1, (bar.value / max) * plotWidth);
    out.push(`<text x="${labelWidth - 8}" y="${y + barHeight - 3}" text-anchor="end">${escapeXml(bar.label)}</text>`);
    out.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${bar.colour ?? PALETTE[0]!}"/>`);
    out.push(`<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + barHeight - 3}">${escapeXml(bar.text ?? formatTick(bar.value))}</text>`);
    y += barHeight + gap;
  }
  if (options.reference !== undefined) {
    const rx = (labelWidth + (options.reference.value / max) * plotWidth).toFixed(1);
    out.push(`<line x1="${rx}" y1="${top - 6}" x2="${rx}" y2="${y}" stroke="#b5405a" stroke-dasharray="5 3"/>`);
    out.push(`<text x="${rx}" y="${y + 14}" text-anchor="middle" fill="#b5405a">${escapeXml(options.reference.label)}</text>`);
    y += 16;
  }
  const width = labelWidth + plotWidth + 110;
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...(options.subtitle === undefined ? [] : [`<text x="12" y="44" fill="#555">${escapeXml(options.subtitle)}</text>`]),
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
