/**
 * expectString's shortcuts must not change a verdict: it skips measuring a string too short to be over its limit,
 * and remembers the last string each pattern accepted. Both are held to the plain checks here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, DecodeReason } from '../../../src/codec/errors.ts';
import { expectString, matches, utf8Length } from '../../../src/codec/fields.ts';
import { CONTENT_TYPE_PATTERN, PURPOSE_PATTERN } from '../../../src/codec/payloads.ts';
import { CHAIN_ID_PATTERN } from '../../../src/types/primitives.ts';

const SEED = 0xf1e1d;

/** expectString as it was: measure every string, run the pattern every time. */
function reference(value: string, maxBytes: number, pattern?: RegExp): string | DecodeReason {
  if (value.length > maxBytes || utf8Length(value) > maxBytes) return DecodeReason.Oversize;
  if (pattern && !new RegExp(pattern.source, pattern.flags).test(value)) return DecodeReason.OutOfRange;
  return value;
}

function outcome(value: string, maxBytes: number, pattern?: RegExp): string | DecodeReason {
  try {
    return expectString(value, maxBytes, 'f', pattern);
  } catch (error) {
    if (error instanceof DecodeError) return error.reason;
    throw error;
  }
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const arbText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '€', '😀'), loneSurrogate), maxLength: 12 }),
  fc.constantFrom('\ud800', 'a\ud800', '\udc00', '€€', 'application/fhir+json', 'TREAT', 'medchain-bench', ''),
);

describe('expectString', () => {
  it('refuses as oversize exactly the strings the full measure refuses, at every limit around their length', () => {
    fc.assert(
      fc.property(arbText, fc.integer({ min: -2, max: 2 }), (text, delta) => {
        for (const maxBytes of [text.length * 3 + delta, text.length * 4 + delta, utf8Length(text) + delta, text.length + delta]) {
          if (maxBytes < 0) continue;
          expect(outcome(text, maxBytes), `${JSON.stringify(text)} within ${maxBytes}`).toBe(reference(text, maxBytes));
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
    // A lone high surrogate at the end counts 4 bytes for one unit.
    expect(outcome('\ud800', 3)).toBe(DecodeReason.Oversize);
    expect(outcome('\ud800', 4)).toBe('\ud800');
  });

  it('gives each pattern the same verdict as a fresh test, in any order of repeated and new strings', () => {
    const patterns = [CONTENT_TYPE_PATTERN, PURPOSE_PATTERN, CHAIN_ID_PATTERN];
    const pool = ['application/fhir+json', 'text/plain', 'TREAT', 'ETREAT', 'treat', 'medchain-bench', 'Medchain', '', 'a/b', 'x'.repeat(33)];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(patterns.length - 1), fc.oneof(fc.constantFrom(...pool), fc.string({ maxLength: 40 }))), { maxLength: 40 }), (calls) => {
        for (const [p, text] of calls) {
          const pattern = patterns[p]!;
          expect(outcome(text, 256, pattern)).toBe(reference(text, 256, pattern));
          expect(matches(pattern, text)).toBe(new RegExp(pattern.source, pattern.flags).test(text));
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('leaves a stateful (g or y) pattern to test(), lastIndex and all', () => {
    for (const flags of ['g', 'y']) {
      const pattern = new RegExp('ab', flags);
      const twin = new RegExp('ab', flags);
      for (const text of ['abab', 'abab', 'abab', 'ab', 'ab', 'x', 'ab']) {
        expect(matches(pattern, text)).toBe(twin.test(text));
        expect(pattern.lastIndex).toBe(twin.lastIndex);
      }
    }
  });
});
