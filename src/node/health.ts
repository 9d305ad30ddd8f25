// Operational HTTP routes mounted on the RPC server: GET /metrics (Prometheus), GET /health (liveness) and
// GET /ready (readiness: synced and, when the node is meant to have peers, peered).

import type { ServerResponse } from 'node:http';
import type { HttpRoute } from '../rpc/httpServer.ts';

export const METRICS_PATH = '/metrics';
export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';

/** What readiness is decided from; functions, so the answer is always current (and testable without a network). */
export interface ReadinessInputs {
  /** True while the node is catching up with its peers. */
  syncing(): boolean;
  /** Connected peers. */
  peers(): number;
  /** False for a node that is not meant to have peers (see peersRequired). */
  readonly requirePeers: boolean;
  /** Our head height. */
  head(): number;
  /** The height sync is heading for. */
  target(): number;
}

/** The body of GET /ready. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly synced: boolean;
  readonly peers: number;
  readonly head: number;
  readonly target: number;
  /** What keeps the node from being ready; empty when it is. */
  readonly reasons: readonly string[];
}

/**
 * Whether readiness needs peers: only for a node that joins a network (p2p on and a bootstrap list). A node
 * with p2p off, or the first node of a network that others dial (no bootstrap list), is ready on its own.
 */
export function peersRequired(p2p: { readonly enabled: boolean; readonly bootstrap: readonly string[] }): boolean {
  return p2p.enabled && p2p.bootstrap.length > 0;
}

/** Decides readiness from the inputs, naming each missing condition. */
export function assessReadiness(inputs: ReadinessInputs): ReadinessReport {
  const syncing = inputs.syncing();
  const peers = inputs.peers();
  const head = inputs.head();
  const target = inputs.target();
  const reasons: string[] = [];
  if (syncing) reasons.push(`syncing: height ${head} of ${target}`);
  if (inputs.requirePeers && peers === 0) reasons.push('no peers');
  return { ready: reasons.length === 0, synced: !syncing, peers, head, target, reasons };
}

export interface HealthRouteDeps {
  /** Source of the /metrics text; without it /metrics is not mounted. */
  readonly metrics?: { text(): Promise<string>; readonly contentType: string };
  readonly readiness: ReadinessInputs;
}

/** GET /metrics, /health and /ready, for RpcHttpServer's `extraRoutes`. */
export function healthRoutes(deps: HealthRouteDeps): HttpRoute[] {
  const routes: HttpRoute[] = [
    {
      method: 'GET',
      path: HEALTH_PATH,
      // Liveness: if this answers, the process serves. Nothing else is checked on purpose, so a node that is
      // slow to sync is not restarted by its orchestrator.
      handle: (_req, res) => sendJson(res, 200, { status: 'ok' }),
    },
    {
      method: 'GET',
      path: READY_PATH,
      handle: (_req, res) => {
        const report = assessReadiness(deps.readiness);
        sendJson(res, report.ready ? 200 : 503, report);
      },
    },
  ];
  const metrics = deps.metrics;
  if (metrics !== undefined) {
    routes.push({
      method: 'GET',
      path: METRICS_PATH,
      handle: async (_req, res) => {
        const text = await metrics.text();
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
    });
  }
  return routes;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
