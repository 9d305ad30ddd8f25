import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { ADMIN_TAG, OPENRPC_VERSION, buildOpenRpcDocument, type OpenRpcMethod } from '../../../src/rpc/openrpc.ts';
import { PUBLIC_CTX, specDispatcher, specMethods } from './fixtures.ts';

function methodNamed(methods: readonly OpenRpcMethod[], name: string): OpenRpcMethod {
  const found = methods.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no method ${name} in the document`);
  return found;
}

describe('OpenRPC document', () => {
  const { dispatcher } = specDispatcher({ info: { title: 'medchain test', version: '9.9.9' } });
  const doc = dispatcher.document;

  it('has the OpenRPC 1.x envelope', () => {
    expect(doc.openrpc).toBe(OPENRPC_VERSION);
    expect(doc.openrpc).toMatch(/^1\.\d+\.\d+$/);
    expect(doc.info).toEqual({ title: 'medchain test', version: '9.9.9' });
  });

  it('lists every method of the table once, plus rpc.discover, each well-formed', () => {
    const names = doc.methods.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([...specMethods().map((m) => m.name), 'rpc.discover']);
    for (const method of doc.methods) {
      expect(method.summary.length).toBeGreaterThan(0);
      expect(method.paramStructure).toBe('either');
      expect(method.result.name.length).toBeGreaterThan(0);
      expect(method.result.schema).toBeTypeOf('object');
    }
  });

  it('describes params in order as content descriptors with their JSON Schema', () => {
    const subtract = methodNamed(doc.methods, 'subtract');
    expect(subtract.params).toEqual([
      { name: 'minuend', required: true, schema: { type: 'integer' } },
      { name: 'subtrahend', required: true, schema: { type: 'integer' } },
    ]);
    const sum = methodNamed(doc.methods, 'sum');
    expect(sum.params.map((p) => [p.name, p.required])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
    const record = methodNamed(doc.methods, 'record_get');
    expect(record.params[0]).toEqual({
      name: 'id',
      description: 'Record id',
      required: true,
      schema: { type: 'string', pattern: '^0x([0-9a-f]{2})*$', description: 'lower-case hex bytes, 0x-prefixed' },
    });
  });

  it('gives schemas that a standard validator accepts, free of TypeBox bookkeeping', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('~kind');
    expect(text).not.toContain('~codec');
    const schema = methodNamed(doc.methods, 'get_data').result.schema;
    expect(Compile(Type.Unsafe(schema)).Check(['hello', 5])).toBe(true);
    expect(Compile(Type.Unsafe(schema)).Check([5, 'hello'])).toBe(false);
  });

  it('lists errors as code, message and data.reason, admin errors included', () => {
    expect(methodNamed(doc.methods, 'record_get').errors).toEqual([
      { code: -32010, message: 'No record with this id', data: { reason: 'RECORD_NOT_FOUND' } },
      { code: -32602, message: 'Invalid params', data: { reason: 'INVALID_PARAMS' } },
    ]);
    const admin = methodNamed(doc.methods, 'admin_peek');
    expect(admin.tags).toEqual([{ name: ADMIN_TAG }]);
    expect(admin.errors?.map((e) => e.data.reason)).toEqual(['UNAUTHORIZED']);
    expect(methodNamed(doc.methods, 'get_data').errors).toBeUndefined();
    expect(methodNamed(doc.methods, 'subtract').tags).toBeUndefined();
  });

  it('is frozen, and survives a JSON round trip unchanged', () => {
    expect(Object.isFrozen(doc)).toBe(true);
    expect(Object.isFrozen(doc.methods[0]?.params)).toBe(true);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('is what rpc.discover returns', async () => {
    const answer = await dispatcher.handle('{"jsonrpc":"2.0","method":"rpc.discover","id":1}', PUBLIC_CTX);
    expect(JSON.parse(answer ?? '')).toEqual({ jsonrpc: '2.0', result: JSON.parse(JSON.stringify(doc)), id: 1 });
  });

  it('can be built from a table alone', () => {
    const built = buildOpenRpcDocument(specMethods(), { title: 't', version: '1', description: 'd' });
    expect(built.info.description).toBe('d');
    expect(built.methods).toHaveLength(specMethods().length);
  });
});
