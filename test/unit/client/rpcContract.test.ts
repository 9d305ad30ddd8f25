// The typed client against the node's real method table (its OpenRPC document): every call the client builds
// names a method the node has, sends only params it declares and all the required ones, and every result
// interface has exactly the fields of the node's result schema. Catches drift when a method changes.

import { describe, expect, it } from 'vitest';
import { medchainCalls, type RpcCall } from '../../../src/client/rpcClient.ts';
import { createDispatcher } from '../../../src/rpc/dispatcher.ts';
import { createNodeMethods, type NodeApi } from '../../../src/rpc/methods/index.ts';
import type { JsonSchema, OpenRpcMethod } from '../../../src/rpc/openrpc.ts';
import { DECISION, HEADER, IDENTITY, INCLUDED, NODE_INFO, RECORD, TX } from './rpcSamples.ts';

// Handlers reach node services only when called; building the table and its document needs none of them.
const document = createDispatcher(createNodeMethods({} as unknown as NodeApi), {
  logger: { error: () => undefined, warn: () => undefined },
}).document;

function method(name: string): OpenRpcMethod {
  const found = document.methods.find((m) => m.name === name);
  if (found === undefined) throw new Error(`the node has no method ${name}`);
  return found;
}

const ID = 'ab'.repeat(32);
const calls: RpcCall<unknown>[] = [
  medchainCalls.nodeInfo(),
  medchainCalls.getHead(),
  medchainCalls.getBlock(3),
  medchainCalls.getBlockWithTransactions(ID),
  medchainCalls.submitTransaction('00'),
  medchainCalls.getTransaction(ID),
  medchainCalls.getIdentity(ID),
  medchainCalls.getRecord(ID),
  medchainCalls.checkAccess({ recordId: ID, requester: ID, action: 'read', purpose: 'TREAT', emergency: false }),
  medchainCalls.checkAccess({ recordId: ID, requester: ID, action: 'write' }),
];

/** The object schemas of a result: itself, or the object branches of an anyOf (null branches dropped). */
function objectSchemas(schema: JsonSchema): JsonSchema[] {
  const branches = Array.isArray(schema.anyOf) ? (schema.anyOf as JsonSchema[]) : [schema];
  return branches.filter((b) => b.type === 'object');
}

function fieldsOf(schema: JsonSchema): string[] {
  const properties = Object.keys((schema.properties ?? {}) as object).sort();
  expect((schema.required as string[] | undefined)?.toSorted() ?? [], 'every field is required').toEqual(properties);
  return properties;
}

const keys = (value: object): string[] => Object.keys(value).sort();

function property(schema: JsonSchema, name: string): JsonSchema {
  return (schema.properties as Record<string, JsonSchema>)[name]!;
}

describe("the client's calls and result types match the node's method table", () => {
  it.each(calls.map((c) => [c.method, c] as const))('%s: a known method, declared params, required ones present', (name, call) => {
    const spec = method(name);
    const sent = Object.keys(call.params ?? {});
    const declared = spec.params.map((p) => p.name);
    for (const param of sent) expect(declared, `${name} declares ${param}`).toContain(param);
    for (const param of spec.params.filter((p) => p.required)) expect(sent, `${name} sends ${param.name}`).toContain(param.name);
  });

  it('node_info, chain_getHead, tx_submit, access_check', () => {
    expect(fieldsOf(method('node_info').result.schema)).toEqual(keys(NODE_INFO));
    expect(fieldsOf(method('chain_getHead').result.schema)).toEqual(keys(HEADER));
    expect(fieldsOf(method('tx_submit').result.schema)).toEqual(['status', 'txId']);
    expect(fieldsOf(method('access_check').result.schema)).toEqual(keys(DECISION));
  });

  it('chain_getBlock: block, header and full transactions', () => {
    const [block] = objectSchemas(method('chain_getBlock').result.schema);
    expect(fieldsOf(block!)).toEqual(['header', 'size', 'transactionCount', 'transactions']);
    expect(fieldsOf(property(block!, 'header'))).toEqual(keys(HEADER));
    const [tx] = objectSchemas(property(block!, 'transactions').items as JsonSchema);
    expect(fieldsOf(tx!)).toEqual(keys(TX));
  });

  it('tx_get: pending, included (with its proof) and unknown', () => {
    const variants = objectSchemas(method('tx_get').result.schema).map(fieldsOf);
    expect(variants).toEqual([['status', 'transaction'], keys(INCLUDED), ['status']]);
    const included = objectSchemas(method('tx_get').result.schema)[1]!;
    expect(fieldsOf(property(included, 'proof'))).toEqual(keys(INCLUDED.proof));
  });

  it('identity_get and record_get, with their nested lists', () => {
    const [identity] = objectSchemas(method('identity_get').result.schema);
    expect(fieldsOf(identity!)).toEqual(keys(IDENTITY));
    expect(fieldsOf(property(identity!, 'attestations').items as JsonSchema)).toEqual(keys(IDENTITY.attestations[0]!));
    const [record] = objectSchemas(method('record_get').result.schema);
    expect(fieldsOf(record!)).toEqual(keys(RECORD));
    expect(fieldsOf(property(record!, 'versions').items as JsonSchema)).toEqual(keys(RECORD.versions[0]!));
  });
});
