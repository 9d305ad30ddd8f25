import { describe, expect, it } from 'vitest';
import type { NetworkHandlers } from '../../../src/p2p/interface.ts';
import { MAX_ADDED_DELAY_MS, withAddedDelay } from '../../../src/node/addedDelay.ts';
import { resolveConfig } from '../../../src/node/config.ts';

const status = { genesisHash: new Uint8Array(32), headHash: new Uint8Array(32), headHeight: 0, headScore: 0n, finalizedHash: new Uint8Array(32), finalizedHeight: 0 };

function recordingHandlers(calls: string[]): NetworkHandlers {
  return {
    status: () => status,
    onPeerStatus: (peer) => void calls.push(`status ${peer}`),
    onGossip: async (kind, data, from) => (calls.push(`gossip ${kind} ${data.length} ${from}`), 'accept'),
    blocksByRange: async (start, count) => (calls.push(`range ${start} ${count}`), [new Uint8Array([1])]),
    blockByHash: async () => (calls.push('hash'), new Uint8Array([2])),
    headersByRange: async (start, count) => (calls.push(`headers ${start} ${count}`), [new Uint8Array([4])]),
    blob: async (request, from) => (calls.push(`blob ${request.length} ${from}`), new Uint8Array([3])),
  };
}

describe('withAddedDelay', () => {
  it('returns the handlers themselves when the delay is 0', () => {
    const handlers = recordingHandlers([]);
    expect(withAddedDelay(handlers, 0)).toBe(handlers);
  });

  it('holds every gossip message and request back by the delay, then hands it on unchanged', async () => {
    const calls: string[] = [];
    const delayed = withAddedDelay(recordingHandlers(calls), 60);
    const started = performance.now();
    const [verdict, range, block, blob, headers] = await Promise.all([
      delayed.onGossip('tx', new Uint8Array(5), 'peer-a'),
      delayed.blocksByRange(7, 3),
      delayed.blockByHash(new Uint8Array(32)),
      delayed.blob(new Uint8Array(9), 'peer-b'),
      delayed.headersByRange(2, 8),
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect([verdict, range, block, blob, headers]).toEqual(['accept', [new Uint8Array([1])], new Uint8Array([2]), new Uint8Array([3]), [new Uint8Array([4])]]);
    expect(calls.sort()).toEqual(['blob 9 peer-b', 'gossip tx 5 peer-a', 'hash', 'headers 2 8', 'range 7 3']);
  });

  it('answers status at once (it is read synchronously)', () => {
    const calls: string[] = [];
    const delayed = withAddedDelay(recordingHandlers(calls), 1000);
    expect(delayed.status()).toBe(status);
    delayed.onPeerStatus('p', status);
    expect(calls).toEqual(['status p']);
  });

  it('refuses a delay that is negative, fractional or too long', () => {
    for (const bad of [-1, 1.5, MAX_ADDED_DELAY_MS + 1]) expect(() => withAddedDelay(recordingHandlers([]), bad)).toThrow(/added delay/);
  });

  it('is set by p2p.addedDelayMs, which names itself when out of range', () => {
    const config = (value: unknown) => resolveConfig([{ source: 'command line', values: { 'p2p.addedDelayMs': value } }], '/tmp/medchain-delay');
    expect(config('250').p2p.addedDelayMs).toBe(250);
    expect(resolveConfig([], '/tmp/medchain-delay').p2p.addedDelayMs).toBe(0);
    expect(() => config('20000')).toThrow(/command line: p2p.addedDelayMs must be at most 10000/);
    expect(() => config('-5')).toThrow(/p2p.addedDelayMs must be a non-negative integer/);
  });
});
