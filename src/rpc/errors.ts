// JSON-RPC 2.0 errors (https://www.jsonrpc.org/specification section 5.1).
//
// Every error on the wire carries `data.reason`, a stable UPPER_SNAKE string that
// clients can switch on; `message` is for people. For the codes the spec reserves,
// `message` is the spec's own text (so generic clients and the spec's examples
// agree) and the explanation goes in `data.detail`; -32602 is the one exception,
// its message names the offending param (issue 2 asks for that).

/** Error codes the JSON-RPC 2.0 specification reserves. */
export const JsonRpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** The "server error" range the spec leaves to implementations; all medchain errors live here. */
export const SERVER_ERROR_RANGE = { min: -32099, max: -32000 } as const;

/** -32000..-32009 belong to the RPC layer itself (auth, transport); methods define theirs from -32010. */
export const FRAMEWORK_ERROR_RANGE = { min: -32009, max: -32000 } as const;

/** A request id as the spec allows it: string, number or null. */
export type JsonRpcId = string | number | null;

/** One kind of error: a code, a stable reason and a default message. */
export interface RpcErrorKind {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
}

/** The `error` member of a JSON-RPC response as medchain sends it. */
export interface JsonRpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data: { readonly reason: string; readonly [key: string]: unknown };
}

const REASON_PATTERN = /^[A-Z][A-Z0-9_]*$/;

function kind(code: number, reason: string, message: string): RpcErrorKind {
  return Object.freeze({ code, reason, message });
}

/** Error kinds raised by the RPC layer itself; method authors may throw INVALID_PARAMS too. */
export const RpcErrors = {
  PARSE_ERROR: kind(JsonRpcErrorCode.PARSE_ERROR, 'PARSE_ERROR', 'Parse error'),
  INVALID_REQUEST: kind(JsonRpcErrorCode.INVALID_REQUEST, 'INVALID_REQUEST', 'Invalid Request'),
  BATCH_TOO_LARGE: kind(JsonRpcErrorCode.INVALID_REQUEST, 'BATCH_TOO_LARGE', 'Invalid Request'),
  NESTING_TOO_DEEP: kind(JsonRpcErrorCode.INVALID_REQUEST, 'NESTING_TOO_DEEP', 'Invalid Request'),
  BODY_TOO_LARGE: kind(JsonRpcErrorCode.INVALID_REQUEST, 'BODY_TOO_LARGE', 'Invalid Request'),
  UNSUPPORTED_MEDIA_TYPE: kind(JsonRpcErrorCode.INVALID_REQUEST, 'UNSUPPORTED_MEDIA_TYPE', 'Invalid Request'),
  HTTP_METHOD_NOT_ALLOWED: kind(JsonRpcErrorCode.INVALID_REQUEST, 'HTTP_METHOD_NOT_ALLOWED', 'Invalid Request'),
  METHOD_NOT_FOUND: kind(JsonRpcErrorCode.METHOD_NOT_FOUND, 'METHOD_NOT_FOUND', 'Method not found'),
  INVALID_PARAMS: kind(JsonRpcErrorCode.INVALID_PARAMS, 'INVALID_PARAMS', 'Invalid params'),
  INTERNAL_ERROR: kind(JsonRpcErrorCode.INTERNAL_ERROR, 'INTERNAL_ERROR', 'Internal error'),
  UNAUTHORIZED: kind(-32000, 'UNAUTHORIZED', 'This method needs the admin token: send "Authorization: Bearer <token>"'),
  HOST_NOT_ALLOWED: kind(-32001, 'HOST_NOT_ALLOWED', 'The Host header is not one this node answers to'),
  SHUTTING_DOWN: kind(-32002, 'SHUTTING_DOWN', 'The node is shutting down; retry against another node or later'),
} as const;

/** Defines a medchain error kind; code must be in -32099..-32010 and reason UPPER_SNAKE. */
export function defineRpcError(code: number, reason: string, message: string): RpcErrorKind {
  if (!Number.isInteger(code) || code < SERVER_ERROR_RANGE.min || code > SERVER_ERROR_RANGE.max) {
    throw new RangeError(`RPC error code ${code} for ${reason} is outside ${SERVER_ERROR_RANGE.min}..${SERVER_ERROR_RANGE.max}`);
  }
  if (code >= FRAMEWORK_ERROR_RANGE.min) {
    throw new RangeError(
      `RPC error code ${code} for ${reason} is reserved for the RPC layer (${FRAMEWORK_ERROR_RANGE.min}..${FRAMEWORK_ERROR_RANGE.max})`,
    );
  }
  if (!REASON_PATTERN.test(reason)) {
    throw new RangeError(`RPC error reason "${reason}" must be UPPER_SNAKE_CASE`);
  }
  return kind(code, reason, message);
}

/** An expected failure a handler reports to the caller; anything else thrown becomes INTERNAL_ERROR. */
export class RpcError extends Error {
  readonly code: number;
  readonly reason: string;
  /** Extra members of `error.data`; `reason` is always added on the wire and cannot be overridden. */
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(errorKind: RpcErrorKind, message?: string, data?: Readonly<Record<string, unknown>>) {
    super(message ?? errorKind.message);
    this.name = 'RpcError';
    this.code = errorKind.code;
    this.reason = errorKind.reason;
    this.data = data;
  }

  /** The wire form: code, message and data with the reason; never the stack. */
  toErrorObject(): JsonRpcErrorObject {
    return { code: this.code, message: this.message, data: { ...this.data, reason: this.reason } };
  }
}

/** An error with a spec-reserved code: spec message, explanation in `data.detail`. */
export function specError(errorKind: RpcErrorKind, detail: string, extra?: Readonly<Record<string, unknown>>): RpcError {
  return new RpcError(errorKind, errorKind.message, { ...extra, detail });
}

/** Serialises a complete error response, e.g. for transport-level refusals. */
export function encodeErrorResponse(error: RpcError, id: JsonRpcId = null): string {
  return JSON.stringify({ jsonrpc: '2.0', error: error.toErrorObject(), id });
}
