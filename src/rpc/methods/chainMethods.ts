import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { toHex } from '../../codec/bytes.ts';
import { BlockJson, Hash32, HeaderJson, HexString, blockToJson, headerToJson } from './json.ts';
import { getValidatorSet } from '../../state/accessors.ts';
import { getBalance } from '../../state/pos.ts';
import { stateKey } from '../../state/stateKeys.ts';
import type { NodeApi } from './nodeApi.ts';

/** node_ and chain_ methods. */
export function chainMethods(api: NodeApi): RpcMethod[] {
  const { chain } = api;
  return [
    defineMethod({
      name: 'node_info',
      summary: 'What this node runs: version, chain id, genesis hash, consensus engine, head and validator key.',
      params: [],
      result: {
        name: 'nodeInfo',
        schema: Type.Object({
          version: Type.String(),
          chainId: Type.String(),
          genesisHash: Type.String(),
          engine: Type.String(),
          height: Type.Integer(),
          head: Type.String(),
          validator: Type.Union([Type.String(), Type.Null()]),
          mempoolSize: Type.Integer(),
          deniedReads: Type.Integer({ description: 'reads this node refused since it started' }),
          uptimeMs: Type.Integer(),
        }),
      },
      handler: () => ({
        version: api.version,
        chainId: chain.genesisSpec.chainId,
        genesisHash: toHex(chain.genesisHash),
        engine: chain.engine.kind,
        height: chain.head.header.height,
        head: toHex(chain.head.hash),
        validator: api.validator === undefined ? null : toHex(api.validator),
        mempoolSize: api.mempool.size,
        deniedReads: api.records.deniedReadCount,
        uptimeMs: api.clock() - api.startedAt,
      }),
    }),
    defineMethod({
      name: 'chain_getHead',
      summary: 'The header of the head block.',
      params: [],
      result: { name: 'header', schema: HeaderJson },
      handler: () => headerToJson(chain.head.hash, chain.head.header),
    }),
    defineMethod({
      name: 'chain_getBlock',
      summary: 'A block of the canonical chain by height, or any known block by hash; null when there is none.',
      params: [
        {
          name: 'block',
          schema: Type.Union([Type.Integer({ minimum: 0, maximum: 0xffffffff }), Hash32]),
          description: 'a height, or a block hash as 64 hex digits',
        },
        { name: 'fullTransactions', schema: Type.Boolean(), required: false, description: 'full transactions instead of ids (default false)' },
      ],
      result: { name: 'block', schema: Type.Union([BlockJson, Type.Null()]) },
      handler: async ({ block, fullTransactions }) => {
        const found = typeof block === 'number' ? await chain.getBlockByHeight(block) : await chain.getBlockByHash(block);
        return found === undefined ? null : blockToJson(found, fullTransactions ?? false);
      },
    }),
    defineMethod({
      name: 'chain_getFinality',
      summary: 'The justified and finalized checkpoints of the head state (PoS; genesis on a PoW chain).',
      description: 'A finalized block is never reverted: the node refuses any branch that leaves the chain below it.',
      params: [],
      result: {
        name: 'finality',
        schema: Type.Object({
          justified: Type.Object({ height: Type.Integer(), hash: HexString }),
          finalized: Type.Object({ height: Type.Integer(), hash: HexString }),
        }),
      },
      handler: () => {
        const { justified, finalized } = chain;
        return { justified: { height: justified.height, hash: toHex(justified.hash) }, finalized: { height: finalized.height, hash: toHex(finalized.hash) } };
      },
    }),
    defineMethod({
      name: 'chain_getValidators',
      summary: 'The validator set at the head (PoS): each hospital with its stake, plus slashed validators.',
      params: [],
      result: {
        name: 'validators',
        schema: Type.Object({
          validators: Type.Array(Type.Object({ id: HexString, stake: Type.String({ description: 'decimal' }), balance: Type.String({ description: 'unbonded, decimal' }) })),
          slashed: Type.Array(HexString),
        }),
      },
      handler: () => {
        const state = chain.state;
        return {
          validators: getValidatorSet(state).map((v) => ({ id: toHex(v.id), stake: v.stake.toString(), balance: getBalance(state, v.id).toString() })),
          slashed: chain.genesisSpec.hospitals.filter((h) => state.get(stateKey.slashed(h.id)) !== undefined).map((h) => toHex(h.id)),
        };
      },
    }),
  ];
}
