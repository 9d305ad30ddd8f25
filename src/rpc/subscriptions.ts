// Chain event subscriptions for WebSocket clients (geth's eth_subscribe shape in our namespace): new heads and
// reorgs, finality, and the activity of one account. The WebSocket transport registers each connection by its
// RpcContext; chain_subscribe / chain_unsubscribe (methods/subscriptionMethods.ts) act on that connection.

import { randomBytes } from 'node:crypto';
import type { Chain } from '../chain/chain.ts';
import { toHex } from '../codec/bytes.ts';
import { TX_TYPE_NAMES } from '../codec/payloads.ts';
import { getRecord } from '../state/accessors.ts';
import type { Block } from '../types/block.ts';
import type { AccountId, Hash } from '../types/primitives.ts';
import { TxType, type Transaction } from '../types/transaction.ts';
import type { Startable } from '../util/lifecycle.ts';
import { defineRpcError, RpcError, RpcErrors } from './errors.ts';
import type { RpcLogger } from './dispatcher.ts';
import type { RpcContext } from './method.ts';
import { headerToJson } from './methods/json.ts';
import { recordOf } from '../chain/indexer.ts';

/** The method name of every notification, as geth's `eth_subscription`. */
export const SUBSCRIPTION_NOTIFICATION_METHOD = 'chain_subscription';

