import { PEER_SCORING, type PeerScoringOptions, type RateLimit } from './options.ts';

/** What a penalty did to the peer. */
export interface PenaltyOutcome {
  readonly score: number;
  /** True while the peer is banned (the caller disconnects it). */
  readonly banned: boolean;
  /** True when this very penalty started the ban (the caller logs it once). */
  readonly newlyBanned: boolean;
}

interface PeerRecord {
  score: number;
  /** When `score` was last decayed. */
  scoredAt: number;
  /** Ban end time; 0 when not banned. */
  bannedUntil: number;
  /** Token buckets by name (`gossip:tx`, `req:status`). */
  buckets: Map<string, TokenBucket>;
}

/**
 * A token bucket: `rate.ratePerSecond` tokens refill each second, at most `rate.burst` are saved up. Inbound
 * limits `take` a token or refuse; outbound pacing `reserve`s one and waits for it (the bucket goes into debt,
 * so waiting requests keep their order), which keeps what we send one peer under that peer's inbound limit.
 */
export class TokenBucket {
  readonly #rate: RateLimit;
  #tokens: number;
  #refilledAt: number;

  constructor(rate: RateLimit, now: number) {
    if (!(rate.ratePerSecond > 0) || !(rate.burst >= 1)) throw new RangeError(`a token bucket needs a positive rate and a burst of at least 1, got ${rate.ratePerSecond}/s, ${rate.burst}`);
    this.#rate = rate;
    this.#tokens = rate.burst;
    this.#refilledAt = now;
  }

  /** Takes one token; false when none is left. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Reserves the next token; the ms to wait before using it (0: now). */
  reserve(now: number): number {
    this.#refill(now);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#rate.ratePerSecond;
  }

  /** Gives a reserved token back (the request was not sent). */
  release(): void {
    this.#tokens = Math.min(this.#rate.burst, this.#tokens + 1);
  }

  /** True when nothing is reserved and the bucket is full again: it can be forgotten. */
  idle(now: number): boolean {
    return this.#tokens + (Math.max(0, now - this.#refilledAt) * this.#rate.ratePerSecond) / 1000 >= this.#rate.burst;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#tokens = Math.min(this.#rate.burst, this.#tokens + (elapsed * this.#rate.ratePerSecond) / 1000);
    this.#refilledAt = now;
  }
}

/**
 * Our application score of each peer, keyed by peer id, never by IP: nodes behind one NAT, or every node of
 * a local test network on 127.0.0.1, must not share a fate. Faults lower the score; it decays back toward 0
 * (half-life `decayHalfLifeMs`), so a peer is banned only for repeated faults in a short time, and a peer at
 * or below `banThreshold` is banned for `banDurationMs`. Pure apart from the injected clock; the network acts
 * on the outcomes (hang up, refuse dials).
 */
export class PeerScores {
  readonly #options: PeerScoringOptions;
  readonly #clock: () => number;
  readonly #peers = new Map<string, PeerRecord>();

  constructor(options: Partial<PeerScoringOptions>, modules: { clock: () => number }) {
    this.#options = { ...PEER_SCORING, ...options };
    this.#clock = modules.clock;
    if (!(this.#options.banThreshold < 0)) throw new RangeError('banThreshold must be negative');
    if (!(this.#options.decayHalfLifeMs > 0)) throw new RangeError('decayHalfLifeMs must be positive');
  }

  get options(): PeerScoringOptions {
    return this.#options;
  }

  /** The peer's current score (0 for a peer never seen). */
  score(peer: string): number {
    const record = this.#peers.get(peer);
    if (record === undefined) return 0;
    this.#decay(record, this.#clock());
    return record.score;
  }

  /** Lowers the score by `points` (> 0); reports whether the peer is now banned. */
  penalize(peer: string, points: number): PenaltyOutcome {
    if (!(points > 0)) throw new RangeError(`a penalty must be positive, got ${points}`);
    const now = this.#clock();
    const record = this.#record(peer, now);
    this.#decay(record, now);
    record.score -= points;
    if (record.bannedUntil > now) return { score: record.score, banned: true, newlyBanned: false };
    if (record.score <= this.#options.banThreshold) {
      record.bannedUntil = now + this.#options.banDurationMs;
      return { score: record.score, banned: true, newlyBanned: true };
    }
    return { score: record.score, banned: false, newlyBanned: false };
  }

  /** Bans the peer for the ban duration regardless of score (wrong chain). */
  ban(peer: string): void {
    const now = this.#clock();
    this.#record(peer, now).bannedUntil = now + this.#options.banDurationMs;
  }

  /** True while the peer's ban lasts. */
  isBanned(peer: string): boolean {
    const record = this.#peers.get(peer);
    return record !== undefined && record.bannedUntil > this.#clock();
  }

  /** When the peer's ban ends (ms), or undefined when it is not banned. */
  bannedUntil(peer: string): number | undefined {
    const record = this.#peers.get(peer);
    return record !== undefined && record.bannedUntil > this.#clock() ? record.bannedUntil : undefined;
  }

  /** Lifts a ban and clears the score: an operator's explicit choice (addPeer). */
  forgive(peer: string): void {
    this.#peers.delete(peer);
  }

  /**
   * Takes one token from the peer's bucket `name` (a new bucket starts full); false means the peer is over
   * `rate` and the message must be dropped (the caller also penalizes it).
   */
  allow(peer: string, name: string, rate: RateLimit): boolean {
    const now = this.#clock();
    const record = this.#record(peer, now);
    let bucket = record.buckets.get(name);
    if (bucket === undefined) {
      bucket = new TokenBucket(rate, now);
      record.buckets.set(name, bucket);
    }
    return bucket.take(now);
  }

  /**
   * Forgets peers with nothing worth keeping (score back near 0 and not banned), so a stream of short-lived
   * peer ids cannot grow this map without bound. Returns how many were dropped.
   */
  prune(keep: (peer: string) => boolean = () => false): number {
    const now = this.#clock();
    let dropped = 0;
    for (const [peer, record] of this.#peers) {
      this.#decay(record, now);
      if (record.bannedUntil > now || record.score < -0.5 || keep(peer)) continue;
      this.#peers.delete(peer);
      dropped++;
    }
    return dropped;
  }

  #record(peer: string, now: number): PeerRecord {
    let record = this.#peers.get(peer);
    if (record === undefined) {
      record = { score: 0, scoredAt: now, bannedUntil: 0, buckets: new Map() };
      this.#peers.set(peer, record);
    }
    return record;
  }

  #decay(record: PeerRecord, now: number): void {
    const elapsed = now - record.scoredAt;
    if (elapsed <= 0) return;
    record.score *= 0.5 ** (elapsed / this.#options.decayHalfLifeMs);
    if (Math.abs(record.score) < 1e-3) record.score = 0;
    record.scoredAt = now;
  }
}
