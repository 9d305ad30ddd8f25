import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { defineRpcError, RpcError } from '../errors.ts';
import { toHex } from '../../codec/bytes.ts';
import { disassemble } from '../../script/index.ts';
import { getRecord, getRecordVersion } from '../../state/accessors.ts';
import { policyFlagsAt } from '../../state/genesis.ts';
import { decideAccess } from '../../state/policyContext.ts';
import { Hash32, HexString } from './json.ts';
import type { NodeApi } from './nodeApi.ts';

export const NO_SUCH_RECORD = defineRpcError(-32020, 'NO_SUCH_RECORD', 'No record with this id');

const VersionJson = Type.Object({
  version: Type.Integer(),
  commitment: HexString,
  size: Type.Integer(),
  contentType: Type.String(),
  author: HexString,
  addedAt: Type.Integer({ description: 'height' }),
});

/** record_ and access_ methods over on-chain record metadata (never ciphertext or plaintext). */
export function recordMethods(api: NodeApi): RpcMethod[] {
  const { chain } = api;
  return [
    defineMethod({
      name: 'record_get',
      summary: "A record's owner, policy (bytecode and its disassembly) and versions; null if there is none.",
      params: [{ name: 'recordId', schema: Hash32, description: 'the id of the transaction that created it' }],
      result: {
        name: 'record',
        schema: Type.Union([
          Type.Object({
            id: HexString,
            owner: HexString,
            createdAt: Type.Integer(),
            erasedAt: Type.Union([Type.Integer(), Type.Null()], { description: 'height of the erasing block; null while the record lives' }),
            policy: HexString,
            policySource: Type.String({ description: 'the disassembled policy' }),
            versions: Type.Array(VersionJson),
          }),
          Type.Null(),
        ]),
      },
      handler: ({ recordId }) => {
        const state = chain.state;
        const record = getRecord(state, recordId);
        if (record === undefined) return null;
        const versions = Array.from({ length: record.versionCount }, (_, v) => {
          const version = getRecordVersion(state, recordId, v)!;
          return { version: v, commitment: toHex(version.commitment), size: version.size, contentType: version.contentType, author: toHex(version.author), addedAt: version.addedAt };
        });
        return {
          id: toHex(record.id),
          owner: toHex(record.owner),
          createdAt: record.createdAt,
          erasedAt: record.erasedAt,
          policy: toHex(record.policy),
          policySource: disassemble(record.policy),
          versions,
        };
      },
    }),
    defineMethod({
      name: 'access_check',
      summary: "Runs a record's policy for a requester and action at the head block: allow, or deny with the reason.",
      description: 'For dashboards and debugging; nothing is recorded. Reads go through emr_read, which leaves a receipt on chain.',
      params: [
        { name: 'recordId', schema: Hash32 },
        { name: 'requester', schema: Hash32, description: 'the account asking' },
        { name: 'action', schema: Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('delegate')]) },
        { name: 'purpose', schema: Type.String({ maxLength: 64 }), required: false, description: 'HL7 purpose of use, e.g. TREAT' },
        { name: 'emergency', schema: Type.Boolean(), required: false, description: 'break-glass request' },
      ],
      result: {
        name: 'decision',
        schema: Type.Object({
          decision: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('error')]),
          reason: Type.String({ description: 'why it was denied, or the error message' }),
          code: Type.Union([Type.String(), Type.Null()], { description: 'the policy error code when decision is error' }),
          rule: Type.Union([Type.Integer(), Type.Null()], { description: '1-based index of the deciding rule' }),
          height: Type.Integer({ description: 'the head height the decision was made at' }),
        }),
      },
      errors: [NO_SUCH_RECORD],
      handler: ({ recordId, requester, action, purpose, emergency }) => {
        const state = chain.state;
        const record = getRecord(state, recordId);
        if (record === undefined) throw new RpcError(NO_SUCH_RECORD, `no record ${toHex(recordId)}`);
        const { height, time } = chain.head.header;
        const decision = decideAccess(
          state,
          record,
          { requester, action, purpose: purpose ?? '', emergency: emergency ?? false },
          { height, time, policyFlags: policyFlagsAt(chain.genesisSpec, height) },
        );
        switch (decision.decision) {
          case 'allow':
            return { decision: 'allow' as const, reason: '', code: null, rule: decision.rule, height };
          case 'deny':
            return { decision: 'deny' as const, reason: decision.reason, code: null, rule: decision.rule, height };
          default:
            return { decision: 'error' as const, reason: decision.message, code: decision.code, rule: null, height };
        }
      },
    }),
  ];
}
