import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { rolldown } from 'rolldown';
import type { EnvelopeVectorFile } from '../../vectors/make-envelope-vectors.ts';

const file = JSON.parse(readFileSync(new URL('../../vectors/envelope.json', import.meta.url), 'utf8')) as EnvelopeVectorFile;

/**
 * Bundles src/envelope for platform "browser" and runs the bundle in a bare V8
 * context that has only what a browser page has and Node-only code would miss:
 * no require, process, Buffer or node: modules; Web Crypto's getRandomValues,
 * TextEncoder and TextDecoder are the only host objects. Their arrays come from
 * the host realm, so this also checks that inputs from another realm (an iframe)
 * are accepted.
 */
async function browserBundle(): Promise<string> {
  const input = fileURLToPath(new URL('../../../src/envelope/index.ts', import.meta.url));
  const bundle = await rolldown({ input, platform: 'browser', logLevel: 'warn' });
  const { output } = await bundle.generate({ format: 'iife', name: 'medchainEnvelope' });
  await bundle.close();
  expect(output.length).toBe(1);
  return output[0]!.code;
}

function browserLikeContext(): object {
  return createContext({
    crypto: { getRandomValues: (array: Uint8Array): Uint8Array => webcrypto.getRandomValues(array) },
    TextEncoder,
    TextDecoder,
  });
}

// Runs inside the context: replays vector 0 and does a secureRandom round trip; returns plain strings.
const CHECK = `(() => {
  const E = medchainEnvelope;
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const bytes = (h) => Uint8Array.from(h.match(/../g) ?? [], (p) => parseInt(p, 16));
  const v = JSON.parse(VECTOR);
  const draws = [...v.recordRandom];
  const tape = () => bytes(draws.shift());
  const ad = bytes(v.associatedData);
  const { ciphertext, dataKey } = E.encryptRecord(bytes(v.plaintext), { random: tape, associatedData: ad });
  const envelopeDraws = [...v.envelopes[0].random];
  const envelope = E.wrapDataKey(dataKey, bytes(v.envelopes[0].recipientEd25519PublicKey), { random: () => bytes(envelopeDraws.shift()), associatedData: ad });
  const fresh = E.encryptRecord(new TextEncoder().encode('browser round trip'), { random: E.secureRandom, associatedData: ad });
  const freshEnvelope = E.wrapDataKey(fresh.dataKey, bytes(v.envelopes[0].recipientEd25519PublicKey), { random: E.secureRandom, associatedData: ad });
  const key = E.unwrapDataKey(freshEnvelope, bytes(v.envelopes[0].recipientSeed), ad);
  let refused = 'accepted';
  try { E.decryptRecord(fresh.ciphertext.slice(0, -1), key, ad); } catch (e) { refused = e.name + ':' + e.code; }
  return JSON.stringify({
    ciphertext: hex(ciphertext),
    envelope: hex(envelope),
    roundTrip: new TextDecoder().decode(E.decryptRecord(fresh.ciphertext, key, ad)),
    refused,
    hasNodeGlobals: [typeof require, typeof process, typeof Buffer].join(','),
  });
})()`;

describe('src/envelope as a browser bundle', () => {
  it('bundles for the browser and reproduces a known-answer vector in a context without Node globals', async () => {
    const code = await browserBundle();
    expect(code).not.toMatch(/\brequire\(|from\s*['"]node:/);
    const context = browserLikeContext();
    runInContext(code, context);
    const vector = file.vectors[1]!;
    (context as { VECTOR?: string }).VECTOR = JSON.stringify(vector);
    const result = JSON.parse(runInContext(CHECK, context) as string) as Record<string, string>;
    expect(result.hasNodeGlobals).toBe('undefined,undefined,undefined');
    expect(result.ciphertext).toBe(vector.ciphertext);
    expect(result.envelope).toBe(vector.envelopes[0]!.envelope);
    expect(result.roundTrip).toBe('browser round trip');
    expect(result.refused).toBe('EnvelopeError:AUTH_FAILED');
  });
});
