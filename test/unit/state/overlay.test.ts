/**
 * StateOverlay and MemoryState read through layers by a key converted once (getKeyed) and sort the write set
 * by those converted keys; this holds them to a plain model (hex-keyed maps, compareBytes order) on seeded
 * random operations over the layering the chain uses: an overlay over an overlay over the head's MemoryState,
 * and over a reader that is neither.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, toHex } from '../../../src/codec/bytes.ts';
import { MemoryState, StateOverlay, keyString, type StateReader } from '../../../src/state/overlay.ts';
import type { StateEntry } from '../../../src/types/state.ts';

type Op = { kind: 'set'; layer: number; key: Uint8Array; value: Uint8Array } | { kind: 'delete'; layer: number; key: Uint8Array };

/** Keys from a small alphabet and lengths, so prefixes, equal keys and every byte value near 0x7f/0x80/0xff collide. */
const keyArb = fc.uint8Array({ minLength: 0, maxLength: 6 }).map((bytes) => bytes.map((b) => [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff][b % 6]!));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), layer: fc.integer({ min: 0, max: 2 }), key: keyArb, value: fc.uint8Array({ maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), layer: fc.integer({ min: 1, max: 2 }), key: keyArb }),
);

/** The reference: each layer a map from hex key to value (null: deleted), read top down. */
class Model {
  readonly layers = [new Map<string, { key: Uint8Array; value: Uint8Array | null }>(), new Map(), new Map()] as Map<string, { key: Uint8Array; value: Uint8Array | null }>[];

  get(key: Uint8Array, from = 2): Uint8Array | undefined {
    for (let l = from; l >= 0; l--) {
      const entry = this.layers[l]!.get(toHex(key));
      if (entry !== undefined) return entry.value ?? undefined;
    }
    return undefined;
  }

  writes(layer: number): StateEntry[] {
    return [...this.layers[layer]!.values()].map(({ key, value }) => ({ key, value })).sort((a, b) => compareBytes(a.key, b.key));
  }
}

/** A reader that is neither an overlay nor a MemoryState: the overlay must fall back to its plain get. */
class PlainReader implements StateReader {
  readonly #inner = new MemoryState();
  apply(entries: readonly StateEntry[]): void {
    this.#inner.apply(entries);
  }
  get(key: Uint8Array): Uint8Array | undefined {
    return this.#inner.get(key);
  }
}

function run(ops: readonly Op[], probes: readonly Uint8Array[], plainBase: boolean): void {
  const model = new Model();
  const base = plainBase ? new PlainReader() : new MemoryState();
  const middle = new StateOverlay(base);
  const top = new StateOverlay(middle);
  for (const op of ops) {
    const value = op.kind === 'set' ? op.value : null;
    model.layers[op.layer]!.set(toHex(op.key), { key: op.key, value: op.layer === 0 && value === null ? null : value });
    if (op.layer === 0) {
      if (value !== null) base.apply([{ key: op.key, value }]);
    } else {
      const overlay = op.layer === 1 ? middle : top;
      if (value === null) overlay.delete(op.key);
      else overlay.set(op.key, value);
    }
  }
  for (const key of [...probes, ...ops.map((o) => o.key)]) {
    expect(top.get(key)).toEqual(model.get(key, 2));
    expect(middle.get(key)).toEqual(model.get(key, 1));
  }
  const writes = top.writes();
  expect(writes).toEqual(model.writes(2));
  const undo = writes.map(({ key }) => ({ key, value: model.get(key, 1) ?? null }));
  expect(top.undo()).toEqual(undo);
  expect(top.writesAndUndo()).toEqual({ writes, undo });
  expect(middle.writes()).toEqual(model.writes(1));
  // The head state applies an overlay's entries (which carry their converted keys) as it applies plain ones.
  const applied = new MemoryState();
  const plainApplied = new MemoryState();
  for (const target of [applied, plainApplied]) target.apply([...probes, ...ops.map((o) => o.key)].map((key) => ({ key, value: Uint8Array.of(0xee) })));
  applied.apply(writes);
  plainApplied.apply(writes.map(({ key, value }) => ({ key: key.slice(), value })));
  for (const key of [...probes, ...ops.map((o) => o.key)]) expect(applied.get(key)).toEqual(plainApplied.get(key));
  expect(applied.size).toBe(plainApplied.size);
}

describe('StateOverlay layers', () => {
  it('reads, sorts and undoes like a plain layered map (over a MemoryState)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(keyArb, { maxLength: 10 }), (ops, probes) => run(ops, probes, false)),
      { seed: 0x0e71a7, numRuns: 400 },
    );
  });

  it('reads, sorts and undoes like a plain layered map (over any other reader)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(keyArb, { maxLength: 10 }), (ops, probes) => run(ops, probes, true)),
      { seed: 0x0e71a8, numRuns: 200 },
    );
  });

  it('orders keys bytewise, a prefix first and 0x80 after 0x7f', () => {
    const overlay = new StateOverlay(new MemoryState());
    for (const key of [[0x80], [0x7f, 0xff], [0x7f], [], [0xff, 0x00], [0x00]]) overlay.set(Uint8Array.from(key), new Uint8Array(0));
    expect(overlay.writes().map((w) => toHex(w.key))).toEqual(['', '00', '7f', '7fff', '80', 'ff00']);
  });

  it('a child forked and merged shows its writes in the parent, a dropped one does not', () => {
    const parent = new StateOverlay(new MemoryState());
    const kept = parent.fork();
    kept.set(Uint8Array.of(1), Uint8Array.of(9));
    const dropped = parent.fork();
    dropped.set(Uint8Array.of(2), Uint8Array.of(9));
    expect(dropped.get(Uint8Array.of(2))).toEqual(Uint8Array.of(9));
    parent.merge(kept);
    expect(parent.get(Uint8Array.of(1))).toEqual(Uint8Array.of(9));
    expect(parent.get(Uint8Array.of(2))).toBeUndefined();
  });
});

describe('StateOverlay.stacked', () => {
  it("reads the layer's writes and deletes over another base, and the base for every other key", () => {
    const k = (n: number) => Uint8Array.of(1, n);
    const v = (n: number) => Uint8Array.of(9, n);
    const first = new MemoryState();
    first.apply([1, 2, 3].map((n) => ({ key: k(n), value: v(n) })));
    const layer = new StateOverlay(first);
    layer.set(k(1), v(11));
    layer.delete(k(2));
    layer.set(k(4), v(14));
    const head = new MemoryState();
    head.apply([2, 3, 5].map((n) => ({ key: k(n), value: v(n + 20) })));
    const stacked = StateOverlay.stacked(head, layer);
    expect([1, 2, 3, 4, 5, 6].map((n) => stacked.get(k(n)))).toEqual([v(11), undefined, v(23), v(14), v(25), undefined]);
    // A block executed over it writes to its own overlay and sees the same.
    const next = new StateOverlay(stacked);
    next.set(k(3), v(33));
    expect([1, 2, 3].map((n) => next.get(k(n)))).toEqual([v(11), undefined, v(33)]);
    expect(next.undo().map((e) => e.value)).toEqual([v(23)]);
    expect(layer.get(k(3))).toEqual(v(3));
  });
});

describe('keyString', () => {
  it('is one char per byte, for keys of any length in any order (short after long, both sides of the fast path)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), (keys) => {
        for (const key of keys) {
          const plain = Array.from(key, (b) => String.fromCharCode(b)).join('');
          expect(keyString(key)).toBe(plain);
        }
      }),
      { seed: 0x6b5, numRuns: 500 },
    );
  });
});
