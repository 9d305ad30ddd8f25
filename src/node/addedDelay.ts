import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkHandlers } from '../p2p/interface.ts';

/** The most a node may hold back each inbound message (p2p.addedDelayMs). */
export const MAX_ADDED_DELAY_MS = 10_000;

/**
 * The consensus lab's network latency (issue 7): every gossip message and every request this node receives
 * waits `delayMs` before it is handled, as if the link were that much longer. Gossipsub forwards a message
 * only after the node's verdict, so each hop adds the delay, as a real wide-area hop would. Status answers
 * (read synchronously) are not delayed. This machine has no netem, hence a delay in the node; 0 (the
 * default) returns the handlers unchanged, so a production node pays nothing.
 */
export function withAddedDelay(handlers: NetworkHandlers, delayMs: number): NetworkHandlers {
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_ADDED_DELAY_MS) {
    throw new RangeError(`the added delay must be an integer from 0 to ${MAX_ADDED_DELAY_MS} ms, got ${delayMs}`);
  }
  if (delayMs === 0) return handlers;
  return {
    status: () => handlers.status(),
    onPeerStatus: (peer, status) => handlers.onPeerStatus(peer, status),
    onGossip: async (kind, data, from) => {
      await sleep(delayMs);
      return handlers.onGossip(kind, data, from);
    },
    blocksByRange: async (start, count) => {
      await sleep(delayMs);
      return handlers.blocksByRange(start, count);
    },
    blockByHash: async (hash) => {
      await sleep(delayMs);
      return handlers.blockByHash(hash);
    },
    headersByRange: async (start, count) => {
      await sleep(delayMs);
      return handlers.headersByRange(start, count);
    },
    blob: async (request, from) => {
      await sleep(delayMs);
      return handlers.blob(request, from);
    },
  };
}
