// JSON-RPC 2.0 dispatcher (https://www.jsonrpc.org/specification), written here
// because the common npm helper answers `[]` and notifications wrongly. Pure: text
// in, text out, no I/O; the transports (HTTP now, WebSocket later) share it.

import Type, { type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import {
  RpcError,
  RpcErrors,
  SERVER_ERROR_RANGE,
  encodeErrorResponse,
  specError,
  type JsonRpcId,
  type RpcErrorKind,
} from './errors.ts';
import type { ParamSpec, RpcContext, RpcMethod } from './method.ts';
import { buildOpenRpcDocument, type OpenRpcDocument, type OpenRpcInfo } from './openrpc.ts';

export const DEFAULT_MAX_BATCH_LENGTH = 1_000;
export const DEFAULT_MAX_NESTING_DEPTH = 64;
export const DISCOVER_METHOD = 'rpc.discover';

/** The slice of a pino Logger the dispatcher uses. */
export interface RpcLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  readonly logger: RpcLogger;
  /** Most requests in one batch; longer batches are refused whole. Default 1,000. */
  readonly maxBatchLength?: number;
  /** Deepest `[`/`{` nesting accepted, counted on the raw text before parsing. Default 64. */
  readonly maxNestingDepth?: number;
  /** `info` of the OpenRPC document. */
  readonly info?: OpenRpcInfo;
  /** Check every result against its schema (costly on big results; meant for tests and dev chains). */
  readonly validateResults?: boolean;
}

export interface RpcDispatcher {
  /** Answers one HTTP body or WebSocket message; undefined when nothing must be sent (notifications only). */
  handle(bodyText: string, ctx: RpcContext): Promise<string | undefined>;
  /** The OpenRPC document rpc.discover returns. */
  readonly document: OpenRpcDocument;
}

const DEFAULT_INFO: OpenRpcInfo = { title: 'medchain JSON-RPC', version: '0.1.0' };
const MAX_ECHOED_METHOD_NAME = 100;

interface BoundParam {
  readonly spec: ParamSpec;
  readonly required: boolean;
  readonly validator: Validator;
}