export const SUBSCRIPTION_KINDS = ['newHeads', 'finalized', 'accountActivity'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 64;
/**
 * Notifications held back for a subscription until the answer that created it is sent (so its id arrives
 * first); past this many they go out anyway rather than pile up behind a slow request.
 */
const MAX_HELD_NOTIFICATIONS = 256;

/** -32040: chain_subscribe over HTTP (or any transport without a connection to notify). */
export const SUBSCRIPTIONS_NEED_WEBSOCKET = defineRpcError(
  -32040,
  'SUBSCRIPTIONS_NEED_WEBSOCKET',
  'Subscriptions need a WebSocket connection: open ws://<node>/ws (same host and port as /rpc) and subscribe there',
);
/** -32041: the connection already holds the most subscriptions it may. */
export const TOO_MANY_SUBSCRIPTIONS = defineRpcError(
  -32041,
  'TOO_MANY_SUBSCRIPTIONS',
  'This connection holds the most subscriptions it may; unsubscribe from some first',
);

/** What a subscription notification carries for `accountActivity`. */
export interface AccountActivity {
  readonly txId: string;
  /** TX_TYPE_NAMES, e.g. `access.grant`. */
  readonly type: string;
  readonly height: number;
  readonly blockHash: string;
  readonly sender: string;
  /** The record the transaction is about, if any. */
  readonly record?: string;
  /** Present (true) when the block left the canonical chain in a reorg: the activity no longer holds. */
  readonly removed?: true;
}

/** The chain events and head-state reads subscriptions need. */
export type SubscriptionChain = Pick<Chain, 'onHead' | 'onReorg' | 'state' | 'finalized'>;

export interface ChainSubscriptionsOptions {
  /** Most subscriptions one connection may hold. Default 64. */
  readonly maxPerConnection?: number;
}

export interface ChainSubscriptionsModules {
  readonly chain: SubscriptionChain;
  readonly logger: RpcLogger;
  /** Random bytes for subscription ids; injectable for tests. */
  readonly random?: (length: number) => Uint8Array;
}

interface Subscription {
  readonly id: string;
  readonly kind: SubscriptionKind;
  /** The account (hex) of an accountActivity subscription. */
  readonly account: string | undefined;
  readonly connection: Connection;
  /** Notifications waiting for the subscribe answer to go out; undefined once released. */
  held: string[] | undefined;
}

interface Connection {
  readonly send: (text: string) => void;
  readonly subscriptions: Map<string, Subscription>;
}

function notification(id: string, resultJson: string): string {
  return `{"jsonrpc":"2.0","method":"${SUBSCRIPTION_NOTIFICATION_METHOD}","params":{"subscription":"${id}","result":${resultJson}}}`;
}

/**
 * The accounts a transaction concerns: its sender; the owner of the record it is about (looked up with
 * `ownerOf`); the grantee of a grant or revocation; the doctor of an attestation or its withdrawal.
 */
export function accountsConcerned(tx: Transaction, ownerOf: (record: Hash) => AccountId | undefined): Set<string> {
  const accounts = new Set([toHex(tx.sender)]);
  const body = tx.body;
  if (body.type === TxType.AttestDoctor || body.type === TxType.RevokeAttestation) accounts.add(toHex(body.doctor));
  if (body.type === TxType.GrantAccess || body.type === TxType.RevokeAccess) accounts.add(toHex(body.grantee));
  const record = body.type === TxType.CreateRecord ? undefined : recordOf(tx);
  if (record !== undefined) {
    const owner = ownerOf(record);
    if (owner !== undefined) accounts.add(toHex(owner));
  }
  return accounts;
}

/** Subscriptions of every WebSocket connection, fed by the chain's head and reorg listeners; one start/stop lifecycle. */
export class ChainSubscriptions implements Startable {
  readonly #maxPerConnection: number;
  readonly #modules: ChainSubscriptionsModules;
  // Keyed by the connection's context object: the transport passes the same one with every message.
  readonly #connections = new WeakMap<RpcContext, Connection>();
  readonly #newHeads = new Set<Subscription>();
  readonly #finalized = new Set<Subscription>();
  readonly #byAccount = new Map<string, Set<Subscription>>();
  #lastFinalizedHeight = 0;
  #unlisten: (() => void)[] = [];

  constructor(options: ChainSubscriptionsOptions, modules: ChainSubscriptionsModules) {
    this.#maxPerConnection = options.maxPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION;
    this.#modules = modules;
  }

  async start(): Promise<void> {
    if (this.#unlisten.length > 0) return;
    const { chain } = this.#modules;
    this.#unlisten = [chain.onHead((block) => this.#onHead(block)), chain.onReorg((reverted, applied) => this.#onReorg(reverted, applied))];
  }

  async stop(): Promise<void> {
    for (const unlisten of this.#unlisten) unlisten();
    this.#unlisten = [];
  }

  /** Subscriptions held by all connections. */
  get size(): number {
    let n = this.#newHeads.size + this.#finalized.size;
    for (const subs of this.#byAccount.values()) n += subs.size;
    return n;
  }

  /** Registers a connection (by the context its requests carry) and how to send it a notification. */
  connect(ctx: RpcContext, send: (text: string) => void): void {
    this.#connections.set(ctx, { send, subscriptions: new Map() });
  }

  /** Drops a connection and all its subscriptions. */
  disconnect(ctx: RpcContext): void {
    const connection = this.#connections.get(ctx);
    if (connection === undefined) return;
    for (const sub of connection.subscriptions.values()) this.#remove(sub);
    this.#connections.delete(ctx);
  }

  /** Subscribes the caller's connection to `kind`; returns the new subscription's id. Throws RpcError. */
  subscribe(ctx: RpcContext, kind: SubscriptionKind, account?: AccountId): string {
    const connection = this.#connections.get(ctx);
    if (connection === undefined) throw new RpcError(SUBSCRIPTIONS_NEED_WEBSOCKET);
    if (connection.subscriptions.size >= this.#maxPerConnection) {
      throw new RpcError(TOO_MANY_SUBSCRIPTIONS, undefined, { limit: this.#maxPerConnection });
    }
    if (kind === 'accountActivity' && account === undefined) {
      throw new RpcError(RpcErrors.INVALID_PARAMS, 'Invalid params: accountActivity needs params {"account": "<64 hex digits>"}', { param: 'params' });
    }
    if (kind !== 'accountActivity' && account !== undefined) {
      throw new RpcError(RpcErrors.INVALID_PARAMS, `Invalid params: ${kind} takes no params`, { param: 'params' });
    }
    const random = this.#modules.random ?? ((n: number) => randomBytes(n));
    let id = toHex(random(16));
    while (connection.subscriptions.has(id)) id = toHex(random(16));
    const sub: Subscription = { id, kind, account: account === undefined ? undefined : toHex(account), connection, held: [] };
    connection.subscriptions.set(id, sub);
    if (kind === 'newHeads') this.#newHeads.add(sub);
    else if (kind === 'finalized') {
      if (this.#finalized.size === 0) this.#lastFinalizedHeight = this.#modules.chain.finalized.height;
      this.#finalized.add(sub);
    } else {
      const subs = this.#byAccount.get(sub.account!) ?? new Set();
      subs.add(sub);
      this.#byAccount.set(sub.account!, subs);
    }
    return id;
  }

  /** Ends one of the caller's subscriptions; false when it has none by that id. */
  unsubscribe(ctx: RpcContext, id: string): boolean {
    const connection = this.#connections.get(ctx);
    if (connection === undefined) throw new RpcError(SUBSCRIPTIONS_NEED_WEBSOCKET);
    const sub = connection.subscriptions.get(id);
    if (sub === undefined) return false;
    this.#remove(sub);
    return true;
  }

  /**
   * Sends what was held back for the connection's new subscriptions. The transport calls this after it sent
   * the answer to a request, so a subscription's id always reaches the client before its first notification.
   */
  release(ctx: RpcContext): void {
    const connection = this.#connections.get(ctx);
    if (connection === undefined) return;
    for (const sub of connection.subscriptions.values()) this.#release(sub);
  }

  #release(sub: Subscription): void {
    const held = sub.held;
    if (held === undefined) return;
    sub.held = undefined;
    for (const text of held) sub.connection.send(text);
  }

  #remove(sub: Subscription): void {
    sub.connection.subscriptions.delete(sub.id);
    sub.held = undefined;
    this.#newHeads.delete(sub);
    this.#finalized.delete(sub);
    if (sub.account !== undefined) {
      const subs = this.#byAccount.get(sub.account);
      subs?.delete(sub);
      if (subs?.size === 0) this.#byAccount.delete(sub.account);
    }
  }

  #deliver(sub: Subscription, resultJson: string): void {
    // A subscription removed by an earlier send's failure (its connection closed) gets nothing more.
    if (!sub.connection.subscriptions.has(sub.id)) return;
    const text = notification(sub.id, resultJson);
    if (sub.held === undefined) {
      sub.connection.send(text);
      return;
    }
    sub.held.push(text);
    if (sub.held.length > MAX_HELD_NOTIFICATIONS) this.#release(sub);
  }

  #onHead(block: Block): void {
    if (this.#newHeads.size > 0) {
      const json = JSON.stringify(headerToJson(block.hash, block.header));
      for (const sub of [...this.#newHeads]) this.#deliver(sub, json);
    }
    if (this.#byAccount.size > 0) this.#accountActivity(block, (record) => getRecord(this.#modules.chain.state, record)?.owner, false);
    if (this.#finalized.size > 0) {
      const finalized = this.#modules.chain.finalized;
      if (finalized.height > this.#lastFinalizedHeight) {
        this.#lastFinalizedHeight = finalized.height;
        const json = JSON.stringify({ height: finalized.height, hash: toHex(finalized.hash) });
        for (const sub of [...this.#finalized]) this.#deliver(sub, json);
      }
    }
  }

  // The chain calls this before the new branch's heads, with the head state already the new branch's.
  #onReorg(reverted: readonly Block[], applied: readonly Block[]): void {
    if (this.#newHeads.size > 0) {
      const json = JSON.stringify({ reverted: reverted.map((b) => toHex(b.hash)), applied: applied.map((b) => toHex(b.hash)) });
      for (const sub of [...this.#newHeads]) this.#deliver(sub, json);
    }
    if (this.#byAccount.size === 0) return;
    // A record created on the reverted branch is gone from the head state; its creation says who owned it.
    const createdThere = new Map<string, AccountId>();
    for (const block of reverted) {
      for (const tx of block.transactions) if (tx.body.type === TxType.CreateRecord) createdThere.set(toHex(tx.id), tx.sender);
    }
    const ownerOf = (record: Hash): AccountId | undefined => getRecord(this.#modules.chain.state, record)?.owner ?? createdThere.get(toHex(record));
    for (const block of reverted) this.#accountActivity(block, ownerOf, true);
  }

  #accountActivity(block: Block, ownerOf: (record: Hash) => AccountId | undefined, removed: boolean): void {
    const blockHash = toHex(block.hash);
    const transactions = removed ? [...block.transactions].reverse() : block.transactions;
    for (const tx of transactions) {
      let json: string | undefined;
      for (const account of accountsConcerned(tx, ownerOf)) {
        const subs = this.#byAccount.get(account);
        if (subs === undefined) continue;
        json ??= JSON.stringify(activityOf(tx, block.header.height, blockHash, removed));
        for (const sub of [...subs]) this.#deliver(sub, json);
      }
    }
  }
}

function activityOf(tx: Transaction, height: number, blockHash: string, removed: boolean): AccountActivity {
  const record = recordOf(tx);
  return {
    txId: toHex(tx.id),
    type: TX_TYPE_NAMES[tx.body.type],
    height,
    blockHash,
    sender: toHex(tx.sender),
    ...(record === undefined ? {} : { record: toHex(record) }),
    ...(removed ? { removed: true as const } : {}),
  };
}
