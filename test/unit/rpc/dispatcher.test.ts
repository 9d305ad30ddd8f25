import Type from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createDispatcher, exceedsNestingDepth } from '../../../src/rpc/dispatcher.ts';
import { RpcError, RpcErrors, defineRpcError } from '../../../src/rpc/errors.ts';
import { defineMethod, type RpcMethod } from '../../../src/rpc/method.ts';
import { ADMIN_CTX, PUBLIC_CTX, RECORD_NOT_FOUND, captureLogger, errorsIn, specDispatcher, specMethods } from './fixtures.ts';

interface Answer {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data: { reason: string; detail?: string; [k: string]: unknown } };
}

async function call(text: string, ctx = PUBLIC_CTX, options = {}): Promise<Answer> {
  const { dispatcher } = specDispatcher(options);
  const answer = await dispatcher.handle(text, ctx);
  if (answer === undefined) throw new Error('expected an answer');
  return JSON.parse(answer) as Answer;
}

function request(method: string, params?: unknown, id: unknown = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), id });
}

describe('batch limit', () => {
  const one = (i: number): string => request('subtract', [i, 1], i);

  it('answers a batch of exactly 1,000 requests, in order', async () => {
    const { dispatcher } = specDispatcher();
    const body = `[${Array.from({ length: 1000 }, (_, i) => one(i)).join(',')}]`;
    const answers = JSON.parse((await dispatcher.handle(body, PUBLIC_CTX)) ?? 'null') as Answer[];
    expect(answers).toHaveLength(1000);
    expect(answers[999]).toEqual({ jsonrpc: '2.0', result: 998, id: 999 });
  });

  it('refuses a batch of 1,001 requests whole with BATCH_TOO_LARGE and runs none of them', async () => {
    const calls: string[] = [];
    const { dispatcher } = specDispatcher({}, calls);
    const body = `[${Array.from({ length: 1001 }, () => '{"jsonrpc":"2.0","method":"notify_hello","params":[1]}').join(',')}]`;
    const answer = JSON.parse((await dispatcher.handle(body, PUBLIC_CTX)) ?? 'null') as Answer;
    expect(answer.id).toBeNull();
    expect(answer.error).toMatchObject({ code: -32600, data: { reason: 'BATCH_TOO_LARGE', limit: 1000 } });
    expect(answer.error?.data.detail).toContain('1001');
    expect(calls).toEqual([]);
  });

  it('honours a configured limit', async () => {
    const answer = await call(`[${one(1)},${one(2)},${one(3)}]`, PUBLIC_CTX, { maxBatchLength: 2 });
    expect(answer.error?.data.reason).toBe('BATCH_TOO_LARGE');
  });
});

