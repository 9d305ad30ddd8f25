// OpenRPC 1.x document (https://spec.open-rpc.org) built from the method table,
// so what rpc.discover describes is exactly what the dispatcher serves.

import type { TSchema } from 'typebox';
import { RpcErrors, type RpcErrorKind } from './errors.ts';
import type { RpcMethod } from './method.ts';

export const OPENRPC_VERSION = '1.3.2';

/** The `info` object: which API this is. */
export interface OpenRpcInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

export type JsonSchema = Readonly<Record<string, unknown>>;

export interface OpenRpcContentDescriptor {
  readonly name: string;
  readonly description?: string;
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface OpenRpcError {
  readonly code: number;
  readonly message: string;
  readonly data: { readonly reason: string };
}

export interface OpenRpcMethod {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly { readonly name: string }[];
  readonly paramStructure: 'either';
  readonly params: readonly OpenRpcContentDescriptor[];
  readonly result: OpenRpcContentDescriptor;
  readonly errors?: readonly OpenRpcError[];
}

export interface OpenRpcDocument {
  readonly openrpc: typeof OPENRPC_VERSION;
  readonly info: OpenRpcInfo;
  readonly methods: readonly OpenRpcMethod[];
}

/** Tag on methods that need the admin token. */
export const ADMIN_TAG = 'admin';

// TypeBox keeps its bookkeeping in non-enumerable keys (`~kind`, `~codec`), so a
// JSON round trip leaves exactly the JSON Schema a client should see.
function toJsonSchema(schema: TSchema): JsonSchema {
  const plain: unknown = JSON.parse(JSON.stringify(schema));
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new TypeError('a param or result schema must be a JSON Schema object');
  }
  return plain as JsonSchema;
}

function describeError(kind: RpcErrorKind): OpenRpcError {
  return { code: kind.code, message: kind.message, data: { reason: kind.reason } };
}

function describeMethod(method: RpcMethod): OpenRpcMethod {
  const errors = [...(method.errors ?? [])];
  if (method.admin === true) errors.push(RpcErrors.UNAUTHORIZED);
  if (method.params.length > 0) errors.push(RpcErrors.INVALID_PARAMS);
  return {
    name: method.name,
    summary: method.summary,
    ...(method.description === undefined ? {} : { description: method.description }),
    ...(method.admin === true ? { tags: [{ name: ADMIN_TAG }] } : {}),
    paramStructure: 'either',
    params: method.params.map((p) => ({
      name: p.name,
      ...(p.description === undefined ? {} : { description: p.description }),
      required: p.required !== false,
      schema: toJsonSchema(p.schema),
    })),
    result: {
      name: method.result.name,
      ...(method.result.description === undefined ? {} : { description: method.result.description }),
      required: true,
      schema: toJsonSchema(method.result.schema),
    },
    ...(errors.length === 0 ? {} : { errors: errors.map(describeError) }),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Builds the (frozen) OpenRPC document describing `methods` in table order. */
export function buildOpenRpcDocument(methods: readonly RpcMethod[], info: OpenRpcInfo): OpenRpcDocument {
  return deepFreeze({ openrpc: OPENRPC_VERSION, info: { ...info }, methods: methods.map(describeMethod) });
}
