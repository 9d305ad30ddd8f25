import Type from 'typebox';
import { RpcError, RpcErrors } from '../errors.ts';
import { defineMethod, type RpcMethod } from '../method.ts';
import { SUBSCRIPTIONS_NEED_WEBSOCKET, SUBSCRIPTION_KINDS, SUBSCRIPTION_NOTIFICATION_METHOD, TOO_MANY_SUBSCRIPTIONS } from '../subscriptions.ts';
import { Hash32 } from './json.ts';
import type { NodeApi } from './nodeApi.ts';

const SubscriptionId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'subscription id: 16 random bytes as 32 lowercase hex digits' });

const SUBSCRIBE_DESCRIPTION = [
  'WebSocket only (ws://<node>/ws); over HTTP it answers SUBSCRIPTIONS_NEED_WEBSOCKET. Each event arrives as a',
  `JSON-RPC notification {"jsonrpc":"2.0","method":"${SUBSCRIPTION_NOTIFICATION_METHOD}","params":{"subscription":<id>,"result":<event>}},`,
  'never before the answer carrying the id. Kinds and their events:',
  '"newHeads": the header of every block that becomes canonical, in order, as chain_getHead returns it; after a reorg',
  'first {"reverted":[block hashes, newest first],"applied":[block hashes, oldest first]}, then the applied headers.',
  '"finalized": {"height","hash"} each time the finalized checkpoint of chain_getFinality advances (PoS).',
  '"accountActivity" with params {"account": <64 hex digits>}: {"txId","type","height","blockHash","sender","record"?}',
  'for every included transaction that concerns the account: sent by it; about a record it owns (grant, revoke,',
  'read receipt, new version, erasure); granting it access or revoking that; attesting it or withdrawing that.',
  'Transactions of blocks a reorg reverted are sent again with "removed": true.',
  'A connection holds at most 64 subscriptions; they end with chain_unsubscribe or when the connection closes.',
].join(' ');

/** chain_subscribe and chain_unsubscribe: chain events pushed over the WebSocket transport. */
export function subscriptionMethods(api: NodeApi): RpcMethod[] {
  const hub = () => {
    if (api.subscriptions === undefined) throw new RpcError(SUBSCRIPTIONS_NEED_WEBSOCKET, 'This node serves no subscriptions');
    return api.subscriptions;
  };
  return [
    defineMethod({
      name: 'chain_subscribe',
      summary: 'Subscribes this WebSocket connection to chain events: new heads (and reorgs), finality, or one account\'s activity.',
      description: SUBSCRIBE_DESCRIPTION,
      params: [
        {
          name: 'kind',
          schema: Type.Union(
            SUBSCRIPTION_KINDS.map((k) => Type.Literal(k)),
            { description: 'one of newHeads, finalized, accountActivity' },
          ),
          description: 'what to be told about',
        },
        {
          name: 'params',
          schema: Type.Object({ account: Hash32 }, { additionalProperties: false, description: '{"account": <64 hex digits>} for accountActivity' }),
          required: false,
          description: 'accountActivity only: the account to follow',
        },
      ],
      result: { name: 'subscription', schema: SubscriptionId, description: 'the id every notification of this subscription carries' },
      errors: [SUBSCRIPTIONS_NEED_WEBSOCKET, TOO_MANY_SUBSCRIPTIONS, RpcErrors.INVALID_PARAMS],
      handler: ({ kind, params }, ctx) => hub().subscribe(ctx, kind, params?.account),
    }),
    defineMethod({
      name: 'chain_unsubscribe',
      summary: 'Ends a subscription of this WebSocket connection; false when the connection has none by that id.',
      params: [{ name: 'subscription', schema: Type.String({ maxLength: 64, description: 'an id chain_subscribe returned' }), description: 'the subscription to end' }],
      result: { name: 'unsubscribed', schema: Type.Boolean() },
      errors: [SUBSCRIPTIONS_NEED_WEBSOCKET],
      handler: ({ subscription }, ctx) => hub().unsubscribe(ctx, subscription),
    }),
  ];
}
