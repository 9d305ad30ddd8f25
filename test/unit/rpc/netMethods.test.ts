import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import type { RpcContext } from '../../../src/rpc/method.ts';
import { netMethods, peerIdOfMultiaddr } from '../../../src/rpc/methods/netMethods.ts';
import type { SyncState } from '../../../src/rpc/methods/nodeApi.ts';
import type { ChainStatus, GossipKind, Network, PeerInfo } from '../../../src/p2p/interface.ts';
import { silentLogger } from '../../helpers/fixtures.ts';

/**
 * An in-memory Network for the RPC layer only: peers are a map, dials succeed unless the address is listed as
 * unreachable, removePeer bans until addPeer. The real implementation has its own tests.
 */
class FakeNetwork implements Network {
  readonly peerId: string;
  readonly addresses: readonly string[];
  readonly connected = new Map<string, PeerInfo>();
  readonly banned = new Set<string>();
  readonly unreachable = new Set<string>();
  readonly calls: string[] = [];

  constructor(peerId: string) {
    this.peerId = peerId;
    this.addresses = [`/ip4/127.0.0.1/tcp/30333/p2p/${peerId}`];
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(_kind: GossipKind, _data: Uint8Array): Promise<void> {}
  async requestStatus(): Promise<ChainStatus> {
    throw new Error('not used by the RPC layer');
  }
  async requestBlocksByRange(): Promise<Uint8Array[]> {
    return [];
  }
  async requestBlockByHash(): Promise<Uint8Array | undefined> {
    return undefined;
  }
  async requestHeadersByRange(): Promise<Uint8Array[]> {
    return [];
  }
  async requestBlob(): Promise<Uint8Array> {
    return new Uint8Array(0);
  }
  peers(): PeerInfo[] {
    return [...this.connected.values()];
  }
  async addPeer(multiaddr: string): Promise<string> {
    this.calls.push(`add ${multiaddr}`);
    if (this.unreachable.has(multiaddr)) throw new Error('connect ECONNREFUSED 10.0.0.9:30333');
    const id = multiaddr.split('/p2p/')[1]!;
    this.banned.delete(id);
    this.connected.set(id, { id, addresses: [multiaddr.split('/p2p/')[0]!], direction: 'outbound', score: 0, status: undefined });
    return id;
  }
  async removePeer(peerId: string): Promise<void> {
    this.calls.push(`remove ${peerId}`);
    this.connected.delete(peerId);
    this.banned.add(peerId);
  }
  penalize(): void {}
}

async function newPeerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
}

const ADMIN: RpcContext = { admin: true, transport: 'internal' };
const PUBLIC: RpcContext = { admin: false, transport: 'internal' };

interface Answer {
  result?: any;
  error?: { code: number; message: string; data: { reason: string; [key: string]: unknown } };
}

function rpcOver(api: Parameters<typeof netMethods>[0]) {
  const dispatcher = createDispatcher(netMethods(api), { logger: silentLogger, validateResults: true });
  let id = 0;
  return {
    dispatcher,
    async call(method: string, params: unknown, ctx: RpcContext = PUBLIC): Promise<Answer> {
      const text = await dispatcher.handle(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }), ctx);
      return JSON.parse(text!) as Answer;
    },
  };
}

