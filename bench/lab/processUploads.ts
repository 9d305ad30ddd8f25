/**
 * The clients' side of record data in the lab: once a node has a record version on its canonical chain, the
 * version's ciphertext and key envelopes (owner and author) are uploaded to it (record_upload,
 * record_uploadEnvelopes); once it has a read grant, the grantee's envelopes of every version. A hospital
 * node queues a custody fetch for each of these a second after importing it (emr/replication.ts); a node that
 * already holds the blobs finishes that fetch without asking anyone.
 *
 * Modes: `all` uploads to every node as soon as it has the block (custody replication then has nothing to
 * fetch, so the figures are consensus, not blob traffic); `submitter` uploads only to the node the
 * transaction was sent to, as one client would, leaving the other hospitals to fetch custody copies over
 * p2p; `none` uploads nothing (custody fetches ask everyone for blobs nobody has).
 *
 * A version's number is only known once it is ordered on chain: each node's announced chain is walked in
 * height order, counting the versions of each record, and walked again from the fork point after a reorg.
 *
 * Envelopes are stand-ins in the key-envelope format (82 bytes, 'K' 0x01, seeded contents): a node checks only
 * that format, the uploader's signature and the reader's registration, and nobody decrypts in the lab. Real
 * HPKE wraps cost about 3 ms each here (pure-JS X25519), which would make this process the bottleneck.
 */
import { toHex } from '../../src/codec/bytes.ts';
import { encodeEnvelopeUpload } from '../../src/codec/envelopeUpload.ts';
import { sign, type KeyPair } from '../../src/crypto/ed25519.ts';
import { ENVELOPE_KIND, FORMAT_VERSION } from '../../src/envelope/format.ts';
import { KEY_ENVELOPE_LENGTH } from '../../src/envelope/keyEnvelope.ts';
import type { NetNode } from '../../test/helpers/network.ts';
import type { RpcResponse } from '../../test/helpers/process.ts';
import { labPost } from './processNetwork.ts';
import type { LabObserver } from './processObserver.ts';
import { LAB_CHAIN_ID, seededBytes, type LabBlob, type LabTx } from './processWorkload.ts';

export type UploadMode = 'all' | 'submitter' | 'none';
export const UPLOAD_MODES: readonly UploadMode[] = ['all', 'submitter', 'none'];

export interface UploadFigures {
  readonly mode: UploadMode;
  /** Upload calls answered without error. */
  readonly stored: number;
  /** Refused upload calls by reason. */
  readonly refused: Readonly<Record<string, number>>;
  /** From a node announcing a block to its uploads being answered: when the block was announced, and the lag (ms). */
  readonly lag: readonly { readonly at: number; readonly ms: number }[];
}

type VersionBlob = Extract<LabBlob, { kind: 'version' }>;

interface NodeProgress {
  /** height -> hash of the announced blocks already processed. */
  readonly processed: Map<number, string>;
  /** record hex -> its versions in chain order, with the height that added each. */
  readonly versions: Map<string, { blob: VersionBlob; height: number }[]>;
  next: number | undefined;
  busy: boolean;
  again: boolean;
}

/** Upload calls per HTTP request (each is a synced LevelDB write on the node). */
const MAX_BATCH = 50;

export class LabUploader {
  readonly #nodes: readonly NetNode[];
  readonly #observer: LabObserver;
  readonly #mode: UploadMode;
  readonly #byId: ReadonlyMap<string, LabTx>;
  readonly #submittedTo: (id: string) => number | undefined;
  readonly #progress: NodeProgress[];
  readonly #envelopes = new Map<string, Uint8Array>();
  readonly #random: (length: number) => Uint8Array;
  readonly #running = new Set<Promise<void>>();
  readonly #stored = { count: 0 };
  readonly #refused: Record<string, number> = {};
  readonly #lag: { at: number; ms: number }[] = [];
  #unsubscribe: (() => void) | undefined;

  constructor(nodes: readonly NetNode[], observer: LabObserver, mode: UploadMode, txs: readonly LabTx[], submittedTo: (id: string) => number | undefined, seed: number) {
    this.#nodes = nodes;
    this.#observer = observer;
    this.#mode = mode;
    this.#byId = new Map(txs.filter((t) => t.blob !== undefined).map((t) => [t.id, t]));
    this.#submittedTo = submittedTo;
    this.#progress = nodes.map(() => ({ processed: new Map(), versions: new Map(), next: undefined, busy: false, again: false }));
    this.#random = seededBytes(seed ^ 0x0e7e_1095);
  }

