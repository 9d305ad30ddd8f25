/**
 * Hostile peers against two honest PoS validator processes: each attacker (a real libp2p node in the test
 * process) sends one kind of bad traffic until the honest node disconnects and bans it, while the honest
 * nodes keep making blocks and include honest transactions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock, encodeHeader } from '../../src/codec/block.ts';
import { fromHex, toHex } from '../../src/codec/bytes.ts';
import { signTransaction } from '../../src/codec/transaction.ts';
import { keyPairFromSeed } from '../../src/crypto/ed25519.ts';
import type { ChainStatus, GossipKind, NetworkHandlers } from '../../src/p2p/interface.ts';
import { Libp2pNetwork } from '../../src/p2p/libp2pNetwork.ts';
import type { NetworkLimitOverrides } from '../../src/p2p/options.ts';
import { TxType } from '../../src/types/transaction.ts';
import { silentLogger } from '../helpers/fixtures.ts';
import { createTestNetwork, headOf, type NetNode, type TestNetwork } from '../helpers/network.ts';
import { rpc, rpcResult, sleep, waitFor } from '../helpers/process.ts';

let net: TestNetwork;
let honest: NetNode;
let genesisHash: Uint8Array;
const attackers: Libp2pNetwork[] = [];
let scratch: string;

function permissive(): NetworkHandlers {
  const status = (): ChainStatus => ({ genesisHash, headHash: genesisHash, headHeight: 0, headScore: 0n, finalizedHash: genesisHash, finalizedHeight: 0 });
  return {
    onGossip: async () => 'accept',
    status,
    blocksByRange: async () => [],
    blockByHash: async () => undefined,
    headersByRange: async () => [],
    blob: async () => new Uint8Array(0),
    onPeerStatus: () => undefined,
  };
}

/** A hostile node dialled into the honest node, subscribed and meshed. */
async function attacker(name: string, limits?: NetworkLimitOverrides): Promise<Libp2pNetwork> {
  const node = new Libp2pNetwork(
    { chainId: 'medchain-net', genesisHash, datadir: join(scratch, name), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], maxPeers: 8, limits },
    { handlers: permissive(), logger: silentLogger, clock: Date.now },
  );
  await node.start();
  attackers.push(node);
  await node.addPeer(honest.p2pAddress);
  await waitFor(`${name} connected`, async () => ((await honestPeers()).includes(node.peerId) ? true : undefined), 15_000, 100);
  // Let the subscriptions cross so gossip flows.
  await sleep(1500);
  return node;
}

function honestPeerId(): string {
  return honest.peerId;
}

async function honestPeers(): Promise<string[]> {
  return (await rpcResult<{ id: string }[]>(honest.rpcUrl, 'net_peers')).map((p) => p.id);
}

/** Sends `messages` until the honest node drops the attacker; returns how many it took. */
async function untilDropped(node: Libp2pNetwork, kind: GossipKind, messages: () => Uint8Array, maxMessages = 20_000, batch = 20): Promise<number> {
  let sent = 0;
  while (sent < maxMessages) {
    const burst = Array.from({ length: batch }, () => messages());
    sent += batch;
    await Promise.all(burst.map((m) => node.publish(kind, m).catch(() => undefined)));
    if (!(await honestPeers()).includes(node.peerId)) return sent;
    await sleep(20);
  }
  throw new Error(`the honest node still keeps the attacker after ${sent} ${kind} messages`);
}

async function expectBanned(node: Libp2pNetwork): Promise<void> {
  await node.addPeer(honest.p2pAddress).catch(() => undefined);
  await sleep(1000);
  expect(await honestPeers()).not.toContain(node.peerId);
}

let counter = 0;
/** A distinct key per call. */
function freshKey() {
  const seed = new Uint8Array(32).fill(7);
  new DataView(seed.buffer).setUint32(0, ++counter);
  return keyPairFromSeed(seed);
}

