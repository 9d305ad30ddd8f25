import { stat } from 'node:fs/promises';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import * as lp from 'it-length-prefixed';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { CHAIN_ID, Harness, connected, hasLine, waitFor, type TestNode } from '../unit/p2p/netHarness.ts';
import { ToyChain } from '../unit/p2p/toyChain.ts';
import { fromUtf8, utf8 } from '../../src/codec/bytes.ts';
import { encodeCanonical } from '../../src/codec/canonical.ts';
import { ReqRespError, ReqRespErrorCode } from '../../src/p2p/errors.ts';
import { peerKeyPath } from '../../src/p2p/peerKey.ts';
import { reqRespProtocolId } from '../../src/p2p/protocols.ts';

const harness = new Harness();
const rawNodes: Libp2p[] = [];
afterEach(async () => {
  await Promise.all(rawNodes.splice(0).map((node) => node.stop()));
  await harness.stopAll();
});

/** A plain libp2p node (no medchain code): plays a peer that breaks the protocols. */
async function rawNode(): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
  rawNodes.push(node);
  return node;
}

async function readAll(stream: Stream): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const frame of lp.decode(stream)) frames.push(frame.subarray());
  return frames;
}

/** A, B, C connected in a line (A–B–C) with gossip subscriptions known on both sides of each link. */
/** Opens `protocol` from `raw` to `to`, sends one length-prefixed request and closes the writing side. */
async function sendRequest(raw: Libp2p, to: PeerId, protocol: string, request: Uint8Array): Promise<Stream> {
  const stream = await raw.dialProtocol(to, protocol);
  stream.send(lp.encode.single(request));
  await stream.close();
  return stream;
}

async function line(): Promise<[TestNode, TestNode, TestNode]> {
  const a = await harness.start();
  const b = await harness.start();
  const c = await harness.start();
  await b.net.addPeer(a.net.addresses[0]!);
  await c.net.addPeer(b.net.addresses[0]!);
  await waitFor(
    () =>
      a.net.topicPeers('tx').includes(b.net.peerId) &&
      b.net.topicPeers('tx').length === 2 &&
      c.net.topicPeers('tx').includes(b.net.peerId),
    'gossip subscriptions along the line',
  );
  return [a, b, c];
}

/** Waits for A and B to be apart, then checks they stay apart for a while (no reconnection slips through). */
async function stayDisconnected(a: TestNode, b: TestNode): Promise<void> {
  await waitFor(() => !connected(a, b) && !connected(b, a), 'disconnection');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(connected(a, b) || connected(b, a)).toBe(false);
}

async function expectReqRespError(promise: Promise<unknown>, code: ReqRespErrorCode, message: RegExp): Promise<ReqRespError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ReqRespError);
  expect((error as ReqRespError).code).toBe(code);
  expect((error as ReqRespError).message).toMatch(message);
  return error as ReqRespError;
}

