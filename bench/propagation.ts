/**
 * Propagation benchmark: four PoS validators as real `medchain start` processes on 127.0.0.1 (the
 * integration tests' network: own datadirs, keys, one genesis, bootstrap lists), measured from outside
 * through their JSON-RPC.
 *
 *   npm run bench:propagation     (options: --txs N  --blocks N  --load TX_PER_S  --poll-ms MS)
 *
 * (a) Transactions: one at a time, each sent to the next node in turn; every node's `tx_get` is polled until
 *     it is no longer 'unknown'. Reported: time from sending tx_submit until all four nodes have it.
 * (b) Blocks: every node's `chain_getHead` is polled every --poll-ms while a background load of --load
 *     registrations per second keeps the blocks non-empty. For each block, the spread is the time between the
 *     first and the last node to show it as head. The nodes log 'produced block' with a time but nothing when
 *     they import a block, so imports are seen by polling; the producer's log line gives a second figure,
 *     from production to the last node. Polling resolution is about one poll period plus an RPC round trip.
 *
 * All processes are stopped at the end, also on Ctrl+C.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { signTransaction } from '../src/codec/transaction.ts';
import { toHex, utf8 } from '../src/codec/bytes.ts';
import { keyPairFromSeed } from '../src/crypto/ed25519.ts';
import { sha256 } from '../src/crypto/hash.ts';
import { TxType, type Transaction } from '../src/types/transaction.ts';
import { createTestNetwork, type NetNode, type TestNetwork } from '../test/helpers/network.ts';
import { parseLogLine, postRaw, rpc, rpcResult, sleep, waitFor } from '../test/helpers/process.ts';

const { values } = parseArgs({
  options: {
    txs: { type: 'string', default: '50' },
    blocks: { type: 'string', default: '30' },
    load: { type: 'string', default: '50' },
    'poll-ms': { type: 'string', default: '5' },
  },
});
const TXS = Number(values.txs);
const BLOCKS = Number(values.blocks);
const LOAD = Number(values.load);
const POLL_MS = Number(values['poll-ms']);
for (const [name, n] of [['txs', TXS], ['blocks', BLOCKS], ['load', LOAD], ['poll-ms', POLL_MS]] as const) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer, got ${n}`);
}
const VALIDATORS = 4;
const SLOT_MS = 1000;
const CHAIN_ID = 'medchain-net';
const TX_TIMEOUT_MS = 10_000;

/** A performance.now() reading as wall-clock ms, comparable with the `time` of the nodes' log lines (same machine). */
const toWall = (at: number): number => performance.timeOrigin + at;
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]): number => sorted(xs)[Math.floor(xs.length / 2)] ?? NaN;
/** Nearest-rank percentile. */
const percentile = (xs: readonly number[], p: number): number => sorted(xs)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const ms = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(1)).padStart(7);
const maximum = (xs: readonly number[]): number => (xs.length === 0 ? NaN : Math.max(...xs));
const summary = (xs: readonly number[]): string => `median ${ms(median(xs))} ms   p95 ${ms(percentile(xs, 95))} ms   max ${ms(maximum(xs))} ms   (n=${xs.length})`;

/** Polls made, the time they spanned (waits included) and their round trips, summed over the polling loops. */
interface PollCounter {
  polls: number;
  ms: number;
  rttMs: number;
}
const pollCounter = (): PollCounter => ({ polls: 0, ms: 0, rttMs: 0 });
/** The achieved poll period and the mean RPC round trip. */
const describePolling = (c: PollCounter): string => `a poll every ${(c.ms / c.polls).toFixed(1)} ms per node, RPC round trip ${(c.rttMs / c.polls).toFixed(1)} ms`;

let keyCounter = 0;
/** A registration from a fresh key: valid on any node at any time, and independent of every other. */
function registration(): Transaction {
  const key = keyPairFromSeed(sha256(utf8(`bench/propagation/${process.pid}/${keyCounter++}`)));
  return signTransaction({ chainId: CHAIN_ID, sender: key.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'patient' } }, key.secretKey);
}

let net: TestNetwork | undefined;
let closing: Promise<void> | undefined;
/** SIGTERM every node (a clean stop), SIGKILL what is left after 5 s, remove the datadirs. */
function shutdown(): Promise<void> {
  closing ??= (async () => {
    if (net === undefined) return;
    const n = net;
    await Promise.race([Promise.all(n.nodes.map((node) => n.stop(node))), sleep(5_000)]);
    await n.close();
  })();
  return closing;
}
process.once('SIGINT', () => {
  console.error('interrupted: stopping the nodes');
  void shutdown().finally(() => process.exit(130));
});

/** Calls `method` on one node every POLL_MS until `stop()`, handing each answer and its arrival time to `onAnswer`. */
async function pollEvery(node: NetNode, stop: () => boolean, onAnswer: (answer: unknown, at: number) => void, method: string, params: unknown[], counter: PollCounter): Promise<void> {
  while (!stop()) {
    const started = performance.now();
    const answer = await rpc(node.rpcUrl, method, params).catch(() => undefined);
    const answered = performance.now();
    counter.polls++;
    counter.rttMs += answered - started;
    if (answer?.result !== undefined) onAnswer(answer.result, answered);
    const wait = POLL_MS - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    counter.ms += performance.now() - started;
  }
}

