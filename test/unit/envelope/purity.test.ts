import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// src/envelope is bundled for the browser as it is: no node: modules, no Buffer, no native code,
// and no randomness or clock of its own except Web Crypto in random.ts.
const FORBIDDEN: [RegExp, string][] = [
  [/\bfrom\s+['"]node:/, 'a node: module'],
  [/\brequire\s*\(/, 'require'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bprocess\./, 'process'],
  [/\bMath\.random\b|\bDate\.now\b|\bnew Date\(\s*\)|\bperformance\.now\b/, 'clock or Math.random'],
];

/** Source without comments, so prose such as "no Buffer" does not count as a use. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"])\/\/.*$/gm, '$1');
}

const dir = fileURLToPath(new URL('../../../src/envelope/', import.meta.url));
const ALLOWED_PACKAGES = ['@noble/ciphers/', '@noble/curves/', '@noble/hashes/'];

describe('src/envelope runs unchanged in the browser', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('has files to check', () => expect(files.length).toBeGreaterThanOrEqual(8));

  it.each(files)('%s imports only @noble/*, src/codec/bytes.ts and its own folder', (file) => {
    const text = code(`${dir}${file}`);
    for (const [pattern, what] of FORBIDDEN) expect(pattern.test(text), `${file} uses ${what}`).toBe(false);
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const target of targets) {
      const allowed = ALLOWED_PACKAGES.some((p) => target.startsWith(p)) || target === '../codec/bytes.ts' || (target.startsWith('./') && !target.includes('/', 2));
      expect(allowed, `${file} imports ${target}`).toBe(true);
    }
  });

  it('only random.ts touches Web Crypto, and nothing else draws randomness', () => {
    for (const file of files) {
      const text = code(`${dir}${file}`);
      const usesCrypto = /globalThis\.crypto|getRandomValues|randomBytes/.test(text);
      expect(usesCrypto, file).toBe(file === 'random.ts');
    }
  });

  it('src/codec/bytes.ts, which it imports, is browser-safe too', () => {
    const text = code(fileURLToPath(new URL('../../../src/codec/bytes.ts', import.meta.url)));
    expect(/\bfrom\s+['"]/.test(text), 'bytes.ts imports nothing').toBe(false);
    expect(/\bBuffer\b/.test(text)).toBe(false);
  });
});
