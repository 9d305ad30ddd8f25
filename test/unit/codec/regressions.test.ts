/** Regressions: each case failed on main at 55b21b9 (found by the decoder and state-value property tests). */
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from '../../../src/codec/canonical.ts';
import { DecodeError, DecodeReason } from '../../../src/codec/errors.ts';
import { getHospitalName } from '../../../src/state/accessors.ts';
import { buildGenesis, GenesisError, parseGenesis } from '../../../src/state/genesis.ts';
import { MemoryState } from '../../../src/state/overlay.ts';
import { decodeGrant, decodeValidatorSet, encodeValidatorSet } from '../../../src/state/stateValues.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
function refusal(run: () => unknown): DecodeError | 'accepted' {
  try { run(); } catch (e) { if (e instanceof DecodeError) return e; throw e; }
  return 'accepted';
}

describe('regressions (bugs found by review)', () => {
  it('decodeCanonical refuses a uint64 above 2^63-1, which encodeCanonical cannot write', () => {
    const bytes = hex('cfffffffffffffffff');
    expect(refusal(() => decodeCanonical(bytes, 100, 'value'))).not.toBe('accepted');
  });

  it('decodeValidatorSet refuses such a stake instead of passing it to an encoder that throws', () => {
    const set = hex('9192c420' + '11'.repeat(32) + 'cf8000000000000000');
    const outcome = refusal(() => encodeValidatorSet(decodeValidatorSet(set)));
    expect(outcome).toBeInstanceOf(DecodeError);
  });

  it('decodeGrant refuses scope bits outside 1..7', () => {
    const grant = encodeCanonical([new Uint8Array(32), 8, null, 1, null]);
    expect(refusal(() => decodeGrant(new Uint8Array(32), grant))).toMatchObject({ reason: DecodeReason.OutOfRange });
    const empty = encodeCanonical([new Uint8Array(32), 0, null, 1, null]);
    expect(refusal(() => decodeGrant(new Uint8Array(32), empty))).toMatchObject({ reason: DecodeReason.OutOfRange });
  });

  it('genesis measures hospital names in UTF-8 bytes, as state does', () => {
    const doc = { chainId: 'x', time: 0, consensus: { engine: 'pos', slotMs: 1000 }, hospitals: [{ id: 'ab'.repeat(32), name: 'é'.repeat(100), stake: 1 }] };
    expect(() => parseGenesis(doc)).toThrow(GenesisError);
    const fits = { ...doc, hospitals: [{ ...doc.hospitals[0]!, name: 'é'.repeat(64) }] };
    const state = new MemoryState();
    state.apply(buildGenesis(parseGenesis(fits)).writes);
    expect(getHospitalName(state, new Uint8Array(32).fill(0xab))).toBe('é'.repeat(64));
  });

  it('the reserved byte 0xc1 and invalid UTF-8 are MALFORMED, as errors.ts documents', () => {
    expect(refusal(() => decodeCanonical(hex('c1'), 10, 'v'))).toMatchObject({ reason: DecodeReason.Malformed });
    expect(refusal(() => decodeCanonical(hex('a2c328'), 10, 'v'))).toMatchObject({ reason: DecodeReason.Malformed });
  });

  it('20,000 nested arrays are refused as too deep, not as truncated', () => {
    const deep = new Uint8Array(20_001).fill(0x91);
    deep[20_000] = 0xc0;
    expect(refusal(() => decodeCanonical(deep, 1 << 20, 'v'))).toMatchObject({ reason: DecodeReason.WrongType });
  });

  it('encodeCanonical refuses a lone surrogate rather than signing U+FFFD in its place', () => {
    expect(() => encodeCanonical(['\ud800'])).toThrow(RangeError);
  });
});
