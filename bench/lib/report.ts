/** Rendering of the validation benchmark: a terminal table, and an SVG bar chart of transactions per second. */

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly kind: 'ceiling' | 'ours' | 'warm' | 'ethereumjs';
}

export interface BarGroup {
  readonly title: string;
  readonly bars: readonly Bar[];
}

const COLOURS: Record<Bar['kind'], string> = { ceiling: '#9aa5b1', ours: '#2f7d5b', warm: '#7cc4a0', ethereumjs: '#c0504d' };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Horizontal bars, one group per workload, on a shared linear scale; every bar carries its figure. */
export function barChartSvg(title: string, subtitle: string, groups: readonly BarGroup[]): string {
  const labelWidth = 270;
  const plotWidth = 560;
  const barHeight = 18;
  const gap = 5;
  const groupGap = 26;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const lines: string[] = [];
  let y = 64;
  for (const group of groups) {
    lines.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(group.title)}</text>`);
    y += 10;
    for (const bar of group.bars) {
      const width = Math.max(1, (bar.value / max) * plotWidth);
      lines.push(`<text x="${labelWidth - 8}" y="${y + barHeight - 5}" text-anchor="end">${escapeXml(bar.label)}</text>`);
      lines.push(`<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${COLOURS[bar.kind]}"/>`);
      lines.push(`<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + barHeight - 5}">${Math.round(bar.value).toLocaleString('en-US')} tx/s</text>`);
      y += barHeight + gap;
    }
    y += groupGap;
  }
  const height = y;
  const width = labelWidth + plotWidth + 130;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="42" fill="#555">${escapeXml(subtitle)}</text>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}

/** A plain text table: the first column left-aligned, the others right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
