import { afterEach, describe, expect, it } from 'vitest';
import { assessReadiness, healthRoutes, peersRequired, type ReadinessInputs } from '../../../src/node/health.ts';
import { NodeMetrics } from '../../../src/node/metrics.ts';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import { RpcHttpServer } from '../../../src/rpc/httpServer.ts';
import { silentLogger } from '../../helpers/fixtures.ts';

interface Probe {
  syncing: boolean;
  peers: number;
  head: number;
  target: number;
}

function inputs(probe: Probe, requirePeers: boolean): ReadinessInputs {
  return { syncing: () => probe.syncing, peers: () => probe.peers, requirePeers, head: () => probe.head, target: () => probe.target };
}

describe('readiness', () => {
  it('is ready only when synced and, if peers are required, peered; each missing condition is named', () => {
    const probe: Probe = { syncing: true, peers: 0, head: 10, target: 200 };
    expect(assessReadiness(inputs(probe, true))).toEqual({
      ready: false,
      synced: false,
      peers: 0,
      head: 10,
      target: 200,
      reasons: ['syncing: height 10 of 200', 'no peers'],
    });
    probe.peers = 3;
    expect(assessReadiness(inputs(probe, true))).toMatchObject({ ready: false, reasons: ['syncing: height 10 of 200'] });
    Object.assign(probe, { syncing: false, peers: 0, head: 200 });
    expect(assessReadiness(inputs(probe, true))).toMatchObject({ ready: false, synced: true, reasons: ['no peers'] });
    probe.peers = 1;
    expect(assessReadiness(inputs(probe, true))).toEqual({ ready: true, synced: true, peers: 1, head: 200, target: 200, reasons: [] });
    // A node not meant to have peers is ready alone, but still not while syncing.
    probe.peers = 0;
    expect(assessReadiness(inputs(probe, false))).toMatchObject({ ready: true, reasons: [] });
    probe.syncing = true;
    expect(assessReadiness(inputs(probe, false))).toMatchObject({ ready: false, reasons: ['syncing: height 200 of 200'] });
  });

  it('peers are required only when p2p is on and there is a bootstrap list', () => {
    expect(peersRequired({ enabled: true, bootstrap: ['/ip4/10.0.0.2/tcp/30333/p2p/12D3KooWx'] })).toBe(true);
    expect(peersRequired({ enabled: true, bootstrap: [] })).toBe(false);
    expect(peersRequired({ enabled: false, bootstrap: ['/ip4/10.0.0.2/tcp/30333/p2p/12D3KooWx'] })).toBe(false);
    expect(peersRequired({ enabled: false, bootstrap: [] })).toBe(false);
  });
});

describe('GET /metrics, /health and /ready on the RPC server', () => {
  let server: RpcHttpServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function serve(probe: Probe, requirePeers: boolean, metrics?: NodeMetrics): Promise<string> {
    const dispatcher = createDispatcher([], { logger: silentLogger });
    const routes = healthRoutes({ readiness: inputs(probe, requirePeers), ...(metrics === undefined ? {} : { metrics }) });
    server = new RpcHttpServer({ port: 0 }, { dispatcher, logger: silentLogger, extraRoutes: routes });
    await server.start();
    return `http://127.0.0.1:${server.address.port}`;
  }

  it('/health answers 200 {"status":"ok"} even while not ready; /ready answers 503 with the reasons, then 200', async () => {
    const probe: Probe = { syncing: true, peers: 0, head: 10, target: 200 };
    const base = await serve(probe, true);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await health.json()).toEqual({ status: 'ok' });

    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('cache-control')).toBe('no-store');
    expect(await notReady.json()).toEqual({ ready: false, synced: false, peers: 0, head: 10, target: 200, reasons: ['syncing: height 10 of 200', 'no peers'] });

    Object.assign(probe, { syncing: false, peers: 2, head: 200 });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, synced: true, peers: 2, head: 200, target: 200, reasons: [] });

    // Only GET; and /metrics is not mounted without metrics.
    const post = await fetch(`${base}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('/metrics serves the Prometheus text with its content type', async () => {
    const metrics = new NodeMetrics({ headHeight: () => 12, peers: () => 1 });
    metrics.gossip('vote', 'reject');
    const base = await serve({ syncing: false, peers: 1, head: 12, target: 12 }, false, metrics);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^medchain_head_height 12$/m);
    expect(text).toMatch(/^medchain_gossip_messages_total\{topic="vote",verdict="reject"\} 1$/m);
    expect(text).toMatch(/^medchain_process_resident_memory_bytes \d+$/m);
  });

  it('a failing metrics source is a 500 from the route, not a crash', async () => {
    const metrics = new NodeMetrics(
      {
        peers: () => {
          throw new Error('network stopped');
        },
      },
      { processMetrics: false },
    );
    const base = await serve({ syncing: false, peers: 0, head: 0, target: 0 }, false, metrics);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(500);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
