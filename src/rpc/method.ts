// The method table: one entry per JSON-RPC method. The dispatcher validates and
// dispatches from it, and rpc.discover describes it, so the two cannot drift.

import type { StaticDecode, TSchema } from 'typebox';
import type { RpcErrorKind } from './errors.ts';

/** What a handler knows about the caller; node services reach handlers by closure, not through here. */
export interface RpcContext {
  /** True only when the transport checked the admin token. */
  readonly admin: boolean;
  readonly transport: 'http' | 'ws' | 'internal';
  readonly remoteAddress?: string;
  /** Aborted when the client goes away or the server stops. */
  readonly signal?: AbortSignal;
}

/** One parameter. Params are given by position in this order, or by name. */
export interface ParamSpec<Name extends string = string, Schema extends TSchema = TSchema> {
  readonly name: Name;
  readonly schema: Schema;
  /** Defaults to true. Optional params must come after every required one (by-position calls). */
  readonly required?: boolean;
  readonly description?: string;
}

/** The result, named as OpenRPC wants it. */
export interface ResultSpec<Schema extends TSchema = TSchema> {
  readonly name: string;
  readonly schema: Schema;
  readonly description?: string;
}

type IsOptionalParam<P> = P extends { readonly required: false } ? true : false;

/** The object a handler receives: param name -> decoded value; `required: false` params may be absent. */
export type ParamValues<P extends readonly ParamSpec[]> = {
  readonly [E in P[number] as IsOptionalParam<E> extends true ? never : E['name']]: StaticDecode<E['schema']>;
} & {
  readonly [E in P[number] as IsOptionalParam<E> extends true ? E['name'] : never]?: StaticDecode<E['schema']>;
};

/** A method as the dispatcher sees it: untyped params, so a table can mix methods. */
export interface RpcMethod {
  /** Namespaced, e.g. `chain_getBlock`; names starting with `rpc.` are reserved by the spec. */
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly params: readonly ParamSpec[];
  readonly result: ResultSpec;
  /** Our error kinds this method may raise, listed in the OpenRPC document. */
  readonly errors?: readonly RpcErrorKind[];
  /** Callable only with the admin token. */
  readonly admin?: boolean;
  handler(params: Readonly<Record<string, unknown>>, ctx: RpcContext): unknown;
}

/** A method definition with its param and result types tied to the schemas. */
export interface MethodDefinition<P extends readonly ParamSpec[], R extends TSchema> {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly params: P;
  readonly result: ResultSpec<R>;
  readonly errors?: readonly RpcErrorKind[];
  readonly admin?: boolean;
  handler(params: ParamValues<P>, ctx: RpcContext): StaticDecode<R> | Promise<StaticDecode<R>>;
}

/** Defines a method whose handler gets params typed (and codec-decoded) from their schemas. */
export function defineMethod<const P extends readonly ParamSpec[], R extends TSchema>(
  definition: MethodDefinition<P, R>,
): RpcMethod {
  const typed = definition.handler;
  return Object.freeze({
    ...definition,
    // The dispatcher only calls this after binding and validating params against
    // `definition.params`, which is exactly what ParamValues<P> describes.
    handler: (params: Readonly<Record<string, unknown>>, ctx: RpcContext): unknown =>
      typed.call(definition, params as ParamValues<P>, ctx),
  });
}
