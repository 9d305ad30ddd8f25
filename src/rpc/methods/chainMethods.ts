import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { toHex } from '../../codec/bytes.ts';
import { BlockJson, Hash32, HeaderJson, HexString, blockToJson, headerToJson } from './json.ts';
import { getValidatorSet } from '../../state/accessors.ts';
import { getBalance } from '../../state/pos.ts';
import { PosEngine, proposerForSlot } from '../../consensus/pos/posEngine.ts';
import { stateKey } from '../../state/stateKeys.ts';
import type { NodeApi } from './nodeApi.ts';

/** Slots over which chain_getValidators counts proposed blocks and missed slots. */
const STATS_SLOTS = 256;

/** node_ and chain_ methods. */
export function chainMethods(api: NodeApi): RpcMethod[] {
  const { chain } = api;
  // chain_getValidators' last walk: block hash -> its slot and proposer (only blocks within the window).
  let recentSlots = new Map<string, { slot: number | undefined; proposer: string }>();
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
      summary: 'The validator set at the head (PoS): stake, balance, and blocks proposed and slots missed lately; slashed validators.',
      description:
        `A slot is missed when its proposer (drawn from the validator set at the head) made no block on the canonical chain; ` +
        `counted over the last ${STATS_SLOTS} slots. Empty on a proof-of-work chain.`,
      params: [],
      result: {
        name: 'validators',
        schema: Type.Object({
          validators: Type.Array(
            Type.Object({
              id: HexString,
              stake: Type.String({ description: 'decimal' }),
              balance: Type.String({ description: 'unbonded, decimal' }),
              proposed: Type.Integer({ description: 'blocks on the canonical chain in the window' }),
              missed: Type.Integer({ description: 'slots in the window it was drawn for without a canonical block' }),
            }),
          ),
          slashed: Type.Array(HexString),
          window: Type.Object({ fromSlot: Type.Integer(), toSlot: Type.Integer() }),
        }),
      },
      handler: async () => {
        const state = chain.state;
        const set = getValidatorSet(state);
        const engine = chain.engine;
        const stats = new Map(set.map((v) => [toHex(v.id), { proposed: 0, missed: 0 }]));
        let window = { fromSlot: 0, toSlot: 0 };
        if (engine instanceof PosEngine) {
          const toSlot = engine.slotOf(chain.head.header.time) ?? 0;
          // Not before the chain's first block: slots before anyone produced are not anyone's misses.
          const first = await chain.getBlockByHeight(1);
          const firstSlot = first === undefined ? toSlot + 1 : (engine.slotOf(first.header.time) ?? 1);
          const fromSlot = Math.max(1, toSlot - STATS_SLOTS + 1, firstSlot);
          window = { fromSlot, toSlot };
          // The canonical blocks' slots in the window, walking back from the head.
          const filled = new Set<number>();
          const seen = new Map<string, { slot: number | undefined; proposer: string }>();
          for (let height = chain.head.header.height; height > 0; height--) {
            const hash = await chain.store.getCanonicalHash(height);
            if (hash === undefined) break;
            const key = toHex(hash);
            // Dashboards ask on every new head: a block already read is not read and decoded again.
            let entry = recentSlots.get(key);
            if (entry === undefined) {
              const block = await chain.getBlockByHash(hash);
              if (block === undefined) break;
              entry = { slot: engine.slotOf(block.header.time), proposer: toHex(block.header.proposer) };
            }
            seen.set(key, entry);
            if (entry.slot === undefined || entry.slot < fromSlot) break;
            filled.add(entry.slot);
            const s = stats.get(entry.proposer);
            if (s !== undefined) s.proposed++;
          }
          recentSlots = seen;
          for (let slot = fromSlot; slot <= toSlot; slot++) {
            if (filled.has(slot)) continue;
            const proposer = proposerForSlot(set, slot);
            const s = proposer === undefined ? undefined : stats.get(toHex(proposer));
            if (s !== undefined) s.missed++;
          }
        }
        return {
          validators: set.map((v) => ({ id: toHex(v.id), stake: v.stake.toString(), balance: getBalance(state, v.id).toString(), ...stats.get(toHex(v.id))! })),
          slashed: chain.genesisSpec.hospitals.filter((h) => state.get(stateKey.slashed(h.id)) !== undefined).map((h) => toHex(h.id)),
          window,
        };
      },
    }),
  ];
}
