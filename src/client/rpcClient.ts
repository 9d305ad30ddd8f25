// A typed JSON-RPC 2.0 client for a medchain node over HTTP (`POST /rpc`). Runs unchanged in Node and
// browsers: it needs only fetch, Headers and AbortSignal. Result types mirror the JSON the node sends
// (src/rpc/methods): bytes are lowercase hex strings, times are milliseconds since the epoch.

import { toHex } from '../codec/bytes.ts';

// ---------------------------------------------------------------------------------------------------------
// Result shapes

/** Bytes as lowercase hex without a prefix (inputs may also be `0x`-prefixed or a Uint8Array). */
export type Hex = string;
export type HexInput = Hex | Uint8Array;

/** `node_info` */
export interface NodeInfo {
  readonly version: string;
  readonly chainId: string;
  readonly genesisHash: Hex;
  /** `pow` or `pos`. */
  readonly engine: string;
  readonly height: number;
  readonly head: Hex;
  /** The key this node proposes blocks with, if it is a validator. */
  readonly validator: Hex | null;
  readonly mempoolSize: number;
  /** Reads this node refused since it started. */
  readonly deniedReads: number;
  readonly uptimeMs: number;
}

/** A block header (`chain_getHead`, `chain_getBlock`). */
export interface BlockHeaderJson {
  readonly hash: Hex;
  readonly chainId: string;
  readonly height: number;
  readonly parent: Hex;
  /** Block time, ms since the epoch. */
  readonly time: number;
  readonly txRoot: Hex;
  readonly stateRoot: Hex;
  readonly proposer: Hex;
  readonly seal: Hex;
}

/** A decoded transaction; `payload` holds the type's fields with bytes as hex. */
export interface TransactionJson {
  readonly id: Hex;
  /** e.g. `identity.register`, `record.create`. */
  readonly type: string;
  readonly typeCode: number;
  readonly chainId: string;
  readonly sender: Hex;
  readonly senderFingerprint: string;
  readonly nonce: number;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signature: Hex;
  /** Wire size in bytes. */
  readonly size: number;
}

/** A block with its transactions as ids (`Tx = Hex`) or in full (`Tx = TransactionJson`). */
export interface BlockJson<Tx extends Hex | TransactionJson = Hex> {
  readonly header: BlockHeaderJson;
  readonly size: number;
  readonly transactionCount: number;
  readonly transactions: readonly Tx[];
}

/** Proof that a transaction id is leaf `index` of a block's txRoot. */
export interface MerkleProofJson {
  readonly index: number;
  readonly leafCount: number;
  readonly siblings: readonly Hex[];
}

export interface PendingTransaction {
  readonly status: 'pending';
  readonly transaction: TransactionJson;
}

export interface IncludedTransaction {
  readonly status: 'included';
  readonly transaction: TransactionJson;
  readonly blockHash: Hex;
  readonly height: number;
  readonly index: number;
  readonly txRoot: Hex;
  readonly proof: MerkleProofJson;
}

/** `tx_get`: in the mempool, in a block of the canonical chain, or unknown to this node. */
export type TransactionLookup = PendingTransaction | IncludedTransaction | { readonly status: 'unknown' };

/** `tx_submit` */
export interface SubmittedTransaction {
  readonly txId: Hex;
  readonly status: 'pending';
}

export interface AttestationJson {
  readonly hospital: Hex;
  readonly hospitalName: string;
  readonly name: string;
  readonly licence: string;
  readonly expiresAt: number;
  /** Height of the attestation. */
  readonly attestedAt: number;
  readonly revokedAt: number | null;
  readonly revokeReason: string;
  /** Neither revoked nor expired at the head block's time. */
  readonly valid: boolean;
}

/** `identity_get` */
export interface IdentityJson {
  readonly id: Hex;
  readonly fingerprint: string;
  /** `patient`, `doctor` or `hospital`. */
  readonly role: string;
  readonly nonce: number;
  readonly registeredAt: number;
  readonly hospitalName: string | null;
  readonly attestations: readonly AttestationJson[];
}

export interface RecordVersionJson {
  readonly version: number;
  readonly commitment: Hex;
  readonly size: number;
  readonly contentType: string;
  readonly author: Hex;
  /** Height. */
  readonly addedAt: number;
}