describe('net_ and admin_ peer methods', () => {
  let self: string;
  let other: string;
  let third: string;
  beforeAll(async () => {
    [self, other, third] = await Promise.all([newPeerId(), newPeerId(), newPeerId()]);
  });

  it('net_peers lists peers sorted by id, with status as hex and decimal strings; net_info names our identity', async () => {
    const network = new FakeNetwork(self);
    const status: ChainStatus = {
      genesisHash: new Uint8Array(32).fill(1),
      headHash: new Uint8Array(32).fill(0xab),
      headHeight: 42,
      headScore: 2n ** 70n,
      finalizedHash: new Uint8Array(32).fill(0xcd),
      finalizedHeight: 40,
    };
    const [first, second] = [other, third].sort();
    network.connected.set(second!, { id: second!, addresses: ['/ip4/10.0.0.3/tcp/30333'], direction: 'inbound', score: -12.5, status });
    network.connected.set(first!, { id: first!, addresses: [], direction: 'outbound', score: Number.NEGATIVE_INFINITY, status: undefined });
    const { call } = rpcOver({ network });

    const peers = (await call('net_peers', [])).result;
    expect(peers).toEqual([
      { id: first, addresses: [], direction: 'outbound', score: null, head: null, finalized: null },
      {
        id: second,
        addresses: ['/ip4/10.0.0.3/tcp/30333'],
        direction: 'inbound',
        score: -12.5,
        head: { height: 42, hash: 'ab'.repeat(32), score: (2n ** 70n).toString() },
        finalized: { height: 40, hash: 'cd'.repeat(32) },
      },
    ]);
    expect((await call('net_info', [])).result).toEqual({ enabled: true, peerId: self, addresses: network.addresses, peers: 2 });
  });

  it('without p2p: no peers, not syncing, and the admin methods answer P2P_DISABLED', async () => {
    const { call } = rpcOver({});
    expect((await call('net_peers', [])).result).toEqual([]);
    expect((await call('net_info', [])).result).toEqual({ enabled: false, peerId: null, addresses: [], peers: 0 });
    expect((await call('node_syncing', [])).result).toBe(false);
    const add = await call('admin_addPeer', [`/ip4/127.0.0.1/tcp/30334/p2p/${other}`], ADMIN);
    expect(add.error).toMatchObject({ code: -32030, data: { reason: 'P2P_DISABLED' } });
    expect(add.error!.message).toContain('--no-p2p');
    expect((await call('admin_removePeer', [other], ADMIN)).error).toMatchObject({ code: -32030, data: { reason: 'P2P_DISABLED' } });
  });

  it('node_syncing is false when synced and reports progress while syncing', async () => {
    let state: SyncState = { syncing: false, startingHeight: 0, currentHeight: 10, highestHeight: 10 };
    const { call } = rpcOver({ sync: { state: () => state } });
    expect((await call('node_syncing', [])).result).toBe(false);
    state = { syncing: true, startingHeight: 3, currentHeight: 10, highestHeight: 200 };
    expect((await call('node_syncing', [])).result).toEqual({ startingHeight: 3, currentHeight: 10, highestHeight: 200 });
  });

  it('admin_addPeer dials, returns the peer id and lifts a removal; admin_removePeer disconnects and bans', async () => {
    const network = new FakeNetwork(self);
    const { call } = rpcOver({ network });
    const address = `/dns4/hospital-b/tcp/30333/p2p/${other}`;

    expect((await call('admin_addPeer', { multiaddr: address }, ADMIN)).result).toEqual({ peerId: other });
    expect(network.connected.has(other)).toBe(true);
    expect((await call('admin_removePeer', { peerId: other }, ADMIN)).result).toBe(true);
    expect(network.connected.has(other)).toBe(false);
    expect(network.banned.has(other)).toBe(true);
    expect((await call('admin_addPeer', [address], ADMIN)).result).toEqual({ peerId: other });
    expect(network.banned.has(other)).toBe(false);
    // A peer that is not connected can be refused in advance.
    expect((await call('admin_removePeer', [third], ADMIN)).result).toBe(true);
    expect(network.banned.has(third)).toBe(true);
  });

  it('admin methods need the admin token', async () => {
    const network = new FakeNetwork(self);
    const { call } = rpcOver({ network });
    expect((await call('admin_addPeer', [`/ip4/127.0.0.1/tcp/1/p2p/${other}`])).error).toMatchObject({ code: -32000, data: { reason: 'UNAUTHORIZED' } });
    expect((await call('admin_removePeer', [other])).error).toMatchObject({ code: -32000, data: { reason: 'UNAUTHORIZED' } });
    expect(network.calls).toEqual([]);
  });

  it('refuses bad multiaddrs and peer ids with INVALID_PARAMS naming what is wrong, before touching the network', async () => {
    const network = new FakeNetwork(self);
    const { call } = rpcOver({ network });
    const refused = async (method: string, params: unknown, pattern: RegExp): Promise<void> => {
      const answer = await call(method, params, ADMIN);
      expect(answer.error, `${method} ${JSON.stringify(params)}`).toMatchObject({ code: -32602, data: { reason: 'INVALID_PARAMS' } });
      expect(answer.error!.message).toMatch(pattern);
    };
    await refused('admin_addPeer', ['hospital-b:30333'], /"multiaddr".*must match pattern/);
    await refused('admin_addPeer', [`/ip4/999.0.0.1/tcp/30333/p2p/${other}`], /"multiaddr" is not a valid multiaddr: Invalid IPv4 address "999.0.0.1"/);
    await refused('admin_addPeer', [`/ip4/10.0.0.1/tcp/port/p2p/${other}`], /"multiaddr" is not a valid multiaddr/);
    await refused('admin_addPeer', ['/ip4/10.0.0.1/tcp/30333'], /must end with \/p2p\/<peer id>/);
    await refused('admin_addPeer', [`/ip4/10.0.0.1/tcp/30333/p2p/${other}/p2p/${third}`], /must end with \/p2p\/<peer id> \(exactly one\)/);
    await refused('admin_addPeer', [`/ip4/10.0.0.1/udp/30333/p2p/${other}`], /must name a TCP port/);
    await refused('admin_addPeer', [`/ip4/10.0.0.1/tcp/30333/p2p/${self}`], /this node's own peer id/);
    await refused('admin_addPeer', [`/ip4/10.0.0.1/tcp/30333/p2p/${'x'.repeat(1100)}`], /"multiaddr" must not have more than 1024 characters/);
    await refused('admin_addPeer', [], /missing required param "multiaddr"/);
    await refused('admin_addPeer', [42], /"multiaddr".*string/);
    await refused('admin_removePeer', ['not a peer id'], /"peerId".*must match pattern/);
    await refused('admin_removePeer', ['12D3KooWshort'], /"peerId" is not a valid libp2p peer id/);
    await refused('admin_removePeer', [`${other}x`], /"peerId" is not a valid libp2p peer id/);
    await refused('admin_removePeer', [self], /this node's own peer id/);
    await refused('admin_removePeer', { peer: other }, /unknown param "peer"/);
    expect(network.calls).toEqual([]);
  });

  it('a dial that fails is PEER_DIAL_FAILED with the reason and the address', async () => {
    const network = new FakeNetwork(self);
    const address = `/ip4/10.0.0.9/tcp/30333/p2p/${other}`;
    network.unreachable.add(address);
    const { call } = rpcOver({ network });
    const answer = await call('admin_addPeer', [address], ADMIN);
    expect(answer.error).toMatchObject({ code: -32031, data: { reason: 'PEER_DIAL_FAILED', peerId: other, multiaddr: address } });
    expect(answer.error!.message).toBe(`Could not connect to ${address}: connect ECONNREFUSED 10.0.0.9:30333`);
  });

  it('peerIdOfMultiaddr returns the canonical peer id', () => {
    expect(peerIdOfMultiaddr(`/ip4/127.0.0.1/tcp/30333/p2p/${other}`)).toBe(other);
  });

  it('the OpenRPC document describes the methods, their admin tag and their errors', () => {
    const { dispatcher } = rpcOver({});
    const byName = new Map(dispatcher.document.methods.map((m) => [m.name, m]));
    expect([...byName.keys()]).toEqual(['net_info', 'net_peers', 'node_syncing', 'admin_addPeer', 'admin_removePeer', 'rpc.discover']);
    const add = byName.get('admin_addPeer')!;
    expect(add.tags).toEqual([{ name: 'admin' }]);
    expect(add.errors!.map((e) => e.data.reason)).toEqual(['P2P_DISABLED', 'PEER_DIAL_FAILED', 'UNAUTHORIZED', 'INVALID_PARAMS']);
    expect(add.params[0]).toMatchObject({ name: 'multiaddr', required: true, schema: { type: 'string', pattern: '^/' } });
    expect(byName.get('net_peers')!.tags).toBeUndefined();
    for (const method of byName.values()) expect(method.summary.length).toBeGreaterThan(20);
  });
});
