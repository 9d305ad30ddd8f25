/**
 * Watches every node of a lab network from outside, through its public interfaces only: one WebSocket per
 * node subscribed to `newHeads` and `finalized`, and one `chain_getBlock` per distinct block (its transaction
 * ids), asked of the first node that showed it. Notifications are pushed by the nodes, so every head change is
 * timed when it happens without polling (2 cores: polling four nodes every few ms would cost them CPU).
 *
 * Times are wall-clock milliseconds with sub-millisecond resolution (performance.timeOrigin + now()), the
 * same clock the nodes stamp their log lines and PoW headers with (one machine).
 */
import WebSocket from 'ws';
import { rpcResult } from '../../test/helpers/process.ts';

/** Wall-clock ms, sub-ms resolution. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface ObservedBlock {
  readonly hash: string;
  readonly height: number;
  readonly parent: string;
  readonly proposer: string;
  /** The header's time (PoS: its slot's start; PoW: the miner's clock). */
  readonly time: number;
  /** Per node: when it first announced this block as (part of) its canonical chain; null if never. */
  readonly seen: (number | null)[];
  /** Transaction ids, once fetched. */
  txs: string[] | undefined;
}

export interface ObservedReorg {
  readonly node: number;
  readonly at: number;
  readonly reverted: readonly string[];
  readonly applied: readonly string[];
}

export interface ObservedFinality {
  readonly node: number;
  readonly at: number;
  readonly height: number;
  readonly hash: string;
}

interface HeaderEvent {
  hash: string;
  height: number;
  parent: string;
  proposer: string;
  time: number;
}

export class LabObserver {
  readonly blocks = new Map<string, ObservedBlock>();
  readonly reorgs: ObservedReorg[] = [];
  readonly finality: ObservedFinality[] = [];
  /** Per node: height -> hash of its canonical chain as announced. */
  readonly canonical: Map<number, string>[];
  /** Per node: its announced head height. */
  readonly headHeight: number[];
  /** tx id -> hashes of the fetched blocks that contain it. */
  readonly txBlocks = new Map<string, string[]>();
  /** Problems seen (a dropped socket, a failed fetch), reported with the results. */
  readonly problems: string[] = [];
  readonly #rpcUrls: readonly string[];
  readonly #sockets: WebSocket[] = [];
  readonly #fetches = new Set<Promise<void>>();
  readonly #listeners = new Set<(node: number) => void>();
  #closing = false;

  constructor(rpcUrls: readonly string[]) {
    this.#rpcUrls = rpcUrls;
    this.canonical = rpcUrls.map(() => new Map());
    this.headHeight = rpcUrls.map(() => 0);
  }