interface CompiledMethod {
  readonly method: RpcMethod;
  readonly params: readonly BoundParam[];
  readonly byName: ReadonlyMap<string, BoundParam>;
  readonly result: Validator;
  /** Result schema contains a TypeBox codec, so results must be encoded for the wire. */
  readonly encodeResult: boolean;
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** True when `text` nests arrays/objects deeper than `maxDepth`; brackets inside strings do not count. */
export function exceedsNestingDepth(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isValidId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function containsCodec(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  if (Type.IsCodec(schema)) return true;
  return Object.values(schema).some(containsCodec);
}

// The JSON pointer `schemaPath` of a validation error leads to the failing
// subschema; its description (e.g. "32-byte hex, 0x-prefixed") says what was expected.
function subschemaAt(root: TSchema, schemaPath: string): unknown {
  let node: unknown = root;
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    if (typeof node !== 'object' || node === null) return undefined;
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function describeInvalidParam(param: BoundParam, value: unknown): RpcError {
  const errors = param.validator.Errors(value);
  // Errors inside anyOf/oneOf branches list every branch that failed, which
  // misleads ("must be string" for a string|null param given 5); prefer the others.
  const direct = errors.filter((e) => !/\/(anyOf|oneOf)\/\d+/.test(e.schemaPath));
  const first = direct[0] ?? errors[0];
  const name = param.spec.name;
  if (first === undefined) {
    return new RpcError(RpcErrors.INVALID_PARAMS, `Invalid params: "${name}" does not match its schema`, { param: name });
  }
  const at = first.instancePath === '' ? '' : ` at ${first.instancePath}`;
  const failing = subschemaAt(param.spec.schema, first.schemaPath);
  const description = isPlainObject(failing) && typeof failing.description === 'string' ? failing.description : undefined;
  const expected = description === undefined ? '' : ` (expected ${description})`;
  return new RpcError(RpcErrors.INVALID_PARAMS, `Invalid params: "${name}"${at} ${first.message}${expected}`, {
    param: name,
    ...(first.instancePath === '' ? {} : { path: first.instancePath }),
  });
}

function invalidParams(message: string, extra?: Readonly<Record<string, unknown>>): RpcError {
  return new RpcError(RpcErrors.INVALID_PARAMS, `Invalid params: ${message}`, extra);
}

function listNames(params: readonly BoundParam[]): string {
  return params.length === 0 ? 'no params' : params.map((p) => `"${p.spec.name}"`).join(', ');
}

// Params by position (array) or by name (object), spec section 4.2; the
// handler always gets an object keyed by param name.
function bindParams(compiled: CompiledMethod, raw: unknown): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const params = compiled.params;
  const supplied: (readonly [BoundParam, unknown])[] = [];
  if (raw === undefined) {
    // no params member: same as an empty list
  } else if (Array.isArray(raw)) {
    if (raw.length > params.length) {
      throw invalidParams(`expected at most ${params.length} params (${listNames(params)}), got ${raw.length}`);
    }
    raw.forEach((value, i) => {
      const param = params[i];
      if (param !== undefined) supplied.push([param, value]);
    });
  } else if (isPlainObject(raw)) {
    for (const [key, value] of Object.entries(raw)) {
      const param = compiled.byName.get(key);
      if (param === undefined) {
        throw invalidParams(`unknown param "${key.slice(0, MAX_ECHOED_METHOD_NAME)}"; this method takes ${listNames(params)}`, {
          param: key.slice(0, MAX_ECHOED_METHOD_NAME),
        });
      }
      supplied.push([param, value]);
    }
  }
  const given = new Set(supplied.map(([p]) => p));
  params.forEach((param, position) => {
    if (param.required && !given.has(param)) {
      throw invalidParams(`missing required param "${param.spec.name}" (position ${position})`, { param: param.spec.name });
    }
  });
  for (const [param, value] of supplied) {
    if (!param.validator.Check(value)) throw describeInvalidParam(param, value);
    values[param.spec.name] = param.validator.Decode(value);
  }
  return values;
}

function checkTable(methods: readonly RpcMethod[]): void {
  const names = new Set<string>();
  const codeOfReason = new Map<string, number>();
  for (const method of methods) {
    if (method.name === '' || method.name.startsWith('rpc.')) {
      throw new Error(`RPC method name "${method.name}" is empty or uses the reserved "rpc." prefix`);
    }
    if (names.has(method.name)) throw new Error(`RPC method "${method.name}" is defined twice`);
    names.add(method.name);
    const paramNames = new Set<string>();
    let sawOptional = false;
    for (const param of method.params) {
      if (paramNames.has(param.name)) throw new Error(`RPC method "${method.name}" has two params named "${param.name}"`);
      paramNames.add(param.name);
      if (param.required === false) sawOptional = true;
      else if (sawOptional) {
        throw new Error(`RPC method "${method.name}": required param "${param.name}" follows an optional one`);
      }
    }
    for (const kind of method.errors ?? []) checkErrorKind(kind, codeOfReason);
  }
}

// A code is a category (e.g. "transaction rejected") and may carry several reasons; a reason is the stable,
// specific cause and always comes with the same code.
function checkErrorKind(kind: RpcErrorKind, codeOfReason: Map<string, number>): void {
  const knownCode = codeOfReason.get(kind.reason);
  if (knownCode !== undefined && knownCode !== kind.code) {
    throw new Error(`RPC error reason ${kind.reason} is used with codes ${knownCode} and ${kind.code}`);
  }
  codeOfReason.set(kind.reason, kind.code);
}

function compileMethod(method: RpcMethod): CompiledMethod {
  const params = method.params.map((spec) => ({ spec, required: spec.required !== false, validator: Compile(spec.schema) }));
  return {
    method,
    params,
    byName: new Map(params.map((p) => [p.spec.name, p])),
    result: Compile(method.result.schema),
    encodeResult: containsCodec(method.result.schema),
  };
}

const OpenRpcDocumentSchema = Type.Object(
  {
    openrpc: Type.String(),
    info: Type.Object({ title: Type.String(), version: Type.String() }),
    methods: Type.Array(Type.Object({ name: Type.String() })),
  },
  { description: 'OpenRPC 1.x document, see https://spec.open-rpc.org' },
);

/** Creates the dispatcher for `methods`, adding `rpc.discover`; throws on an inconsistent table. */
export function createDispatcher(methods: readonly RpcMethod[], options: DispatcherOptions): RpcDispatcher {
  checkTable(methods);
  const logger = options.logger;
  const maxBatchLength = options.maxBatchLength ?? DEFAULT_MAX_BATCH_LENGTH;
  const maxNestingDepth = options.maxNestingDepth ?? DEFAULT_MAX_NESTING_DEPTH;
  const validateResults = options.validateResults ?? false;

  const discover: RpcMethod = {
    name: DISCOVER_METHOD,
    summary: 'Returns the OpenRPC document describing every method of this node.',
    params: [],
    result: { name: 'openrpcDocument', schema: OpenRpcDocumentSchema },
    handler: () => document,
  };
  const table = [...methods, discover];
  const document = buildOpenRpcDocument(table, options.info ?? DEFAULT_INFO);
  const compiled = new Map(table.map((m) => [m.name, compileMethod(m)]));

  function toWireResult(entry: CompiledMethod, result: unknown): unknown {
    const value = result === undefined ? null : result;
    if (entry.encodeResult) return entry.result.Encode(value);
    if (validateResults && !entry.result.Check(value)) {
      const problems = entry.result.Errors(value).slice(0, 5);
      throw new Error(`result of ${entry.method.name} does not match its schema: ${JSON.stringify(problems)}`);
    }
    return value;
  }

  function internalError(err: unknown, method: string): RpcError {
    // The caller learns only that it failed; the log gets the stack.
    logger.error({ err, method }, 'RPC handler failed');
    return specError(RpcErrors.INTERNAL_ERROR, 'The node failed to process this request; the details are in its log');
  }

  function respondError(error: RpcError, id: JsonRpcId): string {
    try {
      return encodeErrorResponse(error, id);
    } catch (err) {
      // A handler put something unserialisable (a bigint, a cycle) in its error data.
      return encodeErrorResponse(internalError(err, 'error serialisation'), id);
    }
  }

  async function handleRequest(request: unknown, ctx: RpcContext): Promise<string | undefined> {
    if (!isPlainObject(request)) {
      return respondError(specError(RpcErrors.INVALID_REQUEST, 'A request must be a JSON object'), null);
    }
    const hasId = Object.hasOwn(request, 'id');
    const id = request.id;
    if (hasId && !isValidId(id)) {
      return respondError(specError(RpcErrors.INVALID_REQUEST, '"id" must be a string, a number or null'), null);
    }
    const replyId: JsonRpcId = hasId && isValidId(id) ? id : null;
    if (request.jsonrpc !== '2.0') {
      return respondError(specError(RpcErrors.INVALID_REQUEST, '"jsonrpc" must be exactly "2.0"'), replyId);
    }
    if (typeof request.method !== 'string') {
      return respondError(specError(RpcErrors.INVALID_REQUEST, '"method" must be a string'), replyId);
    }
    const params = request.params;
    if (Object.hasOwn(request, 'params') && !Array.isArray(params) && !isPlainObject(params)) {
      return respondError(specError(RpcErrors.INVALID_REQUEST, '"params" must be an array or an object when present'), replyId);
    }
    const isNotification = !hasId;
    const name = request.method;
    const entry = compiled.get(name);
    let result: unknown;
    try {
      if (entry === undefined) {
        throw specError(
          RpcErrors.METHOD_NOT_FOUND,
          `No method ${JSON.stringify(name.slice(0, MAX_ECHOED_METHOD_NAME))}; rpc.discover lists the methods this node serves`,
        );
      }
      if (entry.method.admin === true && !ctx.admin) throw new RpcError(RpcErrors.UNAUTHORIZED);
      const values = bindParams(entry, params);
      result = toWireResult(entry, await entry.method.handler(values, ctx));
    } catch (err) {
      if (isNotification) {
        // The spec forbids answering a notification, so failures only reach the log.
        if (!(err instanceof RpcError)) logger.error({ err, method: name }, 'RPC notification handler failed');
        return undefined;
      }
      return respondError(err instanceof RpcError ? err : internalError(err, name), replyId);
    }
    if (isNotification) return undefined;
    try {
      return JSON.stringify({ jsonrpc: '2.0', result, id: replyId });
    } catch (err) {
      // e.g. a bigint or a cycle in the result: our bug, not the caller's.
      return respondError(internalError(err, name), replyId);
    }
  }

  async function handle(bodyText: string, ctx: RpcContext): Promise<string | undefined> {
    if (exceedsNestingDepth(bodyText, maxNestingDepth)) {
      return respondError(
        specError(RpcErrors.NESTING_TOO_DEEP, `JSON nested deeper than ${maxNestingDepth} levels is refused`, {
          limit: maxNestingDepth,
        }),
        null,
      );
    }
    let payload: unknown;
    try {
      payload = JSON.parse(bodyText);
    } catch {
      // Not swallowed: invalid JSON is answered with -32700. The parser's own message
      // quotes the input back, so it is not forwarded.
      return respondError(specError(RpcErrors.PARSE_ERROR, 'The body is not valid JSON'), null);
    }
    if (!Array.isArray(payload)) return handleRequest(payload, ctx);
    if (payload.length === 0) {
      return respondError(specError(RpcErrors.INVALID_REQUEST, 'A batch must contain at least one request'), null);
    }
    if (payload.length > maxBatchLength) {
      return respondError(
        specError(
          RpcErrors.BATCH_TOO_LARGE,
          `A batch may hold at most ${maxBatchLength} requests, this one has ${payload.length}; split it`,
          { limit: maxBatchLength },
        ),
        null,
      );
    }
    // One after the other, in order: the spec allows any order, and sequential
    // keeps e.g. a batch of transactions from one sender in nonce order.
    const answers: string[] = [];
    for (const request of payload) {
      const answer = await handleRequest(request, ctx);
      if (answer !== undefined) answers.push(answer);
    }
    return answers.length === 0 ? undefined : `[${answers.join(',')}]`;
  }

  return { handle, document };
}
