/**
 * Property tests of every decoder: random bytes, valid structures, and valid structures mutated at the byte
 * level and at the MessagePack level. A decoder either accepts, and then re-encoding gives back exactly the
 * input, or refuses with a DecodeError whose reason is one of DecodeReason. Nothing else may be thrown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlock, decodeHeader, encodeBlock, encodeHeader } from '../../../src/codec/block.ts';
import { toHex } from '../../../src/codec/bytes.ts';
import { decodeCanonical, encodeCanonical, type WireValue } from '../../../src/codec/canonical.ts';
import { DecodeError, DecodeReason } from '../../../src/codec/errors.ts';
import { decodeTransaction, encodeSignedTransaction } from '../../../src/codec/transaction.ts';
import { MAX_BLOCK_BYTES, MAX_HEADER_BYTES, MAX_TX_BYTES } from '../../../src/types/primitives.ts';
import { TxType } from '../../../src/types/transaction.ts';
import {
  SEED,
  arbBlock,
  arbHeader,
  arbMutation,
  arbSameType,
  arbTransaction,
  mutate,
  nestedIn,
  nodesOf,
  nonCanonicalVariants,
  typeSwaps,
  writeCanonical,
  writeReplacing,
  type MsgValue,
} from '../../helpers/chainBuilder.ts';
import { testKey, testTx } from '../../helpers/fixtures.ts';

const REASONS: readonly string[] = Object.values(DecodeReason);

/** One decoder under test: how to decode, how to encode what it returns, and valid inputs. */
interface Target<T> {
  readonly name: string;
  decode(bytes: Uint8Array): T;
  encode(value: T): Uint8Array;
  readonly valid: fc.Arbitrary<Uint8Array>;
  readonly maxBytes: number;
  /** Every field name a refusal gives starts with one of these. */
  readonly fields: readonly string[];
  readonly runs: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

// A fixed valid transaction, decoded after every refusal: a decoder that keeps state across calls (msgpackr
// does, internally) must not be left broken by hostile input.
const canary = testTx(testKey('canary'), 3, { type: TxType.RegisterIdentity, role: 'patient' });

function run<T>(target: Target<T>, bytes: Uint8Array): Outcome<T> {
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: target.decode(bytes) };
  } catch (error) {
    // Anything but a DecodeError escapes and fails the property.
    if (!(error instanceof DecodeError)) throw error;
    outcome = { ok: false, error };
    expect(toHex(decodeTransaction(canary.bytes).id)).toBe(toHex(canary.id));
  }
  return outcome;
}

/** Accepted: encode(decode(x)) = x. Refused: a named reason and a field in the decoder's namespace. */
function expectNamedOrRoundTrip<T>(target: Target<T>, bytes: Uint8Array): Outcome<T> {
  const outcome = run(target, bytes);
  if (outcome.ok) {
    expect(toHex(target.encode(outcome.value))).toBe(toHex(bytes));
  } else {
    expect(REASONS).toContain(outcome.error.reason);
    expect(target.fields.some((f) => outcome.error.field.startsWith(f)), outcome.error.field).toBe(true);
  }
  return outcome;
}

function expectRefused<T>(target: Target<T>, bytes: Uint8Array, reasons: readonly string[]): DecodeError {
  const outcome = run(target, bytes);
  if (outcome.ok) throw new Error(`${target.name} accepted ${toHex(bytes).slice(0, 120)}`);
  expect(reasons, outcome.error.message).toContain(outcome.error.reason);
  return outcome.error;
}

const txTarget: Target<ReturnType<typeof decodeTransaction>> = {
  name: 'transaction',
  decode: decodeTransaction,
  encode: (tx) => encodeSignedTransaction(tx, tx.signature),
  valid: arbTransaction.map((tx) => tx.bytes),
  maxBytes: MAX_TX_BYTES,
  fields: ['tx'],
  runs: 600,
};

const headerTarget: Target<ReturnType<typeof decodeHeader>> = {
  name: 'header',
  decode: decodeHeader,
  encode: encodeHeader,
  valid: arbHeader.map(encodeHeader),
  maxBytes: MAX_HEADER_BYTES,
  fields: ['header'],
  runs: 600,
};