describe('hostile peers', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'medchain-adversary-'));
    net = await createTestNetwork({ validators: 2, engine: 'pos' });
    await Promise.all(net.nodes.map((n) => net.start(n)));
    honest = net.nodes[0]!;
    genesisHash = fromHex((await rpcResult<{ header: { hash: string } }>(honest.rpcUrl, 'chain_getBlock', [0])).header.hash)!;
    await waitFor('height 3', async () => ((await headOf(honest)).height >= 3 ? true : undefined), 30_000, 200);
  }, 60_000);

  afterAll(async () => {
    for (const a of attackers) await a.stop().catch(() => undefined);
    await net?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('disconnects and bans a peer that sends garbage bytes', async () => {
    const node = await attacker('garbage');
    const sent = await untilDropped(node, 'block', () => crypto.getRandomValues(new Uint8Array(200)));
    expect(sent).toBeGreaterThan(0);
    await expectBanned(node);
  }, 60_000);

  it('disconnects a peer that sends transactions with invalid signatures', async () => {
    const node = await attacker('badsig');
    const sent = await untilDropped(node, 'tx', () => {
      const key = freshKey();
      const tx = signTransaction({ chainId: 'medchain-net', sender: key.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'patient' } }, key.secretKey);
      const bytes = new Uint8Array(tx.bytes);
      bytes[bytes.length - 1]! ^= 1;
      return bytes;
    });
    expect(sent).toBeGreaterThan(0);
    await expectBanned(node);
  }, 60_000);

  it('disconnects a peer that sends blocks with invalid seals', async () => {
    const node = await attacker('badseal');
    // A real block (fetched over req/resp) with its seal, the proposer's signature, broken: its parent is known.
    const tip = await fetchBlockBytes(node, (await headOf(honest)).height);
    let n = 0;
    const sent = await untilDropped(node, 'block', () => {
      const block = decodeBlock(tip);
      const seal = new Uint8Array(block.header.seal);
      seal[(n++ % 60) + 2]! ^= 1;
      return encodeBlock(encodeHeader({ ...block.header, seal }), block.transactions.map((t) => t.bytes));
    });
    expect(sent).toBeGreaterThan(0);
    await expectBanned(node);
  }, 60_000);

  it('disconnects a peer that sends oversize messages', async () => {
    // The attacker lifts its own size limit; the honest node's is 1 KiB for a vote.
    const node = await attacker('oversize', { maxGossipBytes: { vote: 64 * 1024 } });
    const sent = await untilDropped(node, 'vote', () => crypto.getRandomValues(new Uint8Array(8 * 1024)));
    expect(sent).toBeGreaterThan(0);
    await expectBanned(node);
  }, 60_000);

  it('disconnects a peer that floods validly signed transactions, and honest transactions still get in', async () => {
    const node = await attacker('flood');
    // Distinct messages: gossipsub drops repeats before validation, so only new ones count against the rate.
    const pre = Array.from({ length: 30_000 }, () => {
      const key = freshKey();
      return signTransaction({ chainId: 'medchain-net', sender: key.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'doctor' } }, key.secretKey).bytes;
    });
    let i = 0;
    // Faster than the 2,000/s a peer may send (bursts of 1,000 without waiting).
    const sent = await untilDropped(node, 'tx', () => pre[i++]!, 30_000, 3000);
    expect(sent).toBeGreaterThan(0);
    await expectBanned(node);
    // The honest node relayed what it accepted to its honest peer without being taken for a flooder.
    await sleep(2000);
    const [a, b] = net.nodes as [NetNode, NetNode];
    expect((await rpcResult<{ id: string }[]>(b.rpcUrl, 'net_peers')).map((p) => p.id)).toContain(a.peerId);
    expect((await rpcResult<{ id: string }[]>(a.rpcUrl, 'net_peers')).map((p) => p.id)).toContain(b.peerId);
  }, 90_000);

  it('the honest nodes kept making blocks and include an honest transaction', async () => {
    const before = (await headOf(honest)).height;
    const patient = keyPairFromSeed(new Uint8Array(32).fill(99));
    const tx = signTransaction({ chainId: 'medchain-net', sender: patient.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'patient' } }, patient.secretKey);
    expect((await rpc(net.nodes[1]!.rpcUrl, 'tx_submit', [toHex(tx.bytes)])).error).toBeUndefined();
    for (const n of net.nodes) {
      await waitFor(`inclusion on ${n.name}`, async () => ((await rpcResult<{ status: string }>(n.rpcUrl, 'tx_get', [toHex(tx.id)])).status === 'included' ? true : undefined), 30_000, 200);
    }
    expect((await headOf(honest)).height).toBeGreaterThan(before);
    const metrics = await (await fetch(honest.rpcUrl.replace('/rpc', '/metrics'))).text();
    expect(metrics).toMatch(/^medchain_gossip_messages_total\{topic="block",verdict="reject"\} [1-9]/m);
  }, 60_000);
});

/** A canonical block's wire bytes, asked of the honest node over blocks_by_range. */
async function fetchBlockBytes(node: Libp2pNetwork, height: number): Promise<Uint8Array> {
  const [bytes] = await node.requestBlocksByRange(honestPeerId(), height, 1);
  if (bytes === undefined) throw new Error(`no block ${height}`);
  return bytes;
}