describe('nesting limit (checked before JSON.parse)', () => {
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

  it('counts brackets outside strings only, escapes included', () => {
    expect(exceedsNestingDepth(nested(3), 3)).toBe(false);
    expect(exceedsNestingDepth(nested(4), 3)).toBe(true);
    expect(exceedsNestingDepth('{"a":{"b":{"c":1}}}', 3)).toBe(false);
    expect(exceedsNestingDepth('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(exceedsNestingDepth(`["${'['.repeat(100)}"]`, 1)).toBe(false);
    expect(exceedsNestingDepth(`["\\"${'['.repeat(100)}"]`, 1)).toBe(false);
    expect(exceedsNestingDepth(`["\\\\", [[]]]`, 2)).toBe(true);
  });

  it('accepts 64 levels and refuses 65 with NESTING_TOO_DEEP', async () => {
    // The request object is level 1, so params may nest 63 deep.
    const okEcho = await call(`{"jsonrpc":"2.0","method":"echo","params":[${nested(62)}],"id":7}`);
    expect(okEcho.result).toEqual(JSON.parse(nested(62)));
    const deep = await call(`{"jsonrpc":"2.0","method":"echo","params":[${nested(63)}],"id":7}`);
    expect(deep).toMatchObject({ id: null, error: { code: -32600, data: { reason: 'NESTING_TOO_DEEP', limit: 64 } } });
  });

  it('refuses 1,000,000 levels quickly without touching the stack', async () => {
    const started = performance.now();
    const answer = await call('['.repeat(1_000_000));
    expect(answer.error?.data.reason).toBe('NESTING_TOO_DEEP');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('request objects', () => {
  it.each([
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","method":"subtract","params":[1,2],"id":1}', 1],
    ['jsonrpc missing', '{"method":"subtract","params":[1,2],"id":"a"}', 'a'],
    ['jsonrpc as number', '{"jsonrpc":2.0,"method":"subtract","params":[1,2],"id":1}', 1],
    ['params null', '{"jsonrpc":"2.0","method":"subtract","params":null,"id":1}', 1],
    ['params a string', '{"jsonrpc":"2.0","method":"subtract","params":"42","id":1}', 1],
    ['method missing', '{"jsonrpc":"2.0","id":1}', 1],
    ['id an object', '{"jsonrpc":"2.0","method":"get_data","id":{"a":1}}', null],
    ['id a boolean', '{"jsonrpc":"2.0","method":"get_data","id":true}', null],
    ['an array inside a batch', '[[{"jsonrpc":"2.0","method":"get_data","id":1}]]', null],
  ])('%s is an Invalid Request', async (_name, text, id) => {
    const raw = await call(text);
    const answer = Array.isArray(raw) ? (raw[0] as Answer) : raw;
    expect(answer).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid Request', data: { reason: 'INVALID_REQUEST' } } });
    expect(answer.error?.data.detail).toBeTypeOf('string');
  });

  it('answers id null, string and fractional ids as given', async () => {
    expect((await call(request('get_data', undefined, null))).id).toBeNull();
    expect((await call(request('get_data', undefined, 'abc'))).id).toBe('abc');
    expect((await call(request('get_data', undefined, 1.5))).id).toBe(1.5);
  });

  it('treats a missing params member like an empty list', async () => {
    expect((await call('{"jsonrpc":"2.0","method":"get_data","id":1}')).result).toEqual(['hello', 5]);
    expect((await call(request('get_data', [], 1))).result).toEqual(['hello', 5]);
    expect((await call(request('get_data', {}, 1))).result).toEqual(['hello', 5]);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('does not find inherited names like %s', async (name) => {
    expect((await call(request(name))).error?.code).toBe(-32601);
  });

  it.each(['1', '"text"', 'null', 'true'])('answers a bare JSON value %s with Invalid Request', async (text) => {
    expect((await call(text)).error?.code).toBe(-32600);
  });
});

describe('params', () => {
  it('refuses too many positional params, naming the expected ones', async () => {
    const answer = await call(request('subtract', [1, 2, 3]));
    expect(answer.error).toMatchObject({ code: -32602, data: { reason: 'INVALID_PARAMS' } });
    expect(answer.error?.message).toBe('Invalid params: expected at most 2 params ("minuend", "subtrahend"), got 3');
  });

  it('refuses a missing required param by name and position', async () => {
    const positional = await call(request('subtract', [1]));
    expect(positional.error?.message).toBe('Invalid params: missing required param "subtrahend" (position 1)');
    expect(positional.error?.data.param).toBe('subtrahend');
    const named = await call(request('subtract', { subtrahend: 1 }));
    expect(named.error?.message).toBe('Invalid params: missing required param "minuend" (position 0)');
  });

  it('refuses unknown named params', async () => {
    const answer = await call(request('subtract', { minuend: 1, subtrahend: 2, extra: 3 }));
    expect(answer.error?.message).toBe('Invalid params: unknown param "extra"; this method takes "minuend", "subtrahend"');
  });

  it('names the param and what was expected when a value is of the wrong type', async () => {
    const answer = await call(request('subtract', [1, 'two']));
    expect(answer.error).toMatchObject({ code: -32602, message: 'Invalid params: "subtrahend" must be integer', data: { reason: 'INVALID_PARAMS', param: 'subtrahend' } });
  });

  it('quotes the schema description when it says what was expected', async () => {
    const answer = await call(request('record_get', ['0xZZ']));
    expect(answer.error?.message).toBe(
      'Invalid params: "id" must match pattern "^0x([0-9a-f]{2})*$" (expected lower-case hex bytes, 0x-prefixed)',
    );
  });

  it('points into nested values and prefers the direct error over failed union branches', async () => {
    const dispatcher = createDispatcher(
      [
        defineMethod({
          name: 'nested_take',
          summary: 'takes nested data',
          params: [
            { name: 'entry', schema: Type.Object({ tags: Type.Array(Type.String()) }) },
            { name: 'note', schema: Type.Union([Type.String(), Type.Null()], { description: 'a string or null' }), required: false },
          ],
          result: { name: 'ok', schema: Type.Boolean() },
          handler: () => true,
        }),
      ],
      { logger: captureLogger() },
    );
    const nested = JSON.parse((await dispatcher.handle(request('nested_take', [{ tags: ['a', 2] }]), PUBLIC_CTX)) ?? '') as Answer;
    expect(nested.error?.message).toBe('Invalid params: "entry" at /tags/1 must be string');
    expect(nested.error?.data.path).toBe('/tags/1');
    const union = JSON.parse((await dispatcher.handle(request('nested_take', [{ tags: [] }, 5]), PUBLIC_CTX)) ?? '') as Answer;
    expect(union.error?.message).toBe('Invalid params: "note" must match a schema in anyOf (expected a string or null)');
  });

  it('lets optional params be left out, by position and by name', async () => {
    expect((await call(request('sum', [1]))).result).toBe(1);
    expect((await call(request('sum', { a: 1, c: 5 }))).result).toBe(6);
  });

  it('decodes params and encodes results through TypeBox codecs', async () => {
    expect((await call(request('record_get', ['0x00']))).result).toBe('0x00');
  });

  it('types handler params from the schemas', () => {
    defineMethod({
      name: 'typed_check',
      summary: 'compile-time only',
      params: [
        { name: 'height', schema: Type.Integer() },
        { name: 'full', schema: Type.Boolean(), required: false },
      ],
      result: { name: 'hash', schema: Type.String() },
      handler: (params) => {
        expectTypeOf(params.height).toEqualTypeOf<number>();
        expectTypeOf(params.full).toEqualTypeOf<boolean | undefined>();
        return String(params.height);
      },
    });
  });
});

describe('handler failures', () => {
  it('passes an RpcError through with its code, reason, message and data', async () => {
    const answer = await call(request('record_get', ['0x01'], 'r1'));
    expect(answer).toEqual({
      jsonrpc: '2.0',
      error: { code: -32010, message: 'No record 0x01', data: { reason: 'RECORD_NOT_FOUND', id: '0x01' } },
      id: 'r1',
    });
  });

  it('turns a plain Error into -32603 INTERNAL_ERROR without its message, stack or paths, and logs it', async () => {
    const { dispatcher, logger } = specDispatcher();
    const text = (await dispatcher.handle(request('explode'), PUBLIC_CTX)) ?? '';
    const answer = JSON.parse(text) as Answer;
    expect(answer.error).toMatchObject({ code: -32603, message: 'Internal error', data: { reason: 'INTERNAL_ERROR' } });
    for (const leak of ['boom', '/work', 'path.ts', 'deadbeef', 'at ', 'stack', 'Error']) expect(text).not.toContain(leak);
    expect(logger.logs).toHaveLength(1);
    expect(logger.logs[0]?.obj).toMatchObject({ method: 'explode' });
    expect((logger.logs[0]?.obj as { err: Error }).err.message).toContain('boom');
  });

  it('reports a result that cannot be serialised as INTERNAL_ERROR', async () => {
    const logger = captureLogger();
    const dispatcher = createDispatcher(
      [defineMethod({ name: 'big_one', summary: 'returns a bigint by mistake', params: [], result: { name: 'n', schema: Type.Unknown() }, handler: () => 1n })],
      { logger },
    );
    const answer = JSON.parse((await dispatcher.handle(request('big_one'), PUBLIC_CTX)) ?? '') as Answer;
    expect(answer.error?.data.reason).toBe('INTERNAL_ERROR');
    expect(logger.logs).toHaveLength(1);
  });

  it('checks results against their schema when validateResults is on', async () => {
    const methods: RpcMethod[] = [
      // The wrong type is the point of the test, so the handler is left untyped.
      { name: 'liar', summary: 'returns a string for an integer', params: [], result: { name: 'n', schema: Type.Integer() }, handler: () => 'x' },
    ];
    const relaxed = createDispatcher(methods, { logger: captureLogger() });
    expect(JSON.parse((await relaxed.handle(request('liar'), PUBLIC_CTX)) ?? '')).toMatchObject({ result: 'x' });
    const strict = createDispatcher(methods, { logger: captureLogger(), validateResults: true });
    expect(JSON.parse((await strict.handle(request('liar'), PUBLIC_CTX)) ?? '')).toMatchObject({ error: { code: -32603 } });
  });

  it('survives unserialisable data in an RpcError', async () => {
    const logger = captureLogger();
    const dispatcher = createDispatcher(
      [
        defineMethod({
          name: 'bad_data',
          summary: 'throws an RpcError carrying a bigint',
          params: [],
          result: { name: 'n', schema: Type.Null() },
          handler: () => {
            throw new RpcError(RECORD_NOT_FOUND, 'x', { height: 1n });
          },
        }),
      ],
      { logger },
    );
    const answer = JSON.parse((await dispatcher.handle(request('bad_data'), PUBLIC_CTX)) ?? '') as Answer;
    expect(answer).toMatchObject({ id: 1, error: { code: -32603, data: { reason: 'INTERNAL_ERROR' } } });
    expect(logger.logs).toHaveLength(1);
  });

  it('answers undefined results with null', async () => {
    const dispatcher = createDispatcher(
      [{ name: 'nothing', summary: 'returns nothing', params: [], result: { name: 'nothing', schema: Type.Null() }, handler: () => undefined }],
      { logger: captureLogger() },
    );
    expect(await dispatcher.handle(request('nothing'), PUBLIC_CTX)).toBe('{"jsonrpc":"2.0","result":null,"id":1}');
  });

  it('never answers a failing notification, but logs unexpected failures', async () => {
    const { dispatcher, logger } = specDispatcher();
    expect(await dispatcher.handle('{"jsonrpc":"2.0","method":"explode"}', PUBLIC_CTX)).toBeUndefined();
    expect(await dispatcher.handle('{"jsonrpc":"2.0","method":"subtract","params":["x"]}', PUBLIC_CTX)).toBeUndefined();
    expect(await dispatcher.handle('{"jsonrpc":"2.0","method":"admin_peek"}', PUBLIC_CTX)).toBeUndefined();
    expect(logger.logs).toHaveLength(1);
  });

  it('keeps answering other requests of a batch when one fails', async () => {
    const { dispatcher } = specDispatcher();
    const answer = JSON.parse(
      (await dispatcher.handle(`[${request('explode', undefined, 1)},${request('subtract', [5, 3], 2)}]`, PUBLIC_CTX)) ?? '',
    ) as Answer[];
    expect(answer.map((a) => a.id)).toEqual([1, 2]);
    expect(answer[1]?.result).toBe(2);
  });
});

describe('admin methods', () => {
  it('refuses an admin method without the admin flag with -32000 UNAUTHORIZED', async () => {
    const answer = await call(request('admin_peek'));
    expect(answer.error).toMatchObject({ code: -32000, data: { reason: 'UNAUTHORIZED' } });
    expect(answer.error?.message).toContain('Authorization: Bearer');
  });

  it('runs it for an admin caller', async () => {
    expect((await call(request('admin_peek'), ADMIN_CTX)).result).toBe(true);
  });
});

describe('method table checks', () => {
  const logger = captureLogger();
  const noop = (name: string, extra: Partial<RpcMethod> = {}): RpcMethod => ({
    name,
    summary: 's',
    params: [],
    result: { name: 'r', schema: Type.Null() },
    handler: () => null,
    ...extra,
  });

  it('refuses duplicate names, the rpc. prefix and empty names', () => {
    expect(() => createDispatcher([noop('a_b'), noop('a_b')], { logger })).toThrow(/defined twice/);
    expect(() => createDispatcher([noop('rpc.discover')], { logger })).toThrow(/reserved/);
    expect(() => createDispatcher([noop('')], { logger })).toThrow(/empty/);
  });

  it('refuses a required param after an optional one, and duplicate param names', () => {
    const params = [
      { name: 'a', schema: Type.Integer(), required: false },
      { name: 'b', schema: Type.Integer() },
    ];
    expect(() => createDispatcher([noop('m', { params })], { logger })).toThrow(/follows an optional/);
    expect(() => createDispatcher([noop('m', { params: [params[1]!, params[1]!] })], { logger })).toThrow(/two params/);
  });

  it('lets one code (a category) carry several reasons, but refuses one reason with two codes', () => {
    const sibling = defineRpcError(-32010, 'OTHER_THING', 'x');
    expect(() => createDispatcher([noop('a', { errors: [RECORD_NOT_FOUND] }), noop('b', { errors: [sibling] })], { logger })).not.toThrow();
    const moved = defineRpcError(-32011, 'RECORD_NOT_FOUND', 'x');
    expect(() => createDispatcher([noop('a', { errors: [RECORD_NOT_FOUND, moved] })], { logger })).toThrow(/used with codes/);
  });
});

describe('error kinds', () => {
  it('defineRpcError accepts -32099..-32010 only, with an UPPER_SNAKE reason', () => {
    expect(defineRpcError(-32099, 'TX_DECODE_FAILED', 'bad tx')).toEqual({ code: -32099, reason: 'TX_DECODE_FAILED', message: 'bad tx' });
    expect(() => defineRpcError(-32100, 'A', 'x')).toThrow(RangeError);
    expect(() => defineRpcError(-31999, 'A', 'x')).toThrow(RangeError);
    expect(() => defineRpcError(-32005, 'A', 'x')).toThrow(/reserved for the RPC layer/);
    expect(() => defineRpcError(-32010, 'notUpper', 'x')).toThrow(/UPPER_SNAKE/);
    expect(() => defineRpcError(-32010.5, 'A', 'x')).toThrow(RangeError);
  });

  it('keeps the reason in data even if the extra data tries to override it', () => {
    const error = new RpcError(RECORD_NOT_FOUND, undefined, { reason: 'SOMETHING_ELSE', id: 1 });
    expect(error.toErrorObject()).toEqual({ code: -32010, message: 'No record with this id', data: { reason: 'RECORD_NOT_FOUND', id: 1 } });
    expect(JSON.stringify(error.toErrorObject())).not.toContain('stack');
  });

  it('every error the dispatcher produces carries a reason', async () => {
    const { dispatcher } = specDispatcher();
    const bodies = ['', ' ', 'nul', '{', '[]', '[1]', request('nope'), request('subtract', ['a', 1]), request('explode'), request('admin_peek')];
    for (const body of bodies) {
      const answer: unknown = JSON.parse((await dispatcher.handle(body, PUBLIC_CTX)) ?? 'null');
      const errors = errorsIn(answer);
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(Object.values(RpcErrors).map((k) => k.reason)).toContain(error.data.reason);
    }
  });
});

describe('rpc.discover', () => {
  it('is registered automatically and callable by position or name', async () => {
    const { dispatcher } = specDispatcher();
    for (const params of [undefined, [], {}]) {
      const answer = JSON.parse((await dispatcher.handle(request('rpc.discover', params), PUBLIC_CTX)) ?? '') as Answer;
      expect(answer.result).toEqual(JSON.parse(JSON.stringify(dispatcher.document)));
    }
    const bad = JSON.parse((await dispatcher.handle(request('rpc.discover', [1]), PUBLIC_CTX)) ?? '') as Answer;
    expect(bad.error?.code).toBe(-32602);
  });

  it('describes exactly the table that dispatches', () => {
    const { dispatcher } = specDispatcher();
    expect(dispatcher.document.methods.map((m) => m.name)).toEqual([...specMethods().map((m) => m.name), 'rpc.discover']);
  });
});