/** `record_get`: on-chain metadata only, never ciphertext. */
export interface RecordJson {
  readonly id: Hex;
  readonly owner: Hex;
  readonly createdAt: number;
  /** Height of the erasing block; null while the record lives. */
  readonly erasedAt: number | null;
  readonly policy: Hex;
  /** The policy's bytecode disassembled. */
  readonly policySource: string;
  readonly versions: readonly RecordVersionJson[];
}

export type AccessAction = 'read' | 'write' | 'delegate';

/** `access_check` arguments. */
export interface AccessQuery {
  readonly recordId: HexInput;
  readonly requester: HexInput;
  readonly action: AccessAction;
  /** HL7 purpose of use, e.g. `TREAT`. */
  readonly purpose?: string;
  /** Break-glass request. */
  readonly emergency?: boolean;
}

/** `access_check` */
export interface AccessDecision {
  readonly decision: 'allow' | 'deny' | 'error';
  /** Why it was denied, or the policy's error message. */
  readonly reason: string;
  /** The policy error code when `decision` is `error`. */
  readonly code: string | null;
  /** 1-based index of the deciding rule. */
  readonly rule: number | null;
  /** The head height the decision was made at. */
  readonly height: number;
}

// ---------------------------------------------------------------------------------------------------------
// Calls

/** JSON-RPC params: by position or by name. */
export type JsonRpcParams = readonly unknown[] | Readonly<Record<string, unknown>>;

declare const resultType: unique symbol;

/** One method call, typed by its result; build it with `medchainCalls` or `rpcCall`, run it with `send` or `batch`. */
export interface RpcCall<T> {
  readonly method: string;
  readonly params?: JsonRpcParams;
  /** Type-level only: never present at run time. */
  readonly [resultType]?: T;
}

/** The result type of an `RpcCall`. */
export type ResultOf<C> = C extends RpcCall<infer T> ? T : never;

/** A call of `method` whose result the caller asserts to be `T`. */
export function rpcCall<T = unknown>(method: string, params?: JsonRpcParams): RpcCall<T> {
  return params === undefined ? { method } : { method, params };
}

const hex = (value: HexInput): Hex => (typeof value === 'string' ? value : toHex(value));

/** Calls for the node's methods, params by name. */
export const medchainCalls = {
  nodeInfo: (): RpcCall<NodeInfo> => rpcCall('node_info'),
  getHead: (): RpcCall<BlockHeaderJson> => rpcCall('chain_getHead'),
  /** By height, or by block hash; null when there is none. */
  getBlock: (block: number | HexInput): RpcCall<BlockJson | null> =>
    rpcCall('chain_getBlock', { block: typeof block === 'number' ? block : hex(block), fullTransactions: false }),
  getBlockWithTransactions: (block: number | HexInput): RpcCall<BlockJson<TransactionJson> | null> =>
    rpcCall('chain_getBlock', { block: typeof block === 'number' ? block : hex(block), fullTransactions: true }),
  /** Wire bytes of a signed transaction. */
  submitTransaction: (transaction: HexInput): RpcCall<SubmittedTransaction> => rpcCall('tx_submit', { transaction: hex(transaction) }),
  getTransaction: (txId: HexInput): RpcCall<TransactionLookup> => rpcCall('tx_get', { txId: hex(txId) }),
  getIdentity: (accountId: HexInput): RpcCall<IdentityJson | null> => rpcCall('identity_get', { accountId: hex(accountId) }),
  getRecord: (recordId: HexInput): RpcCall<RecordJson | null> => rpcCall('record_get', { recordId: hex(recordId) }),
  checkAccess: (query: AccessQuery): RpcCall<AccessDecision> =>
    rpcCall('access_check', {
      recordId: hex(query.recordId),
      requester: hex(query.requester),
      action: query.action,
      ...(query.purpose === undefined ? {} : { purpose: query.purpose }),
      ...(query.emergency === undefined ? {} : { emergency: query.emergency }),
    }),
} as const;

// ---------------------------------------------------------------------------------------------------------
// Errors

/** The node answered with a JSON-RPC error: `code` is the category, `reason` (from `data.reason`) the stable cause. */
export class RpcClientError extends Error {
  readonly code: number;
  /** `data.reason`, e.g. `NONCE_TOO_LOW`; `UNKNOWN` when the server sent none. */
  readonly reason: string;
  readonly data: Readonly<Record<string, unknown>> | undefined;
  readonly method: string;
  /** 200 for ordinary errors; the transport's status for refusals such as 401, 403, 413, 503. */
  readonly httpStatus: number;