  start(): void {
    if (this.#mode === 'none') return;
    this.#unsubscribe = this.#observer.onChange((node) => this.#kick(node));
  }

  /** Stops listening and waits for the uploads under way. */
  async stop(): Promise<UploadFigures> {
    this.#unsubscribe?.();
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    return { mode: this.#mode, stored: this.#stored.count, refused: { ...this.#refused }, lag: this.#lag };
  }

  #kick(node: number): void {
    const p = this.#progress[node]!;
    if (p.busy) {
      p.again = true;
      return;
    }
    p.busy = true;
    const run = (async () => {
      do {
        p.again = false;
        await this.#advance(node);
      } while (p.again);
      p.busy = false;
    })();
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Processes the node's announced blocks in height order, from the first unprocessed or changed one. */
  async #advance(node: number): Promise<void> {
    const p = this.#progress[node]!;
    const view = this.#observer.canonical[node]!;
    if (p.next === undefined) {
      const first = this.#observer.firstHeight(node);
      if (first === undefined) return;
      p.next = first;
    }
    // A reorg: restart from the lowest processed height whose block left this node's chain.
    for (const [height, hash] of p.processed) {
      if (view.get(height) !== hash && height < p.next) p.next = height;
    }
    for (const list of p.versions.values()) {
      while (list.length > 0 && list[list.length - 1]!.height >= p.next) list.pop();
    }
    for (const height of [...p.processed.keys()]) if (height >= p.next) p.processed.delete(height);
    const head = this.#observer.headHeight[node]!;
    const calls: { method: string; params: unknown[] }[] = [];
    let announced = 0;
    while (p.next <= head) {
      const hash = view.get(p.next);
      const block = hash === undefined ? undefined : this.#observer.blocks.get(hash);
      if (block === undefined || block.txs === undefined) break;
      const grants: LabBlob[] = [];
      for (const id of block.txs) {
        const t = this.#byId.get(id);
        if (t === undefined || t.blob === undefined) continue;
        const mine = this.#mode === 'all' || this.#submittedTo(id) === node;
        if (t.blob.kind === 'version') {
          const key = toHex(t.blob.record);
          let list = p.versions.get(key);
          if (list === undefined) p.versions.set(key, (list = []));
          const version = list.length;
          list.push({ blob: t.blob, height: p.next });
          if (mine) calls.push(...this.#versionCalls(t.blob, version));
        } else if (mine) {
          grants.push(t.blob);
        }
      }
      // A grant covers every version the block leaves (versions before it in the same block included).
      for (const g of grants) {
        if (g.kind !== 'grant') continue;
        const list = p.versions.get(toHex(g.record)) ?? [];
        list.forEach((_, version) => calls.push(this.#envelopeCall(g.record, version, g.owner, [g.grantee])));
      }
      // The lag is counted from the earliest block of the batch: the one whose custody fetch starts first.
      if (announced === 0) announced = block.seen[node] ?? 0;
      p.processed.set(p.next, block.hash);
      p.next++;
    }
    const sends: Promise<void>[] = [];
    for (let i = 0; i < calls.length; i += MAX_BATCH) sends.push(this.#send(node, calls.slice(i, i + MAX_BATCH), announced));
    await Promise.all(sends);
  }

  #versionCalls(blob: VersionBlob, version: number): { method: string; params: unknown[] }[] {
    const readers = toHex(blob.owner.publicKey) === toHex(blob.author.publicKey) ? [blob.owner.publicKey] : [blob.owner.publicKey, blob.author.publicKey];
    return [
      { method: 'record_upload', params: [toHex(blob.record), version, toHex(blob.salt), Buffer.from(blob.ciphertext).toString('base64')] },
      this.#envelopeCall(blob.record, version, blob.author, readers),
    ];
  }

  /** A signed envelope upload; each envelope is made once and reused for every node. */
  #envelopeCall(record: Uint8Array, version: number, uploader: KeyPair, readers: readonly Uint8Array[]): { method: string; params: unknown[] } {
    const envelopes = readers.map((reader) => {
      const key = `${toHex(record)}:${version}:${toHex(reader)}`;
      let envelope = this.#envelopes.get(key);
      if (envelope === undefined) {
        envelope = this.#random(KEY_ENVELOPE_LENGTH);
        envelope[0] = ENVELOPE_KIND;
        envelope[1] = FORMAT_VERSION;
        this.#envelopes.set(key, envelope);
      }
      return { reader, envelope };
    });
    const upload = encodeEnvelopeUpload({ chainId: LAB_CHAIN_ID, record, version, uploader: uploader.publicKey, envelopes });
    return { method: 'record_uploadEnvelopes', params: [toHex(upload), toHex(sign(upload, uploader.secretKey))] };
  }

  async #send(node: number, calls: readonly { method: string; params: unknown[] }[], announcedAt: number): Promise<void> {
    const body = JSON.stringify(calls.map((c, id) => ({ jsonrpc: '2.0', id, ...c })));
    try {
      const { text } = await labPost(this.#nodes[node]!.rpcUrl, body);
      const answers = JSON.parse(text) as RpcResponse[];
      for (const a of Array.isArray(answers) ? answers : []) {
        if (a.error === undefined) this.#stored.count++;
        else {
          const reason = String(a.error.data?.reason ?? a.error.message);
          this.#refused[reason] = (this.#refused[reason] ?? 0) + 1;
        }
      }
      if (announcedAt > 0) this.#lag.push({ at: announcedAt, ms: performance.timeOrigin + performance.now() - announcedAt });
    } catch (error) {
      const reason = `RPC_FAILED: ${(error as Error).message}`;
      this.#refused[reason] = (this.#refused[reason] ?? 0) + calls.length;
    }
  }
}
