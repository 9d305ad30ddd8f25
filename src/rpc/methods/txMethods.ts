import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { toHex } from '../../codec/bytes.ts';
import { decodeTransaction } from '../../codec/transaction.ts';
import { merkleProof } from '../../crypto/merkle.ts';
import { asRpcError, DECODE_KINDS, REJECT_KINDS } from './rejections.ts';
import { Hash32, HexBytes, HexString, MerkleProofJson, TxJson, proofToJson, txToJson } from './json.ts';
import type { NodeApi } from './nodeApi.ts';
import { TxType } from '../../types/transaction.ts';

/** tx_ methods: submit and look up transactions. */
export function txMethods(api: NodeApi): RpcMethod[] {
  const { chain, mempool } = api;
  return [
    defineMethod({
      name: 'tx_submit',
      summary: 'Submits a signed transaction (its wire bytes in hex) to the mempool; returns its id.',
      description:
        'The transaction is decoded strictly, its signature checked, its nonce compared with the account, and, when it is the ' +
        "sender's next transaction, dry-run against the head state. Any failure is an error whose data.reason names it.",
      params: [{ name: 'transaction', schema: HexBytes, description: 'wire bytes of the signed transaction' }],
      result: { name: 'submitted', schema: Type.Object({ txId: HexString, status: Type.Literal('pending') }) },
      errors: [...DECODE_KINDS.values(), ...REJECT_KINDS.values()],
      handler: async ({ transaction }) => {
        let tx;
        try {
          tx = decodeTransaction(transaction);
        } catch (error) {
          throw asRpcError(error);
        }
        try {
          // Finality votes (PoS) go to the vote pool; everything else to the mempool.
          if (tx.body.type === TxType.Vote && api.submitVote !== undefined) await api.submitVote(tx);
          else mempool.add(tx);
        } catch (error) {
          throw asRpcError(error, { txId: toHex(tx.id) });
        }
        return { txId: toHex(tx.id), status: 'pending' as const };
      },
    }),
    defineMethod({
      name: 'tx_get',
      summary: 'A transaction by id: pending, or included with its block, index and Merkle inclusion proof.',
      params: [{ name: 'txId', schema: Hash32 }],
      result: {
        name: 'transaction',
        schema: Type.Union([
          Type.Object({ status: Type.Literal('pending'), transaction: TxJson }),
          Type.Object({
            status: Type.Literal('included'),
            transaction: TxJson,
            blockHash: HexString,
            height: Type.Integer(),
            index: Type.Integer(),
            txRoot: HexString,
            proof: MerkleProofJson,
          }),
          Type.Object({ status: Type.Literal('unknown') }),
        ]),
      },
      handler: async ({ txId }) => {
        const pending = mempool.get(txId);
        if (pending !== undefined) return { status: 'pending' as const, transaction: txToJson(pending) };
        const location = await chain.getTxLocation(txId);
        const block = location === undefined ? undefined : await chain.getBlockByHash(location.blockHash);
        if (location === undefined || block === undefined) return { status: 'unknown' as const };
        const ids = block.transactions.map((tx) => tx.id);
        return {
          status: 'included' as const,
          transaction: txToJson(block.transactions[location.index]!),
          blockHash: toHex(location.blockHash),
          height: location.height,
          index: location.index,
          txRoot: toHex(block.header.txRoot),
          proof: proofToJson(merkleProof(ids, location.index)),
        };
      },
    }),
  ];
}