  constructor(method: string, error: { code: number; message: string; data?: unknown }, httpStatus: number) {
    super(error.message);
    this.name = 'RpcClientError';
    this.method = method;
    this.code = error.code;
    this.data = isPlainObject(error.data) ? error.data : undefined;
    this.reason = typeof this.data?.reason === 'string' ? this.data.reason : 'UNKNOWN';
    this.httpStatus = httpStatus;
  }
}

export type RpcTransportFailure =
  /** The request never got an HTTP answer (refused connection, DNS, CORS, reset). */
  | 'NETWORK'
  /** No answer within the time limit. */
  | 'TIMEOUT'
  /** An HTTP error status without a JSON-RPC error in the body (a proxy, a wrong URL). */
  | 'HTTP_STATUS'
  /** An answer that is not the JSON-RPC 2.0 response to this request. */
  | 'INVALID_RESPONSE';

/** The request did not get a JSON-RPC answer at all; nothing says whether the node acted on it. */
export class RpcTransportError extends Error {
  readonly reason: RpcTransportFailure;
  readonly method: string;
  readonly httpStatus: number | undefined;

  constructor(reason: RpcTransportFailure, method: string, message: string, options?: { httpStatus?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcTransportError';
    this.reason = reason;
    this.method = method;
    this.httpStatus = options?.httpStatus;
  }
}

/** `waitForTransaction` gave up: the time ran out, or the node dropped the transaction from its mempool. */
export class TransactionWaitError extends Error {
  readonly reason: 'TIMEOUT' | 'DROPPED';
  readonly txId: Hex;
  /** What tx_get said last (undefined if no answer came in time). */
  readonly lastStatus: TransactionLookup['status'] | undefined;

