import { describe, expect, it } from 'vitest';
import { PEER_SCORING } from '../../../src/p2p/options.ts';
import { PeerScores, TokenBucket } from '../../../src/p2p/peerScore.ts';

function scores(options: Partial<typeof PEER_SCORING> = {}): { book: PeerScores; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { book: new PeerScores(options, { clock: () => now }), advance: (ms) => { now += ms; } };
}

describe('PeerScores', () => {
  it('starts every peer at 0 and keeps peers apart', () => {
    const { book } = scores();
    book.penalize('A', 10);
    expect(book.score('A')).toBe(-10);
    expect(book.score('B')).toBe(0);
  });

  it('decays a score toward 0 with the configured half-life', () => {
    const { book, advance } = scores({ decayHalfLifeMs: 60_000 });
    book.penalize('A', 40);
    advance(60_000);
    expect(book.score('A')).toBeCloseTo(-20, 6);
    advance(120_000);
    expect(book.score('A')).toBeCloseTo(-5, 6);
    advance(60 * 60_000);
    expect(book.score('A')).toBe(0);
  });

  it('bans at the threshold (inclusive) for the ban duration, once', () => {
    const { book, advance } = scores();
    for (let i = 0; i < 9; i++) expect(book.penalize('A', 10)).toMatchObject({ banned: false });
    expect(book.penalize('A', 10)).toEqual({ score: -100, banned: true, newlyBanned: true });
    expect(book.isBanned('A')).toBe(true);
    // Later faults keep it banned but do not start a new ban.
    expect(book.penalize('A', 10)).toMatchObject({ banned: true, newlyBanned: false });
    expect(book.bannedUntil('A')).toBe(1_000_000 + PEER_SCORING.banDurationMs);
    advance(PEER_SCORING.banDurationMs - 1);
    expect(book.isBanned('A')).toBe(true);
    advance(1);
    expect(book.isBanned('A')).toBe(false);
    // Ten minutes at a ten-minute half-life: the score has halved, the peer is on probation, not forgiven.
    expect(book.score('A')).toBeCloseTo(-55, 6);
  });

  it('spreads-out faults decay instead of adding up to a ban', () => {
    const { book, advance } = scores();
    for (let i = 0; i < 100; i++) {
      expect(book.penalize('A', 10).banned).toBe(false);
      advance(5 * 60_000);
    }
  });

  it('ban() bans regardless of score and forgive() lifts ban and score', () => {
    const { book } = scores();
    book.ban('A');
    expect(book.isBanned('A')).toBe(true);
    expect(book.score('A')).toBe(0);
    book.penalize('B', 50);
    book.forgive('B');
    book.forgive('A');
    expect(book.isBanned('A')).toBe(false);
    expect(book.score('B')).toBe(0);
  });

  it('refuses non-positive penalties and a non-negative threshold', () => {
    const { book } = scores();
    expect(() => book.penalize('A', 0)).toThrow(RangeError);
    expect(() => book.penalize('A', -5)).toThrow(RangeError);
    expect(() => new PeerScores({ banThreshold: 0 }, { clock: () => 0 })).toThrow(/negative/);
  });

  describe('token bucket', () => {
    const rate = { ratePerSecond: 200, burst: 400 };

    it('allows a full burst, then refuses until tokens refill at the rate', () => {
      const { book, advance } = scores();
      for (let i = 0; i < 400; i++) expect(book.allow('A', 'gossip:tx', rate)).toBe(true);
      expect(book.allow('A', 'gossip:tx', rate)).toBe(false);
      advance(4); // 0.8 token
      expect(book.allow('A', 'gossip:tx', rate)).toBe(false);
      advance(1); // 1.0 token
      expect(book.allow('A', 'gossip:tx', rate)).toBe(true);
      expect(book.allow('A', 'gossip:tx', rate)).toBe(false);
      advance(1000);
      let allowed = 0;
      while (book.allow('A', 'gossip:tx', rate)) allowed++;
      expect(allowed).toBe(200);
    });

    it('keeps separate buckets per peer and per name, and never saves more than the burst', () => {
      const { book, advance } = scores();
      for (let i = 0; i < 400; i++) book.allow('A', 'gossip:tx', rate);
      expect(book.allow('A', 'gossip:tx', rate)).toBe(false);
      expect(book.allow('B', 'gossip:tx', rate)).toBe(true);
      expect(book.allow('A', 'gossip:block', rate)).toBe(true);
      advance(60_000);
      let allowed = 0;
      while (book.allow('A', 'gossip:tx', rate)) allowed++;
      expect(allowed).toBe(400);
    });

    it('does not refill when the clock goes backwards', () => {
      const { book, advance } = scores();
      for (let i = 0; i < 400; i++) book.allow('A', 'x', rate);
      advance(-10_000);
      expect(book.allow('A', 'x', rate)).toBe(false);
    });
  });

  it('prune forgets neutral peers but keeps banned, penalized and kept ones', () => {
    const { book, advance } = scores();
    book.allow('neutral', 'x', { ratePerSecond: 1, burst: 1 });
    book.penalize('penalized', 10);
    book.ban('banned');
    book.allow('kept', 'x', { ratePerSecond: 1, burst: 1 });
    expect(book.prune((peer) => peer === 'kept')).toBe(1);
    advance(24 * 60 * 60_000);
    expect(book.prune()).toBe(3);
  });
});

describe('TokenBucket as an outbound pace', () => {
  it('lets a burst go at once, then spaces requests at the rate, in order', () => {
    const pacer = new TokenBucket({ ratePerSecond: 8, burst: 16 }, 0);
    for (let i = 0; i < 16; i++) expect(pacer.reserve(0)).toBe(0);
    expect(pacer.reserve(0)).toBe(125);
    expect(pacer.reserve(0)).toBe(250);
    // 250 ms later one slot has refilled and two were already promised: the next waits 125 ms more.
    expect(pacer.reserve(250)).toBe(125);
  });

  it('gives back a slot that was not used, and is idle once full again', () => {
    const pacer = new TokenBucket({ ratePerSecond: 10, burst: 2 }, 0);
    pacer.reserve(0);
    pacer.reserve(0);
    expect(pacer.reserve(0)).toBe(100);
    pacer.release();
    expect(pacer.reserve(0)).toBe(100);
    expect(pacer.idle(100)).toBe(false);
    expect(pacer.idle(300)).toBe(true);
  });

  it('refuses a rate or burst it cannot pace', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }, 0)).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0.5 }, 0)).toThrow(RangeError);
  });
});