const load0 = loadavg();
try {
  const setupStarted = performance.now();
  net = await createTestNetwork({ validators: VALIDATORS, engine: 'pos', consensus: { engine: 'pos', slotMs: SLOT_MS } });
  const nodes = net.nodes;
  await Promise.all(nodes.map((node) => net!.start(node)));
  await waitFor(
    'every node peered with the other three and past height 3',
    async () => {
      const ready = await Promise.all(
        nodes.map(async (node) => (await rpcResult<unknown[]>(node.rpcUrl, 'net_peers')).length === VALIDATORS - 1 && (await rpcResult<{ height: number }>(node.rpcUrl, 'chain_getHead')).height >= 3),
      );
      return ready.every(Boolean) ? true : undefined;
    },
    60_000,
    250,
  );
  // Gossipsub grafts its mesh on heartbeats (1 s): give it a few, and warm up every node's transaction path.
  for (const node of nodes) await rpcResult(node.rpcUrl, 'tx_submit', [toHex(registration().bytes)]);
  await sleep(3_000);
  const setupMs = performance.now() - setupStarted;

  // ---- (a) transactions ----
  const rtts: number[] = [];
  const toAll: number[] = [];
  const toFirstOther: number[] = [];
  let lost = 0;
  const txCounter = pollCounter();
  for (let i = 0; i < TXS; i++) {
    const tx = registration();
    const target = nodes[i % VALIDATORS]!;
    const id = toHex(tx.id);
    const seen = new Map<string, number>();
    const sent = performance.now();
    const deadline = sent + TX_TIMEOUT_MS;
    const submitted = await rpc(target.rpcUrl, 'tx_submit', [toHex(tx.bytes)]);
    if (submitted.error !== undefined) throw new Error(`tx_submit on ${target.name} refused a registration: ${JSON.stringify(submitted.error)}`);
    const accepted = performance.now();
    rtts.push(accepted - sent);
    seen.set(target.name, accepted);
    await Promise.all(
      nodes
        .filter((node) => node !== target)
        .map((node) =>
          pollEvery(
            node,
            () => seen.has(node.name) || performance.now() > deadline,
            (answer, at) => {
              if ((answer as { status: string }).status !== 'unknown') seen.set(node.name, at);
            },
            'tx_get',
            [id],
            txCounter,
          ),
        ),
    );
    if (seen.size < VALIDATORS) {
      lost++;
      continue;
    }
    const others = nodes.filter((node) => node !== target).map((node) => seen.get(node.name)!);
    toAll.push(Math.max(...seen.values()) - sent);
    toFirstOther.push(Math.min(...others) - sent);
    // Spread the sends over the slot so they do not all meet the same moment of block production.
    await sleep(37 + (i % 7) * 11);
  }

  // ---- (b) blocks ----
  const heads = await Promise.all(nodes.map((node) => rpcResult<{ height: number }>(node.rpcUrl, 'chain_getHead')));
  const first = Math.max(...heads.map((h) => h.height)) + 1;
  const last = first + BLOCKS - 1;
  /** Per node: height -> when polling first showed a head at that height, and its hash. */
  const firstSeen = new Map<string, Map<number, { at: number; hash: string }>>(nodes.map((node) => [node.name, new Map()]));
  const reached = (node: NetNode): number => Math.max(0, ...firstSeen.get(node.name)!.keys());
  const blockDeadline = performance.now() + (BLOCKS + 10) * SLOT_MS * 3;
  const blockPhaseDone = (): boolean => nodes.every((node) => reached(node) >= last) || performance.now() > blockDeadline;
  const headCounter = pollCounter();
  let loadSent = 0;
  const backgroundLoad = (async () => {
    // Each second, LOAD registrations split over the nodes, one JSON-RPC batch per node.
    while (LOAD > 0 && !blockPhaseDone()) {
      const started = performance.now();
      await Promise.all(
        nodes.map((node, n) => {
          const count = Math.floor(LOAD / VALIDATORS) + (n < LOAD % VALIDATORS ? 1 : 0);
          if (count === 0) return Promise.resolve();
          const batch = Array.from({ length: count }, (_, k) => ({ jsonrpc: '2.0', id: k, method: 'tx_submit', params: [toHex(registration().bytes)] }));
          loadSent += count;
          return postRaw(node.rpcUrl, JSON.stringify(batch)).catch(() => undefined);
        }),
      );
      await sleep(Math.max(0, 1000 - (performance.now() - started)));
    }
  })();
  await Promise.all(
    nodes.map((node) =>
      pollEvery(
        node,
        blockPhaseDone,
        (answer, at) => {
          const head = answer as { height: number; hash: string };
          const seen = firstSeen.get(node.name)!;
          if (!seen.has(head.height)) seen.set(head.height, { at, hash: head.hash });
        },
        'chain_getHead',
        [],
        headCounter,
      ),
    ),
  );
  await backgroundLoad;

  // Production times from the producers' own log lines ('produced block' with height, hash prefix, time).
  const produced = new Map<number, { time: number; hash: string; producer: string }>();
  for (const node of nodes) {
    for (const line of node.proc?.stdout ?? []) {
      const log = parseLogLine(line);
      // The node's logger writes ISO times (ms precision).
      const time = typeof log?.time === 'string' ? Date.parse(log.time) : Number.NaN;
      if (log?.msg === 'produced block' && typeof log.height === 'number' && !Number.isNaN(time)) {
        produced.set(log.height, { time, hash: String(log.hash), producer: node.name });
      }
    }
  }

  const spreads: number[] = [];
  const producedToLast: number[] = [];
  const producedToProducerPoll: number[] = [];
  const txsPerBlock: number[] = [];
  let missedByPolling = 0;
  let disagreed = 0;
  for (let height = first; height <= last; height++) {
    const sightings = nodes.map((node) => firstSeen.get(node.name)!.get(height));
    if (sightings.some((s) => s === undefined)) {
      // A node's head moved past this height between two polls (or never got there before the deadline).
      missedByPolling++;
      continue;
    }
    const seen = sightings as { at: number; hash: string }[];
    if (new Set(seen.map((s) => s.hash)).size > 1) {
      disagreed++;
      continue;
    }
    const ats = seen.map((s) => s.at);
    spreads.push(Math.max(...ats) - Math.min(...ats));
    const production = produced.get(height);
    if (production !== undefined && seen[0]!.hash.startsWith(production.hash)) {
      producedToLast.push(toWall(Math.max(...ats)) - production.time);
      const producer = nodes.findIndex((node) => node.name === production.producer);
      producedToProducerPoll.push(toWall(ats[producer]!) - production.time);
    }
  }
  for (let height = first; height <= last; height++) {
    const block = await rpcResult<{ transactions: unknown[] } | null>(nodes[0]!.rpcUrl, 'chain_getBlock', [height]).catch(() => null);
    if (block !== null) txsPerBlock.push(block.transactions.length);
  }

  const load1 = loadavg();
  console.log(`medchain bench: propagation across ${VALIDATORS} PoS validators (real medchain processes on 127.0.0.1, slot ${SLOT_MS} ms, gossipsub)`);
  console.log(`  machine: ${availableParallelism()} cores shared by the ${VALIDATORS} nodes and this process, node ${process.version}, load average ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${load1.map((l) => l.toFixed(2)).join(' ')} at end`);
  console.log(`  network up and meshed in ${(setupMs / 1000).toFixed(1)} s; whole run ${((performance.now() - setupStarted) / 1000).toFixed(1)} s; polling asks each node every ${POLL_MS} ms over JSON-RPC`);
  console.log(`  (a) ${TXS} transactions (registrations), each sent to the next node in turn; tx_get polled on the other three (${describePolling(txCounter)})`);
  console.log(`      tx_submit round trip              ${summary(rtts)}`);
  console.log(`      sent -> first other node has it   ${summary(toFirstOther)}`);
  console.log(`      sent -> all ${VALIDATORS} nodes have it       ${summary(toAll)}`);
  console.log(`      not on all nodes within ${TX_TIMEOUT_MS / 1000} s       ${lost}`);
  console.log(`  (b) ${BLOCKS} blocks (heights ${first}-${last}, median ${median(txsPerBlock)} txs each, background load ${LOAD} tx/s, ${loadSent} sent); chain_getHead polled on all (${describePolling(headCounter)})`);
  console.log(`      first -> last node has it as head ${summary(spreads)}`);
  console.log(`      produced (log) -> last node       ${summary(producedToLast)}`);
  console.log(`      produced (log) -> producer's RPC  ${summary(producedToProducerPoll)}   (the polling delay itself)`);
  console.log(`      blocks left out: ${missedByPolling} passed between two polls on some node, ${disagreed} with different blocks at that height (forks)`);
  console.log(
    JSON.stringify({
      validators: VALIDATORS,
      slotMs: SLOT_MS,
      pollMs: POLL_MS,
      cores: availableParallelism(),
      loadavgStart: load0,
      loadavgEnd: load1,
      tx: { count: TXS, lost, submitRttMs: { median: median(rtts), p95: percentile(rtts, 95) }, toAllMs: { median: median(toAll), p95: percentile(toAll, 95), max: maximum(toAll) } },
      block: {
        count: BLOCKS,
        measured: spreads.length,
        backgroundTxPerSec: LOAD,
        medianTxs: median(txsPerBlock),
        spreadMs: { median: median(spreads), p95: percentile(spreads, 95), max: maximum(spreads) },
        producedToLastMs: { median: median(producedToLast), p95: percentile(producedToLast, 95) },
        pollingDelayMs: { median: median(producedToProducerPoll), p95: percentile(producedToProducerPoll, 95) },
      },
    }),
  );
} finally {
  await shutdown();
}