const blockTarget: Target<ReturnType<typeof decodeBlock>> = {
  name: 'block',
  decode: decodeBlock,
  // Re-encoded from the decoded parts, not from the bytes the decoder kept.
  encode: (b) => encodeBlock(encodeHeader(b.header), b.transactions.map((tx) => encodeSignedTransaction(tx, tx.signature))),
  valid: arbBlock(20).map((b) => b.bytes),
  maxBytes: MAX_BLOCK_BYTES,
  fields: ['block', 'header'],
  runs: 100,
};

/** Arbitrary wire values (no floats, maps or negatives), nested at most 8 deep. */
const arbWireValue: fc.Arbitrary<MsgValue> = fc.letrec<{ value: MsgValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.constantFrom(0, 31, 127, 128, 255, 256, 65535, 65536, 0xffffffff),
    fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 40 }),
    fc.string({ minLength: 30, maxLength: 300, unit: 'grapheme-ascii' }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 20 }),
  ),
})).value;

const canonicalTarget: Target<WireValue> = {
  name: 'canonical',
  decode: (bytes) => decodeCanonical(bytes, 1 << 16, 'value'),
  encode: encodeCanonical,
  valid: arbWireValue.map((v) => encodeCanonical(v as WireValue)),
  maxBytes: 1 << 16,
  fields: ['value'],
  runs: 800,
};

const targets = [txTarget, headerTarget, blockTarget, canonicalTarget] as const;

describe.each(targets)('$name decoder', (target: Target<unknown>) => {
  const opts = { seed: SEED, numRuns: target.runs };

  it('accepts every valid encoding and re-encodes it byte for byte', () => {
    fc.assert(
      fc.property(target.valid, (bytes) => {
        const outcome = expectNamedOrRoundTrip(target, bytes);
        expect(outcome.ok).toBe(true);
      }),
      opts,
    );
  });

  it('answers random bytes with a named reason (or a faithful round trip)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 600 })), (bytes) => {
        expectNamedOrRoundTrip(target, bytes);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('answers mutated valid encodings with a named reason (or a faithful round trip)', () => {
    let refused = 0;
    let total = 0;
    fc.assert(
      fc.property(target.valid, fc.array(arbMutation, { minLength: 1, maxLength: 3 }), (bytes, mutations) => {
        const mutated = mutations.reduce(mutate, bytes);
        total++;
        if (!expectNamedOrRoundTrip(target, mutated).ok) refused++;
      }),
      opts,
    );
    // Most mutations break something: the property exercised the refusal path, not only acceptance.
    expect(refused).toBeGreaterThan(total / 3);
  });

  it('refuses every strict prefix as TRUNCATED', () => {
    fc.assert(
      fc.property(target.valid, fc.nat(), (bytes, cut) => {
        const error = expectRefused(target, bytes.slice(0, cut % bytes.length), [DecodeReason.Truncated]);
        expect(target.fields).toContain(error.field);
      }),
      opts,
    );
  });

  it('refuses appended bytes as TRAILING_BYTES', () => {
    fc.assert(
      fc.property(target.valid, fc.uint8Array({ minLength: 1, maxLength: 16 }), (bytes, extra) => {
        const longer = new Uint8Array([...bytes, ...extra]);
        fc.pre(longer.length <= target.maxBytes);
        expectRefused(target, longer, [DecodeReason.TrailingBytes]);
      }),
      opts,
    );
  });

  it('refuses input over its size limit as OVERSIZE before parsing it', () => {
    const huge = new Uint8Array(target.maxBytes + 1);
    expect(expectRefused(target, huge, [DecodeReason.Oversize]).field).toBe(target.fields[0]);
  });
});

/** Valid encodings with the generic value and node count, for structural mutations. */
function structured(target: Target<unknown>) {
  return target.valid.chain((bytes) => {
    const value = decodeCanonical(bytes, target.maxBytes, 'value') as MsgValue;
    return fc.record({ bytes: fc.constant(bytes), value: fc.constant(value), node: fc.nat({ max: nodesOf(value).length - 1 }) });
  });
}

describe.each(targets)('$name decoder, MessagePack-level mutations', (target: Target<unknown>) => {
  const opts = { seed: SEED, numRuns: target.runs };

  it('the raw writer agrees with the canonical encoder (so the mutations below start from x itself)', () => {
    fc.assert(
      fc.property(structured(target), ({ bytes, value }) => {
        expect(toHex(writeCanonical(value))).toBe(toHex(bytes));
      }),
      opts,
    );
  });

  it('refuses every non-canonical re-encoding of any one field as NON_CANONICAL', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(structured(target), fc.nat(), ({ value, node }, pick) => {
        const variants = nonCanonicalVariants(nodesOf(value)[node]!);
        fc.pre(variants.length > 0);
        const variant = variants[pick % variants.length]!;
        seen.add(variant.name);
        const bytes = writeReplacing(value, node, () => variant.bytes);
        fc.pre(bytes.length <= target.maxBytes);
        expectRefused(target, bytes, [DecodeReason.NonCanonical]);
      }),
      opts,
    );
    expect(seen.size).toBeGreaterThanOrEqual(target === blockTarget ? 4 : 8);
  });

  it('refuses a field replaced by a value of another MessagePack type', () => {
    const always = new Set(['negative fixint', 'int8 -1', 'float 1.5', 'empty map', 'timestamp extension', 'map instead of array']);
    fc.assert(
      fc.property(structured(target), fc.nat(), ({ value, node }, pick) => {
        const swaps = typeSwaps(nodesOf(value)[node]!);
        const swap = swaps[pick % swaps.length]!;
        const bytes = writeReplacing(value, node, () => swap.bytes);
        if (target === canonicalTarget && !always.has(swap.name)) {
          // Any wire value is a valid generic value: only the structure decoders refuse these.
          expectNamedOrRoundTrip(target, bytes);
          return;
        }
        expectRefused(target, bytes, [DecodeReason.WrongType]);
      }),
      opts,
    );
  });

  it('answers a field replaced by another value of its type with a named reason, or a faithful round trip', () => {
    // Values above 2^63 - 1 included: every decoder must refuse them, since the encoder cannot write them.
    const aboveI64 = true;
    const reasons = new Set<string>();
    fc.assert(
      fc.property(
        structured(target).chain(({ value, node }) =>
          arbSameType(nodesOf(value)[node]!, aboveI64).map((replacement) => writeReplacing(value, node, () => replacement)),
        ),
        (bytes) => {
          const outcome = expectNamedOrRoundTrip(target, bytes);
          if (!outcome.ok) reasons.add(outcome.error.reason);
        },
      ),
      { seed: SEED, numRuns: target.runs * 2 },
    );
    // Domain checks were reached, not only the accepting path.
    if (target === txTarget || target === headerTarget) expect(reasons).toContain(DecodeReason.OutOfRange);
  });

  it('refuses a field nested deeper than 8 arrays as WRONG_TYPE', () => {
    fc.assert(
      fc.property(structured(target), ({ value, node }) => {
        const bytes = writeReplacing(value, node, (n) => nestedIn(9, writeCanonical(n)));
        expectRefused(target, bytes, [DecodeReason.WrongType]);
      }),
      opts,
    );
  });
});

