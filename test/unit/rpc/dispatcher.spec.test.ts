// The examples of the JSON-RPC 2.0 specification, section 7
// (https://www.jsonrpc.org/specification#examples), reproduced exactly: the
// request text is the spec's, and the parsed answer must equal the spec's
// answer once our `error.data` (reason, detail) is set aside.

import { describe, expect, it } from 'vitest';
import { PUBLIC_CTX, errorsIn, specDispatcher, withoutErrorData } from './fixtures.ts';

async function exchange(request: string, calls: string[] = []): Promise<unknown> {
  const { dispatcher } = specDispatcher({}, calls);
  const answer = await dispatcher.handle(request, PUBLIC_CTX);
  return answer === undefined ? undefined : JSON.parse(answer);
}

async function expectSpecAnswer(request: string, expected: string): Promise<void> {
  const answer = await exchange(request);
  expect(withoutErrorData(answer)).toEqual(JSON.parse(expected));
  for (const error of errorsIn(answer)) expect(error.data.reason).toMatch(/^[A-Z][A-Z0-9_]*$/);
}

describe('JSON-RPC 2.0 specification examples', () => {
  it('rpc call with positional parameters', async () => {
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
      '{"jsonrpc": "2.0", "result": 19, "id": 1}',
    );
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
      '{"jsonrpc": "2.0", "result": -19, "id": 2}',
    );
  });

  it('rpc call with named parameters', async () => {
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
      '{"jsonrpc": "2.0", "result": 19, "id": 3}',
    );
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
      '{"jsonrpc": "2.0", "result": 19, "id": 4}',
    );
  });

  it('a notification is executed and not answered', async () => {
    const calls: string[] = [];
    expect(await exchange('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}', calls)).toBeUndefined();
    expect(calls).toEqual(['update']);
    expect(await exchange('{"jsonrpc": "2.0", "method": "foobar"}')).toBeUndefined();
  });

  it('rpc call of non-existent method', async () => {
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
      '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}',
    );
  });

  it('rpc call with invalid JSON', async () => {
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
      '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
    );
  });

  it('rpc call with invalid Request object', async () => {
    await expectSpecAnswer(
      '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
      '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}',
    );
  });

  it('rpc call Batch, invalid JSON', async () => {
    await expectSpecAnswer(
      `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`,
      '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
    );
  });

  it('rpc call with an empty Array', async () => {
    await expectSpecAnswer('[]', '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}');
  });

  it('rpc call with an invalid Batch (but not empty)', async () => {
    await expectSpecAnswer('[1]', '[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]');
  });

  it('rpc call with invalid Batch', async () => {
    await expectSpecAnswer(
      '[1,2,3]',
      `[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]`,
    );
  });

  it('rpc call Batch', async () => {
    await expectSpecAnswer(
      `[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]`,
      `[
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "result": 19, "id": "2"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]`,
    );
  });

  it('rpc call Batch (all notifications) gets no answer at all', async () => {
    const calls: string[] = [];
    const answer = await exchange(
      `[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`,
      calls,
    );
    expect(answer).toBeUndefined();
    expect(calls).toEqual(['notify_sum', 'notify_hello']);
  });

  it('answers with members in the spec order: jsonrpc, result|error, id', async () => {
    const { dispatcher } = specDispatcher();
    expect(await dispatcher.handle('{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}', PUBLIC_CTX)).toBe(
      '{"jsonrpc":"2.0","result":19,"id":1}',
    );
  });
});
