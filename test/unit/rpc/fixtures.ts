// Methods and helpers shared by the RPC tests: the methods the JSON-RPC 2.0
// specification's examples call (section 7), plus a few that fail on purpose.

import Type from 'typebox';
import { createDispatcher, type DispatcherOptions, type RpcDispatcher } from '../../../src/rpc/dispatcher.ts';
import { RpcError, defineRpcError } from '../../../src/rpc/errors.ts';
import { defineMethod, type RpcContext, type RpcMethod } from '../../../src/rpc/method.ts';

/** What the dispatcher logged, for assertions. */
export interface CapturedLog {
  readonly level: 'error' | 'warn';
  readonly obj: object;
  readonly msg: string;
}

/** An RpcLogger that records instead of printing. */
export function captureLogger(): { logs: CapturedLog[]; error(obj: object, msg: string): void; warn(obj: object, msg: string): void } {
  const logs: CapturedLog[] = [];
  return {
    logs,
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
  };
}

export const RECORD_NOT_FOUND = defineRpcError(-32010, 'RECORD_NOT_FOUND', 'No record with this id');

const Int = Type.Integer();
const Hex = Type.Codec(Type.String({ pattern: '^0x([0-9a-f]{2})*$', description: 'lower-case hex bytes, 0x-prefixed' }))
  .Decode((text) => Uint8Array.from(Buffer.from(text.slice(2), 'hex')))
  .Encode((bytes) => `0x${Buffer.from(bytes).toString('hex')}`);

/** Everything the spec examples call, plus methods for errors, admin and codecs. */
export function specMethods(calls: string[] = []): RpcMethod[] {
  return [
    defineMethod({
      name: 'subtract',
      summary: 'minuend - subtrahend',
      params: [
        { name: 'minuend', schema: Int },
        { name: 'subtrahend', schema: Int },
      ],
      result: { name: 'difference', schema: Int },
      handler: ({ minuend, subtrahend }) => minuend - subtrahend,
    }),
    defineMethod({
      name: 'update',
      summary: 'Accepts five numbers and records the call.',
      params: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, schema: Int, required: false })),
      result: { name: 'nothing', schema: Type.Null() },
      handler: () => {
        calls.push('update');
        return null;
      },
    }),
    defineMethod({
      name: 'sum',
      summary: 'Adds up to three numbers.',
      params: [
        { name: 'a', schema: Int },
        { name: 'b', schema: Int, required: false },
        { name: 'c', schema: Int, required: false },
      ],
      result: { name: 'total', schema: Int },
      handler: ({ a, b, c }) => a + (b ?? 0) + (c ?? 0),
    }),
    defineMethod({
      name: 'notify_sum',
      summary: 'Adds three numbers; meant to be called as a notification.',
      params: ['a', 'b', 'c'].map((name) => ({ name, schema: Int })),
      result: { name: 'nothing', schema: Type.Null() },
      handler: () => {
        calls.push('notify_sum');
        return null;
      },
    }),
    defineMethod({
      name: 'notify_hello',
      summary: 'Says hello; meant to be called as a notification.',
      params: [{ name: 'n', schema: Int }],
      result: { name: 'nothing', schema: Type.Null() },
      handler: () => {
        calls.push('notify_hello');
        return null;
      },
    }),
    defineMethod({
      name: 'get_data',
      summary: 'Returns fixed data.',
      params: [],
      result: { name: 'data', schema: Type.Tuple([Type.String(), Type.Integer()]) },
      handler: () => ['hello', 5] as [string, number],
    }),
    defineMethod({
      name: 'record_get',
      summary: 'Fails with RECORD_NOT_FOUND for any id but 0x00.',
      params: [{ name: 'id', schema: Hex, description: 'Record id' }],
      result: { name: 'id', schema: Hex },
      errors: [RECORD_NOT_FOUND],
      handler: ({ id }) => {
        if (id.length !== 1 || id[0] !== 0) throw new RpcError(RECORD_NOT_FOUND, 'No record 0x' + Buffer.from(id).toString('hex'), { id: '0x' + Buffer.from(id).toString('hex') });
        return id;
      },
    }),
    defineMethod({
      name: 'explode',
      summary: 'Throws a plain Error, as a bug would.',
      params: [],
      result: { name: 'nothing', schema: Type.Null() },
      handler: () => {
        throw new Error('boom at /work/main/src/secret/path.ts:12 with key 0xdeadbeef');
      },
    }),
    defineMethod({
      name: 'admin_peek',
      summary: 'Admin-only: says whether the caller is admin.',
      params: [],
      result: { name: 'admin', schema: Type.Boolean() },
      admin: true,
      handler: (_params, ctx: RpcContext) => ctx.admin,
    }),
    defineMethod({
      name: 'echo',
      summary: 'Returns its value unchanged.',
      params: [{ name: 'value', schema: Type.Unknown() }],
      result: { name: 'value', schema: Type.Unknown() },
      handler: ({ value }) => value,
    }),
  ];
}

/** A dispatcher over specMethods() with a capturing logger. */
export function specDispatcher(options: Partial<DispatcherOptions> = {}, calls: string[] = []): {
  dispatcher: RpcDispatcher;
  logger: ReturnType<typeof captureLogger>;
} {
  const logger = captureLogger();
  const dispatcher = createDispatcher(specMethods(calls), { logger, ...options });
  return { dispatcher, logger };
}

/** Context of an ordinary (non-admin) HTTP caller. */
export const PUBLIC_CTX: RpcContext = { admin: false, transport: 'internal' };
export const ADMIN_CTX: RpcContext = { admin: true, transport: 'internal' };

/** Drops `error.data` from every response, so answers compare with the spec's examples. */
export function withoutErrorData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutErrorData);
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const { error, ...rest } = value as { error: Record<string, unknown> };
    const { data: _data, ...errorRest } = error;
    return { ...rest, error: errorRest };
  }
  return value;
}

/** Every error object in a response (single or batch). */
export function errorsIn(value: unknown): Array<{ code: number; message: string; data: { reason: string; [k: string]: unknown } }> {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((r: unknown) =>
    typeof r === 'object' && r !== null && 'error' in r ? [(r as { error: { code: number; message: string; data: { reason: string } } }).error] : [],
  );
}