  /** Calls `listener` with a node's index whenever its announced chain or a block's transactions change. */
  onChange(listener: (node: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(nodes: readonly number[]): void {
    for (const node of nodes) for (const listener of this.#listeners) listener(node);
  }

  /** Connects to every node and subscribes; resolves once every subscription is confirmed. */
  async start(): Promise<void> {
    await Promise.all(this.#rpcUrls.map((url, node) => this.#connect(url, node)));
  }

  async #connect(rpcUrl: string, node: number): Promise<void> {
    const ws = new WebSocket(rpcUrl.replace(/^http/, 'ws').replace(/\/rpc$/, '/ws'));
    this.#sockets.push(ws);
    const kinds = new Map<string, 'newHeads' | 'finalized'>();
    const pending = new Map<number, (id: string) => void>();
    ws.on('message', (data) => {
      const at = wallNow();
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown; method?: string; params?: { subscription: string; result: unknown } };
      if (message.method === 'chain_subscription' && message.params !== undefined) {
        const kind = kinds.get(message.params.subscription);
        if (kind === 'newHeads') this.#onHeadEvent(node, at, message.params.result);
        else if (kind === 'finalized') {
          const f = message.params.result as { height: number; hash: string };
          this.finality.push({ node, at, height: f.height, hash: f.hash });
        }
        return;
      }
      if (typeof message.id === 'number') {
        if (message.error !== undefined) this.problems.push(`node ${node + 1}: subscribe refused: ${JSON.stringify(message.error)}`);
        else pending.get(message.id)?.(String(message.result));
      }
    });
    ws.on('close', () => {
      if (!this.#closing) this.problems.push(`node ${node + 1}: the WebSocket closed during the run`);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('error', (error) => this.problems.push(`node ${node + 1}: WebSocket error ${error.message}`));
    const subscribe = (id: number, kind: 'newHeads' | 'finalized'): Promise<void> =>
      new Promise((resolve) => {
        pending.set(id, (sub) => {
          kinds.set(sub, kind);
          resolve();
        });
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'chain_subscribe', params: [kind] }));
      });
    await subscribe(1, 'newHeads');
    await subscribe(2, 'finalized');
  }

  #onHeadEvent(node: number, at: number, result: unknown): void {
    const event = result as Partial<HeaderEvent> & { reverted?: string[]; applied?: string[] };
    if (Array.isArray(event.reverted)) {
      this.reorgs.push({ node, at, reverted: event.reverted, applied: event.applied ?? [] });
      return;
    }
    const header = event as HeaderEvent;
    const view = this.canonical[node]!;
    view.set(header.height, header.hash);
    // The announced header is the new head: anything above it left the canonical chain (PoS can shorten it).
    for (let h = header.height + 1; h <= this.headHeight[node]!; h++) view.delete(h);
    this.headHeight[node] = header.height;
    let block = this.blocks.get(header.hash);
    if (block === undefined) {
      block = { hash: header.hash, height: header.height, parent: header.parent, proposer: header.proposer, time: header.time, seen: this.#rpcUrls.map(() => null), txs: undefined };
      this.blocks.set(header.hash, block);
      this.#fetch(block, node);
    }
    block.seen[node] ??= at;
    this.#changed([node]);
  }

  #fetch(block: ObservedBlock, node: number): void {
    const fetching = (async () => {
      for (let attempt = 0; attempt < 3 && block.txs === undefined; attempt++) {
        try {
          const json = await rpcResult<{ transactions: string[] } | null>(this.#rpcUrls[node]!, 'chain_getBlock', [block.hash]);
          if (json === null) continue;
          block.txs = json.transactions;
          for (const id of json.transactions) {
            const list = this.txBlocks.get(id);
            if (list === undefined) this.txBlocks.set(id, [block.hash]);
            else list.push(block.hash);
          }
          this.#changed(block.seen.flatMap((s, n) => (s === null ? [] : [n])));
        } catch (error) {
          if (attempt === 2) this.problems.push(`block ${block.hash.slice(0, 12)}: chain_getBlock failed: ${(error as Error).message}`);
        }
      }
    })();
    this.#fetches.add(fetching);
    void fetching.finally(() => this.#fetches.delete(fetching));
  }

  /** The first height announced on each node since the observer connected. */
  firstHeight(node: number): number | undefined {
    let first: number | undefined;
    for (const h of this.canonical[node]!.keys()) if (first === undefined || h < first) first = h;
    return first;
  }

  /** The canonical block (on `node`'s announced chain) holding transaction `id`, if any. */
  inclusionOn(node: number, id: string): ObservedBlock | undefined {
    for (const hash of this.txBlocks.get(id) ?? []) {
      const block = this.blocks.get(hash)!;
      if (this.canonical[node]!.get(block.height) === hash) return block;
    }
    return undefined;
  }

  /** The highest finalized height `node` has announced (0 before any). */
  finalizedHeight(node: number): number {
    let best = 0;
    for (const f of this.finality) if (f.node === node && f.height > best) best = f.height;
    return best;
  }

  /** Waits for the block fetches under way. */
  async settle(): Promise<void> {
    while (this.#fetches.size > 0) await Promise.all([...this.#fetches]);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.settle();
    for (const ws of this.#sockets) ws.terminate();
  }
}
