import type { GossipKind } from './interface.ts';
import { CHAIN_ID_PATTERN } from '../types/primitives.ts';

/**
 * Names on the wire. Every topic and protocol carries the chain id, so nodes of different chains never
 * exchange a message even when they meet, and a version, so a format change is a new name that old and new
 * nodes can serve side by side during an upgrade.
 */

export const GOSSIP_KINDS: readonly GossipKind[] = ['tx', 'block', 'vote'];

/** Version of each gossip topic's payload format. */
const GOSSIP_VERSION = 1;

/** The request/response protocols and the version of each one's request and response format. */
export const ReqRespProtocol = {
  Status: 'status',
  BlocksByRange: 'blocks_by_range',
  BlockByHash: 'block_by_hash',
  HeadersByRange: 'headers_by_range',
  Blob: 'blob',
} as const;
export type ReqRespProtocol = (typeof ReqRespProtocol)[keyof typeof ReqRespProtocol];

const REQRESP_VERSION: Record<ReqRespProtocol, number> = {
  status: 1,
  blocks_by_range: 1,
  block_by_hash: 1,
  headers_by_range: 1,
  blob: 1,
};

function checkChainId(chainId: string): void {
  if (!CHAIN_ID_PATTERN.test(chainId)) {
    throw new RangeError(`chain id "${chainId}" must match ${CHAIN_ID_PATTERN} (it becomes part of topic and protocol names)`);
  }
}

/** The gossipsub topic of one kind of message, e.g. `/medchain/medchain-dev/tx/1`. */
export function gossipTopic(chainId: string, kind: GossipKind): string {
  checkChainId(chainId);
  return `/medchain/${chainId}/${kind}/${GOSSIP_VERSION}`;
}

/** The libp2p protocol id of a request/response protocol, e.g. `/medchain/medchain-dev/status/1`. */
export function reqRespProtocolId(chainId: string, protocol: ReqRespProtocol): string {
  checkChainId(chainId);
  return `/medchain/${chainId}/${protocol}/${REQRESP_VERSION[protocol]}`;
}

/** All topics of a chain, keyed by topic string: what the node subscribes to and accepts. */
export function gossipTopics(chainId: string): Map<string, GossipKind> {
  return new Map(GOSSIP_KINDS.map((kind) => [gossipTopic(chainId, kind), kind]));
}
