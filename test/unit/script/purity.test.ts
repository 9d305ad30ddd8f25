import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The engine must give the same answer on every node: no I/O, clock, randomness or asynchrony.
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"](node:)?(fs|fs\/promises|net|http|https|http2|dgram|child_process|worker_threads|cluster|os|process|timers|perf_hooks|crypto)['"]/, 'node I/O module'],
  [/from\s+['"](level|classic-level|libp2p|@libp2p\/[^'"]*)['"]/, 'storage or network package'],
  [/\bDate\.now\b|\bnew Date\(\s*\)|\bMath\.random\b|\bperformance\.now\b|\bprocess\./, 'clock, randomness or process state'],
  [/\basync\b|\bawait\b|\bPromise\b|\bsetTimeout\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'asynchrony'],
  [/\bimport\s*\(/, 'dynamic import'],
];

const dir = fileURLToPath(new URL('../../../src/script/', import.meta.url));

describe('src/script is pure', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('has files to check', () => expect(files.length).toBeGreaterThan(5));

  it.each(files)('%s has no I/O, clock, randomness or async', (file) => {
    const text = readFileSync(`${dir}${file}`, 'utf8');
    for (const [pattern, what] of FORBIDDEN) expect(pattern.test(text), `${file} uses ${what}`).toBe(false);
    for (const match of text.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const target = match[1]!;
      // Only the engine itself and the pure lower layers.
      expect(target.startsWith('./') || target.startsWith('../codec/') || target.startsWith('../types/'), `${file} imports ${target}`).toBe(true);
    }
  });
});
