import Type from 'typebox';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { defineMethod, type RpcMethod } from '../method.ts';
import { defineRpcError, RpcError, RpcErrors } from '../errors.ts';
import { toHex } from '../../codec/bytes.ts';
import type { Network, PeerInfo } from '../../p2p/interface.ts';
import { HexString } from './json.ts';
import type { NodeApi } from './nodeApi.ts';

/** -32030: the node runs without p2p (`--no-p2p` or `[p2p] enabled = false`), so there are no peers to manage. */
export const P2P_DISABLED = defineRpcError(-32030, 'P2P_DISABLED', 'This node runs without p2p networking');
/** -32031: the multiaddr was valid but the peer could not be reached or refused the connection. */
export const PEER_DIAL_FAILED = defineRpcError(-32031, 'PEER_DIAL_FAILED', 'Could not connect to the peer');

const MAX_MULTIADDR_LENGTH = 1024;
const BASE58 = '[1-9A-HJ-NP-Za-km-z]';

const PeerIdParam = Type.String({
  pattern: `^${BASE58}{1,128}$`,
  description: 'a libp2p peer id in base58, e.g. 12D3KooW...',
});

const MultiaddrParam = Type.String({
  minLength: 2,
  maxLength: MAX_MULTIADDR_LENGTH,
  pattern: '^/',
  description: 'a multiaddr ending in /p2p/<peer id>, e.g. /ip4/10.0.0.2/tcp/30333/p2p/12D3KooW... or /dns4/hospital-b/tcp/30333/p2p/12D3KooW...',
});

const PeerJson = Type.Object({
  id: Type.String({ description: 'libp2p peer id (base58)' }),
  addresses: Type.Array(Type.String(), { description: "the peer's known multiaddrs" }),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')], { description: 'who opened the connection' }),
  score: Type.Union([Type.Number(), Type.Null()], {
    description: 'our score of the peer: 0 is neutral, rejected gossip and bad responses lower it; null if not a finite number',
  }),
  head: Type.Union(
    [
      Type.Object({
        height: Type.Integer({ minimum: 0 }),
        hash: HexString,
        score: Type.String({ pattern: '^[0-9]+$', description: 'fork-choice score (PoW: total work) as a decimal string' }),
      }),
      Type.Null(),
    ],
    { description: "the peer's head from its last status message; null until it sent one" },
  ),
  finalized: Type.Union([Type.Object({ height: Type.Integer({ minimum: 0 }), hash: HexString }), Type.Null()], {
    description: "the peer's latest finalized block; null until it sent a status",
  }),
});

const SyncingJson = Type.Union(
  [
    Type.Literal(false, { description: 'not syncing: the head is as high as any peer reported' }),
    Type.Object(
      {
        startingHeight: Type.Integer({ minimum: 0, description: 'our head height when this sync began' }),
        currentHeight: Type.Integer({ minimum: 0, description: 'our head height now' }),
        highestHeight: Type.Integer({ minimum: 0, description: 'the highest head a peer reported' }),
      },
      { description: 'syncing, with progress' },
    ),
  ],
  { description: 'false when synced, else the sync progress (the shape of eth_syncing)' },
);

function peerToJson(peer: PeerInfo): Type.Static<typeof PeerJson> {
  const status = peer.status;
  return {
    id: peer.id,
    addresses: [...peer.addresses],
    direction: peer.direction,
    score: Number.isFinite(peer.score) ? peer.score : null,
    head: status === undefined ? null : { height: status.headHeight, hash: toHex(status.headHash), score: status.headScore.toString() },
    finalized: status === undefined ? null : { height: status.finalizedHeight, hash: toHex(status.finalizedHash) },
  };
}

function requireNetwork(network: Network | undefined): Network {
  if (network === undefined) {
    throw new RpcError(P2P_DISABLED, 'This node runs without p2p networking (--no-p2p or [p2p] enabled = false); restart it with p2p to manage peers');
  }
  return network;
}

function invalidParam(param: string, message: string): RpcError {
  return new RpcError(RpcErrors.INVALID_PARAMS, `Invalid params: "${param}" ${message}`, { param });
}

/** The peer id a multiaddr names in its /p2p/ part; an RpcError naming what is wrong otherwise. */
export function peerIdOfMultiaddr(text: string): string {
  let components: { name: string; value?: string }[];
  try {
    components = multiaddr(text).getComponents();
  } catch (error) {
    throw invalidParam('multiaddr', `is not a valid multiaddr: ${(error as Error).message}`);
  }
  const p2p = components.filter((c) => c.name === 'p2p');
  const last = components.at(-1);
  if (p2p.length !== 1 || last?.name !== 'p2p' || last.value === undefined) {
    throw invalidParam('multiaddr', 'must end with /p2p/<peer id> (exactly one), so the node knows whom it dials; e.g. /ip4/10.0.0.2/tcp/30333/p2p/12D3KooW...');
  }
  if (!components.some((c) => c.name === 'tcp')) {
    throw invalidParam('multiaddr', 'must name a TCP port (/tcp/<port>), the only transport medchain nodes listen on');
  }
  return checkPeerId('multiaddr', last.value);
}