  constructor(reason: 'TIMEOUT' | 'DROPPED', txId: Hex, lastStatus: TransactionLookup['status'] | undefined, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransactionWaitError';
    this.reason = reason;
    this.txId = txId;
    this.lastStatus = lastStatus;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Client

export interface MedchainRpcOptions {
  /** The node's JSON-RPC endpoint, e.g. `http://127.0.0.1:8545/rpc`. */
  readonly url: string;
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Sent with every request, e.g. `{ authorization: 'Bearer <admin token>' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Time limit of one HTTP request. Default 30 s. */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this request. */
  readonly timeoutMs?: number;
}

export interface WaitOptions {
  /** Give up after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /** Time between two tx_get calls. Default 1 s. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export type BatchOutcome<T> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly error: RpcClientError };

/** Outcomes of a batch, in the order of its calls, each typed by its call. */
export type BatchOutcomes<C extends readonly RpcCall<unknown>[]> = { -readonly [K in keyof C]: BatchOutcome<ResultOf<C[K]>> };

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_WAIT_MS = 60_000;
const DEFAULT_POLL_MS = 1_000;

interface WireRequest {
  readonly jsonrpc: '2.0';
  readonly method: string;
  readonly params?: JsonRpcParams;
  readonly id: number;
}

type WireResponse =
  | { readonly id: number | string | null; readonly result: unknown; readonly error?: undefined }
  | { readonly id: number | string | null; readonly error: { code: number; message: string; data?: unknown }; readonly result?: undefined };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A JSON-RPC 2.0 response object: `jsonrpc: "2.0"`, an id, and exactly one of result and error.
function asResponse(value: unknown): WireResponse | undefined {
  if (!isPlainObject(value) || value.jsonrpc !== '2.0' || !('id' in value)) return undefined;
  const id = value.id;
  if (id !== null && typeof id !== 'number' && typeof id !== 'string') return undefined;
  const hasResult = 'result' in value;
  const error = value.error;
  if (hasResult === (error !== undefined)) return undefined;
  if (hasResult) return { id, result: value.result };
  if (!isPlainObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') return undefined;
  return { id, error: { code: error.code as number, message: error.message, data: error.data } };
}

function checkCall(call: RpcCall<unknown>): void {
  if (typeof call.method !== 'string' || call.method === '') throw new TypeError('a JSON-RPC method name must be a non-empty string');
  if (call.params !== undefined && !Array.isArray(call.params) && !isPlainObject(call.params)) {
    throw new TypeError(`params of ${call.method} must be an array or an object (JSON-RPC 2.0 section 4.2)`);
  }
}

// A function, so that TypeScript does not keep an earlier `aborted` check narrowed across an await.
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A medchain node's JSON-RPC API: `call` for any method, typed wrappers for the node's methods, `batch`. */
export class MedchainRpc {
  readonly url: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;
  #nextId = 1;

  constructor(options: MedchainRpcOptions) {
    this.url = options.url;
    // Called as a plain function: browsers refuse a fetch invoked as a method of another object.
    const globalFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);
    this.#fetch = options.fetch ?? globalFetch;
    this.#headers = { ...options.headers };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Calls any method; resolves with its result (asserted to be `T`), rejects with RpcClientError or RpcTransportError. */
  call<T = unknown>(method: string, params?: JsonRpcParams, options?: CallOptions): Promise<T> {
    return this.send(rpcCall<T>(method, params), options);
  }

  /** Runs one call built by `medchainCalls` or `rpcCall`. */
  async send<T>(call: RpcCall<T>, options: CallOptions = {}): Promise<T> {
    checkCall(call);
    const request = this.#request(call);
    const { status, body } = await this.#post(JSON.stringify(request), call.method, options);
    const response = asResponse(body);
    if (response === undefined || (response.error === undefined && response.id !== request.id)) {
      throw this.#unexpected(call.method, status, body, 'is not the JSON-RPC 2.0 response to this request');
    }
    // An error may carry id null: the node could not read the request's id (parse error, invalid request).
    if (response.error !== undefined) {
      if (response.id !== request.id && response.id !== null) throw this.#unexpected(call.method, status, body, 'answers another request id');
      throw new RpcClientError(call.method, response.error, status);
    }
    if (status !== 200) throw this.#unexpected(call.method, status, body, 'came with a non-200 status');
    return response.result as T;
  }

  /**
   * Sends several calls in one JSON-RPC batch. The node runs them in order; each outcome is its call's result
   * or error. A refusal of the whole batch (too long, too large) rejects with RpcClientError.
   */
  async batch<const C extends readonly RpcCall<unknown>[]>(calls: C, options: CallOptions = {}): Promise<BatchOutcomes<C>> {
    if (calls.length === 0) throw new RangeError('a JSON-RPC batch needs at least one call');
    calls.forEach(checkCall);
    const requests = calls.map((call) => this.#request(call));
    const label = `batch(${calls.map((c) => c.method).join(',')})`.slice(0, 200);
    const { status, body } = await this.#post(JSON.stringify(requests), label, options);
    if (!Array.isArray(body)) {
      const whole = asResponse(body);
      if (whole?.error !== undefined) throw new RpcClientError(label, whole.error, status);
      throw this.#unexpected(label, status, body, 'is not a JSON-RPC batch response');
    }
    const byId = new Map<number | string | null, WireResponse>();
    for (const item of body) {
      const response = asResponse(item);
      if (response === undefined) throw this.#unexpected(label, status, body, 'holds an element that is not a JSON-RPC 2.0 response');
      byId.set(response.id, response);
    }
    const outcomes = requests.map((request): BatchOutcome<unknown> => {
      const response = byId.get(request.id);
      if (response === undefined) throw this.#unexpected(label, status, body, `has no answer for request id ${request.id} (${request.method})`);
      if (response.error !== undefined) return { ok: false, error: new RpcClientError(request.method, response.error, status) };
      return { ok: true, result: response.result };
    });
    return outcomes as BatchOutcomes<C>;
  }

  /** `node_info` */
  nodeInfo(options?: CallOptions): Promise<NodeInfo> {
    return this.send(medchainCalls.nodeInfo(), options);
  }

  /** `chain_getHead` */
  getHead(options?: CallOptions): Promise<BlockHeaderJson> {
    return this.send(medchainCalls.getHead(), options);
  }

  /** `chain_getBlock` with transaction ids; null when there is no such block. */
  getBlock(block: number | HexInput, options?: CallOptions): Promise<BlockJson | null> {
    return this.send(medchainCalls.getBlock(block), options);
  }

  /** `chain_getBlock` with full transactions; null when there is no such block. */
  getBlockWithTransactions(block: number | HexInput, options?: CallOptions): Promise<BlockJson<TransactionJson> | null> {
    return this.send(medchainCalls.getBlockWithTransactions(block), options);
  }

  /** `tx_submit`: the wire bytes of a signed transaction; rejects with the node's reason (-32010 decode, -32011 rejected). */
  submitTransaction(transaction: HexInput, options?: CallOptions): Promise<SubmittedTransaction> {
    return this.send(medchainCalls.submitTransaction(transaction), options);
  }

  /** `tx_get` */
  getTransaction(txId: HexInput, options?: CallOptions): Promise<TransactionLookup> {
    return this.send(medchainCalls.getTransaction(txId), options);
  }

  /** `identity_get`: null if the account is not registered. */
  getIdentity(accountId: HexInput, options?: CallOptions): Promise<IdentityJson | null> {
    return this.send(medchainCalls.getIdentity(accountId), options);
  }

  /** `record_get`: null if there is no such record. */
  getRecord(recordId: HexInput, options?: CallOptions): Promise<RecordJson | null> {
    return this.send(medchainCalls.getRecord(recordId), options);
  }

  /** `access_check`: runs the record's policy at the head; records nothing. */
  checkAccess(query: AccessQuery, options?: CallOptions): Promise<AccessDecision> {
    return this.send(medchainCalls.checkAccess(query), options);
  }

  /**
   * Polls `tx_get` until the transaction is in a block and returns where. Rejects with TransactionWaitError on
   * timeout, or when a transaction seen pending becomes unknown (the node dropped it, e.g. it failed at block
   * building); with the signal's reason on abort; and at once on an RPC or transport error.
   */
  async waitForTransaction(txId: HexInput, options: WaitOptions = {}): Promise<IncludedTransaction> {
    const id = hex(txId);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    const deadline = Date.now() + timeoutMs;
    let last: TransactionLookup['status'] | undefined;
    for (;;) {
      const remaining = deadline - Date.now();
      let lookup: TransactionLookup;
      try {
        lookup = await this.getTransaction(id, { signal: options.signal, timeoutMs: Math.max(1, Math.min(remaining, this.#timeoutMs)) });
      } catch (error) {
        if (error instanceof RpcTransportError && error.reason === 'TIMEOUT' && Date.now() >= deadline) {
          throw new TransactionWaitError('TIMEOUT', id, last, `transaction ${id} was not included within ${timeoutMs} ms (tx_get did not answer in time)`, error);
        }
        throw error;
      }
      if (lookup.status === 'included') return lookup;
      if (lookup.status === 'unknown' && last === 'pending') {
        throw new TransactionWaitError('DROPPED', id, 'unknown', `transaction ${id} left the mempool without being included; check it and submit again`);
      }
      last = lookup.status;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TransactionWaitError('TIMEOUT', id, last, `transaction ${id} was not included within ${timeoutMs} ms (last status: ${last})`);
      }
      await sleep(Math.min(pollMs, left), options.signal);
    }
  }

  #request(call: RpcCall<unknown>): WireRequest {
    const id = this.#nextId++;
    return call.params === undefined ? { jsonrpc: '2.0', method: call.method, id } : { jsonrpc: '2.0', method: call.method, params: call.params, id };
  }

  async #post(body: string, method: string, options: CallOptions): Promise<{ status: number; body: unknown }> {
    const caller = options.signal;
    if (aborted(caller)) throw caller!.reason;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = caller === undefined ? timeout.signal : AbortSignal.any([caller, timeout.signal]);
    const headers = new Headers(this.#headers);
    headers.set('content-type', 'application/json');
    headers.set('accept', 'application/json');
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(this.url, { method: 'POST', headers, body, signal });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (aborted(caller)) throw caller!.reason;
      if (timeout.signal.aborted) throw new RpcTransportError('TIMEOUT', method, `${method}: no answer from ${this.url} within ${timeoutMs} ms`, { cause: error });
      const detail = error instanceof Error ? error.message : String(error);
      throw new RpcTransportError('NETWORK', method, `${method}: cannot reach ${this.url} (${detail})`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      if (status !== 200) throw new RpcTransportError('HTTP_STATUS', method, `${method}: HTTP ${status} from ${this.url}: ${text.slice(0, 200)}`, { httpStatus: status, cause: error });
      throw new RpcTransportError('INVALID_RESPONSE', method, `${method}: the answer from ${this.url} is not JSON: ${text.slice(0, 200)}`, { httpStatus: status, cause: error });
    }
    return { status, body: parsed };
  }

  #unexpected(method: string, status: number, body: unknown, problem: string): RpcTransportError {
    const shown = JSON.stringify(body)?.slice(0, 200) ?? String(body);
    if (status !== 200) return new RpcTransportError('HTTP_STATUS', method, `${method}: HTTP ${status} from ${this.url}: ${shown}`, { httpStatus: status });
    return new RpcTransportError('INVALID_RESPONSE', method, `${method}: the answer ${problem}: ${shown}`, { httpStatus: status });
  }
}