describe('block decoder, mutations inside the header and the transactions', () => {
  const arbParts = arbBlock(6).chain((block) =>
    fc.record({
      block: fc.constant(block),
      // -1: the header; i >= 0: transaction i.
      part: fc.integer({ min: -1, max: block.transactions.length - 1 }),
      mutations: fc.array(arbMutation, { minLength: 1, maxLength: 2 }),
    }),
  );

  it('refuses a bad header or transaction with the reason its own decoder gives, naming where', () => {
    let refused = 0;
    fc.assert(
      fc.property(arbParts, ({ block, part, mutations }) => {
        const txs = block.transactions.map((tx) => tx.bytes);
        const inner = part < 0 ? block.headerBytes : txs[part]!;
        const mutated = mutations.reduce(mutate, inner);
        if (part < 0) fc.pre(mutated.length <= MAX_HEADER_BYTES);
        const bytes = part < 0 ? encodeBlock(mutated, txs) : encodeBlock(block.headerBytes, txs.map((t, i) => (i === part ? mutated : t)));
        const outcome = expectNamedOrRoundTrip(blockTarget, bytes);
        if (outcome.ok) return;
        refused++;
        // The same reason as the inner decoder alone, and the field says which part.
        const alone = part < 0 ? run<unknown>(headerTarget, mutated) : run<unknown>(txTarget, mutated);
        expect(alone.ok).toBe(false);
        if (!alone.ok) {
          expect(outcome.error.reason).toBe(alone.error.reason);
          expect(outcome.error.field).toBe(part < 0 ? alone.error.field : `block.transactions[${part}].${alone.error.field}`);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
    expect(refused).toBeGreaterThan(50);
  });
});