describe('Libp2pNetwork: connections and status', () => {
  it('exchanges statuses on connect, both ways, and reports peers', async () => {
    const a = await harness.start();
    const b = await harness.start();
    a.chain.extend(5);
    expect(a.net.addresses[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.net.peerId}$`));
    expect(await b.net.addPeer(a.net.addresses[0]!)).toBe(a.net.peerId);
    await waitFor(() => b.net.peers()[0]?.status !== undefined && a.net.peers()[0]?.status !== undefined, 'statuses both ways');
    expect(b.net.peers()).toEqual([
      expect.objectContaining({ id: a.net.peerId, direction: 'outbound', score: 0, status: expect.objectContaining({ headHeight: 5, headScore: 5n }) }),
    ]);
    expect(a.net.peers()[0]).toMatchObject({ id: b.net.peerId, direction: 'inbound' });
    expect(b.handlers.statuses.map((s) => s.peer)).toContain(a.net.peerId);
    expect(a.handlers.statuses.map((s) => s.peer)).toContain(b.net.peerId);
    const status = await b.net.requestStatus(a.net.peerId);
    expect(status.headHash).toEqual(ToyChain.hash(a.chain.head));
  });

  it('disconnects and refuses a peer on another genesis', async () => {
    const a = await harness.start();
    const other = await harness.start({ chain: new ToyChain('another-network') });
    await other.net.addPeer(a.net.addresses[0]!).catch(() => undefined);
    // Whichever side reads the other's status first hangs up; the other side may never get to read one.
    await waitFor(() => hasLine(a, /another genesis/) || hasLine(other, /another genesis/), 'a genesis mismatch to be seen');
    await stayDisconnected(a, other);
    const [detector, detected] = hasLine(a, /another genesis/) ? [a, other] : [other, a];
    expect(detector.lines.find((line) => /another genesis/.test(String(line.msg)))).toMatchObject({ level: 40, peer: detected.net.peerId });
    expect(detector.net.scores.isBanned(detected.net.peerId)).toBe(true);
    expect(a.handlers.statuses).toEqual([]);
    expect(other.handlers.statuses).toEqual([]);
  });

  it('keeps its peer id across restarts (key in <datadir>/p2p/peer-key, mode 0600)', async () => {
    const datadir = await harness.tempDir();
    const first = await harness.start({ datadir });
    const id = first.net.peerId;
    await first.net.stop();
    expect((await stat(peerKeyPath(datadir))).mode & 0o777).toBe(0o600);
    const second = await harness.start({ datadir });
    expect(second.net.peerId).toBe(id);
  });

  it('fails to start with a clear error when the port is taken, and refuses bad bootstrap addresses', async () => {
    const a = await harness.start();
    const listen = a.net.addresses[0]!.replace(/\/p2p\/.*$/, '');
    await expect(harness.start({ listen: [listen] })).rejects.toThrow(/p2p network could not start on \/ip4\/127\.0\.0\.1\/tcp\/\d+/);
    await expect(harness.start({ bootstrap: [listen] })).rejects.toThrow(/has no \/p2p\/<peer id>/);
    await expect(harness.start({ bootstrap: ['not-an-address'] })).rejects.toThrow(/is not a multiaddr/);
  });

  it('redials a bootstrap peer that comes up later', async () => {
    const a = await harness.start();
    const address = a.net.addresses[0]!;
    const listen = address.replace(/\/p2p\/.*$/, '');
    await a.net.stop();
    const c = await harness.start({ bootstrap: [address] });
    await waitFor(() => hasLine(c, /could not reach a bootstrap peer/), 'a failed first dial');
    const again = await harness.start({ datadir: a.datadir, listen: [listen] });
    await waitFor(() => connected(c, again), 'the redial to connect', 8_000);
  });

  it('removePeer hangs up and refuses the peer until addPeer', async () => {
    const a = await harness.start();
    const b = await harness.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await waitFor(() => connected(a, b), 'connection');
    await b.net.removePeer(a.net.peerId);
    await waitFor(() => !connected(a, b) && !connected(b, a), 'disconnection');
    // A's dial may complete its own half of the handshake, but B refuses the connection.
    await a.net.addPeer(b.net.addresses[0]!).catch(() => undefined);
    await stayDisconnected(a, b);
    await expectReqRespError(b.net.requestStatus(a.net.peerId), ReqRespErrorCode.NotAvailable, /banned or removed/);
    expect(await b.net.addPeer(a.net.addresses[0]!)).toBe(a.net.peerId);
    await waitFor(() => connected(a, b), 'reconnection');
  });
});

describe('Libp2pNetwork: gossip', () => {
  it('delivers gossip to all three nodes through the middle one', async () => {
    const [a, b, c] = await line();
    await a.net.publish('tx', utf8('tx-1'));
    await a.net.publish('block', utf8('block-1'));
    await waitFor(() => c.handlers.gossip.length === 2, 'C to receive both', 10_000);
    expect(b.handlers.gossip).toEqual(
      expect.arrayContaining([
        { kind: 'tx', text: 'tx-1', from: a.net.peerId },
        { kind: 'block', text: 'block-1', from: a.net.peerId },
      ]),
    );
    expect(c.handlers.gossip).toEqual(expect.arrayContaining([{ kind: 'tx', text: 'tx-1', from: b.net.peerId }]));
    expect(connected(a, c)).toBe(false);
  });

  it('does not forward a rejected message and lowers the sender\'s score', async () => {
    const [a, b, c] = await line();
    await a.net.publish('tx', utf8('bad-1'));
    await a.net.publish('tx', utf8('good-after-bad'));
    await waitFor(() => c.handlers.gossip.length === 1, 'C to receive the good message', 10_000);
    expect(c.handlers.gossip[0]!.text).toBe('good-after-bad');
    expect(b.net.peers().find((p) => p.id === a.net.peerId)!.score).toBeCloseTo(-10, 1);
    expect(b.net.peers().find((p) => p.id === c.net.peerId)!.score).toBe(0);
  });

  it('bans a peer that keeps sending rejected messages, both ways, until the ban ends', async () => {
    const [a, b] = await line();
    // 10 rejects are -100 less the decay between them: the 11th crosses the threshold.
    for (let i = 0; i < 11; i++) await a.net.publish('tx', utf8(`bad-${i}`));
    await waitFor(() => !connected(a, b) && !connected(b, a), 'the ban to disconnect A');
    expect(b.net.scores.isBanned(a.net.peerId)).toBe(true);
    expect(b.lines.find((line) => /banned for 10 min/.test(String(line.msg)))).toMatchObject({ peer: a.net.peerId, level: 40 });
    // Neither side can reconnect while the ban lasts.
    await a.net.addPeer(b.net.addresses[0]!).catch(() => undefined);
    await stayDisconnected(a, b);
    await expectReqRespError(b.net.requestStatus(a.net.peerId), ReqRespErrorCode.NotAvailable, /banned/);
    b.advance(11 * 60_000);
    expect(b.net.scores.isBanned(a.net.peerId)).toBe(false);
    await a.net.addPeer(b.net.addresses[0]!);
    await waitFor(() => connected(b, a), 'A to reconnect after the ban');
  });

  it('rejects a gossip message over its topic\'s size limit', async () => {
    const a = await harness.start({ limits: { maxGossipBytes: { tx: 64 * 1024 } } });
    const b = await harness.start();
    const c = await harness.start();
    await b.net.addPeer(a.net.addresses[0]!);
    await c.net.addPeer(b.net.addresses[0]!);
    await waitFor(
      () => a.net.topicPeers('tx').includes(b.net.peerId) && b.net.topicPeers('tx').length === 2 && c.net.topicPeers('tx').includes(b.net.peerId),
      'subscriptions',
    );
    await a.net.publish('tx', new Uint8Array(20 * 1024).fill(0x61));
    await a.net.publish('tx', utf8('small'));
    await waitFor(() => c.handlers.gossip.length === 1, 'the small message to arrive', 10_000);
    expect(b.handlers.gossip.map((g) => g.text)).toEqual(['small']);
    expect(b.lines.find((line) => /over the size limit/.test(String(line.msg)))).toMatchObject({ peer: a.net.peerId, bytes: 20 * 1024, limit: 16 * 1024 });
    expect(b.net.scores.score(a.net.peerId)).toBeLessThan(-9);
    // Our own publish refuses what peers would reject.
    await expect(b.net.publish('tx', new Uint8Array(20 * 1024))).rejects.toThrow(/over the limit of 16384/);
  });
});

describe('Libp2pNetwork: request/response', () => {
  it('serves block ranges, blocks by hash and blobs', async () => {
    const a = await harness.start();
    const b = await harness.start();
    a.chain.extend(100);
    await b.net.addPeer(a.net.addresses[0]!);
    const range = await b.net.requestBlocksByRange(a.net.peerId, 1, 64);
    expect(range).toHaveLength(64);
    expect(range).toEqual(a.chain.blocksByRange(1, 64));
    expect(await b.net.requestBlocksByRange(a.net.peerId, 90, 64)).toHaveLength(11);
    expect(await b.net.requestBlocksByRange(a.net.peerId, 500, 10)).toEqual([]);
    const fifty = a.chain.blocksByRange(50, 1)[0]!;
    expect(await b.net.requestBlockByHash(a.net.peerId, ToyChain.hash(fifty))).toEqual(fifty);
    expect(await b.net.requestBlockByHash(a.net.peerId, new Uint8Array(32).fill(7))).toBeUndefined();
    await expect(b.net.requestBlocksByRange(a.net.peerId, 1, 65)).rejects.toThrow(RangeError);
    expect(fromUtf8(await b.net.requestBlob(a.net.peerId, utf8('rec-1')))).toBe('blob:rec-1');
    await expectReqRespError(b.net.requestBlob(a.net.peerId, utf8('deny')), ReqRespErrorCode.Refused, /NO_GRANT: the policy does not allow/);
    expect(b.net.scores.score(a.net.peerId)).toBe(0);
  });

  it('paces a burst of requests under the peer\'s limit, so an honest node is never refused or penalized for it', async () => {
    const a = await harness.start();
    const b = await harness.start();
    await b.net.addPeer(a.net.addresses[0]!);
    // 40 blob requests at once: twice the server's burst of 20 (at 10/s). Paced at 8/s after a burst of 16.
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => b.net.requestBlob(a.net.peerId, utf8(`rec-${i}`))));
    const elapsed = Date.now() - started;
    expect(answers.map(fromUtf8)).toEqual(Array.from({ length: 40 }, (_, i) => `blob:rec-${i}`));
    expect(elapsed).toBeGreaterThanOrEqual(((40 - 16) / 8) * 1000 - 100);
    expect(a.net.scores.score(b.net.peerId)).toBe(0);
    expect(hasLine(a, /over the rate limit|requests over/)).toBe(false);
  });

  it('fails a request at once when the queue to that peer is longer than the request\'s deadline', async () => {
    const a = await harness.start();
    const b = await harness.start({ limits: { requestTimeoutMs: { blob: 1000 } } });
    await b.net.addPeer(a.net.addresses[0]!);
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => b.net.requestBlob(a.net.peerId, utf8(`rec-${i}`))));
    const refused = results.filter((r) => r.status === 'rejected');
    // A burst of 16 and 8 more within one second go out; the rest would wait past their 1 s deadline.
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(20);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: ReqRespErrorCode.NotAvailable, message: expect.stringMatching(/already queued/) });
    expect(a.net.scores.score(b.net.peerId)).toBe(0);
  });

  it('refuses an oversize response, names it and penalizes the peer', async () => {
    const a = await harness.start();
    const b = await harness.start({ limits: { maxBlockBytes: 1024 } });
    a.chain.extend(3);
    const big = ToyChain.block(ToyChain.hash(a.chain.head), 4, 'x'.repeat(2000));
    await a.chain.importBlock(big);
    await b.net.addPeer(a.net.addresses[0]!);
    const error = await expectReqRespError(b.net.requestBlockByHash(a.net.peerId, ToyChain.hash(big)), ReqRespErrorCode.Oversize, /larger than its limit/);
    expect(error.message).toContain('block_by_hash');
    expect(b.net.scores.score(a.net.peerId)).toBeCloseTo(-20, 1);
    expect(hasLine(b, /OVERSIZE/)).toBe(true);
  });

  it('refuses a garbage response with a clear error', async () => {
    const b = await harness.start();
    const raw = await rawNode();
    await raw.handle(reqRespProtocolId(CHAIN_ID, 'status'), async (stream) => {
      stream.send(lp.encode.single(Uint8Array.of(0, 0xc1, 0xff, 0x00)));
      await stream.close();
    });
    const rawId = raw.peerId.toString();
    await b.net.addPeer(raw.getMultiaddrs()[0]!.toString());
    const error = await expectReqRespError(b.net.requestStatus(rawId), ReqRespErrorCode.Malformed, /status cannot be decoded/);
    expect(error.peer).toBe(rawId);
    expect(b.net.scores.score(rawId)).toBeLessThanOrEqual(-20);
  });

  it('refuses more chunks than asked for, and unknown result codes', async () => {
    const b = await harness.start();
    const raw = await rawNode();
    await raw.handle(reqRespProtocolId(CHAIN_ID, 'blocks_by_range'), async (stream) => {
      for (let i = 0; i < 3; i++) stream.send(lp.encode.single(Uint8Array.of(0, i)));
      await stream.close();
    });
    await raw.handle(reqRespProtocolId(CHAIN_ID, 'block_by_hash'), async (stream) => {
      stream.send(lp.encode.single(Uint8Array.of(9, 0x41)));
      await stream.close();
    });
    const rawId = raw.peerId.toString();
    await b.net.addPeer(raw.getMultiaddrs()[0]!.toString());
    await expectReqRespError(b.net.requestBlocksByRange(rawId, 1, 2), ReqRespErrorCode.TooManyChunks, /more than the 2 chunk/);
    await expectReqRespError(b.net.requestBlockByHash(rawId, new Uint8Array(32)), ReqRespErrorCode.Malformed, /unknown result code 9/);
  });

  it('answers a garbage request with INVALID_REQUEST and resets an oversize one', async () => {
    const a = await harness.start();
    const raw = await rawNode();
    const rawId = raw.peerId.toString();
    const target = peerIdFromString(a.net.peerId);
    await raw.dial(multiaddr(a.net.addresses[0]!));
    const protocol = reqRespProtocolId(CHAIN_ID, 'blocks_by_range');

    const [chunk] = await readAll(await sendRequest(raw, target, protocol, encodeCanonical([1, 1000])));
    expect(chunk![0]).toBe(1);
    expect(fromUtf8(chunk!.subarray(1))).toMatch(/count: 1000 is not between 1 and 64/);

    await expect(readAll(await sendRequest(raw, target, protocol, new Uint8Array(1000)))).rejects.toThrow();
    await waitFor(() => a.net.scores.score(rawId) <= -39, 'both penalties');
    expect(hasLine(a, /blocks_by_range request is over 32 bytes/)).toBe(true);
  });

  it('answers a headers_by_range request for too many headers with INVALID_REQUEST naming the field, and keeps serving', async () => {
    const a = await harness.start();
    a.chain.extend(5);
    const raw = await rawNode();
    const rawId = raw.peerId.toString();
    const target = peerIdFromString(a.net.peerId);
    await raw.dial(multiaddr(a.net.addresses[0]!));
    const protocol = reqRespProtocolId(CHAIN_ID, 'headers_by_range');
    const [chunk] = await readAll(await sendRequest(raw, target, protocol, encodeCanonical([1, 5000])));
    expect(chunk![0]).toBe(1);
    expect(fromUtf8(chunk!.subarray(1))).toMatch(/headers_by_range.count: 5000 is not between 1 and 1024/);
    await waitFor(() => a.net.scores.score(rawId) <= -19, 'the penalty');
    // An honest peer is still served.
    const b = await harness.start();
    await b.net.addPeer(a.net.addresses[0]!);
    expect(await b.net.requestHeadersByRange(a.net.peerId, 1, 5)).toEqual(a.chain.blocksByRange(1, 5));
  });
});