function checkPeerId(param: string, text: string): string {
  try {
    return peerIdFromString(text).toString();
  } catch (error) {
    throw invalidParam(param, `is not a valid libp2p peer id: ${(error as Error).message}`);
  }
}

/** net_ methods, node_syncing, and the admin_ methods that add and remove peers. */
export function netMethods(api: Pick<NodeApi, 'network' | 'sync'>): RpcMethod[] {
  const { network, sync } = api;
  return [
    defineMethod({
      name: 'net_info',
      summary: "This node's p2p identity: whether p2p runs, its peer id, the addresses other nodes can bootstrap from, and its peer count.",
      params: [],
      result: {
        name: 'netInfo',
        schema: Type.Object({
          enabled: Type.Boolean({ description: 'false when the node runs without p2p' }),
          peerId: Type.Union([Type.String(), Type.Null()], { description: 'libp2p peer id (base58); null without p2p' }),
          addresses: Type.Array(Type.String(), { description: 'listen multiaddrs with /p2p/<peer id>, for other nodes\' bootstrap lists' }),
          peers: Type.Integer({ minimum: 0, description: 'connected peers' }),
        }),
      },
      handler: () =>
        network === undefined
          ? { enabled: false, peerId: null, addresses: [], peers: 0 }
          : { enabled: true, peerId: network.peerId, addresses: [...network.addresses], peers: network.peers().length },
    }),
    defineMethod({
      name: 'net_peers',
      summary: 'The connected peers: id, addresses, direction, our score of each, and their head and finalized block when known.',
      description: 'Sorted by peer id. Empty when the node runs without p2p.',
      params: [],
      result: { name: 'peers', schema: Type.Array(PeerJson) },
      handler: () => (network === undefined ? [] : network.peers().map(peerToJson).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))),
    }),
    defineMethod({
      name: 'node_syncing',
      summary: 'false when the node is synced with its peers, else {startingHeight, currentHeight, highestHeight}.',
      description: 'The shape of eth_syncing, with heights as integers. Always false on a node without p2p.',
      params: [],
      result: { name: 'syncing', schema: SyncingJson },
      handler: () => {
        const state = sync?.state();
        if (state === undefined || !state.syncing) return false as const;
        return { startingHeight: state.startingHeight, currentHeight: state.currentHeight, highestHeight: state.highestHeight };
      },
    }),
    defineMethod({
      name: 'admin_addPeer',
      summary: 'Connects to a peer and keeps it as a peer (redialled while disconnected); lifts a removal made by admin_removePeer.',
      description: 'Needs the admin token. Answers once the connection is open, or with PEER_DIAL_FAILED naming why it could not be.',
      admin: true,
      params: [{ name: 'multiaddr', schema: MultiaddrParam, description: "the peer's address, ending in /p2p/<peer id>" }],
      result: { name: 'added', schema: Type.Object({ peerId: Type.String({ description: 'the peer id dialled' }) }) },
      errors: [P2P_DISABLED, PEER_DIAL_FAILED],
      handler: async ({ multiaddr: address }) => {
        const net = requireNetwork(network);
        const peerId = peerIdOfMultiaddr(address);
        if (peerId === net.peerId) throw invalidParam('multiaddr', "names this node's own peer id; give another node's address");
        try {
          return { peerId: await net.addPeer(address) };
        } catch (error) {
          // Dial failures come in many shapes (refused, timed out, handshake failed, wrong peer id at that
          // address); the caller gets the network's own explanation.
          throw new RpcError(PEER_DIAL_FAILED, `Could not connect to ${address}: ${(error as Error).message}`, { peerId, multiaddr: address });
        }
      },
    }),
    defineMethod({
      name: 'admin_removePeer',
      summary: 'Disconnects a peer and refuses it (inbound and outbound) until admin_addPeer adds it again.',
      description: 'Needs the admin token. A peer id that is not connected is refused in advance; the answer is true either way.',
      admin: true,
      params: [{ name: 'peerId', schema: PeerIdParam, description: 'the libp2p peer id, as net_peers lists it' }],
      result: { name: 'removed', schema: Type.Literal(true) },
      errors: [P2P_DISABLED],
      handler: async ({ peerId }) => {
        const net = requireNetwork(network);
        const id = checkPeerId('peerId', peerId);
        if (id === net.peerId) throw invalidParam('peerId', "is this node's own peer id");
        await net.removePeer(id);
        return true as const;
      },
    }),
  ];
}
