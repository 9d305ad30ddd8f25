// Safe by construction: the web app renders untrusted strings only as text (no HTML injection APIs), keeps
// every style in CSS files (the node's CSP has no 'unsafe-inline'), and never reaches for the network or
// storage outside the few modules that own them.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WEB = fileURLToPath(new URL('../../../src/web/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(tsx?|html)$/.test(name) ? [path] : [];
  });
}

/** Source without comments, so prose may mention what code must not do. */
function code(path: string): string {
  return readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const FORBIDDEN: readonly (readonly [RegExp, string])[] = [
  [/dangerouslySetInnerHTML/, 'renders a string as HTML'],
  [/\.(inner|outer)HTML\b/, 'writes HTML from a string'],
  [/insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/, 'parses a string as HTML'],
  [/\bstyle\s*=/, 'uses a style attribute (blocked by the CSP; use a class)'],
  [/\.style\./, 'sets inline styles (use a class)'],
  [/<style\b/, 'has an inline <style> element'],
  [/\beval\s*\(|new\s+Function\s*\(/, 'evaluates a string as code (blocked by the CSP)'],
  [/\bsetTimeout\s*\(\s*['"`]/, 'passes a string to setTimeout'],
  [/\bhref=\{?["'`]?javascript:/i, 'uses a javascript: URL'],
];

/** Only these modules may touch the network or long-lived storage. */
const NETWORK_OWNERS = new Set(['main.tsx', 'lib/chainFeed.ts', 'lib/fhir.ts']);

describe('src/web is safe by construction', () => {
  const all = files(WEB);
  it('has files to check', () => expect(all.length).toBeGreaterThan(20));

  it.each(all.map((f) => [relative(WEB, f), f]))('%s', (name, path) => {
    const text = code(path);
    for (const [pattern, why] of FORBIDDEN) expect(pattern.test(text), `${name} ${why}`).toBe(false);
    if (!NETWORK_OWNERS.has(name)) {
      expect(/\bfetch\s*\(|new\s+WebSocket\b|XMLHttpRequest|sendBeacon|EventSource/.test(text), `${name} opens a connection; go through services.rpc or the feed`).toBe(false);
    }
    expect(/\bconsole\.(log|debug|info)\b/.test(text), `${name} logs to the console (could print a key or a record)`).toBe(false);
    expect(/\bMath\.random\b/.test(text), `${name} uses Math.random (use secureRandom)`).toBe(false);
  });

  it('index.html loads nothing from another origin and has no inline script or style', () => {
    const html = readFileSync(join(WEB, 'index.html'), 'utf8');
    expect(html).not.toMatch(/https?:\/\//);
    for (const script of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) expect(script).toMatch(/^<script type="module" src="\.\/main\.tsx"><\/script>$/);
    expect(html).not.toMatch(/<style|style=|\son[a-z]+=/i);
  });
});
