import type { RpcMethod } from '../method.ts';
import { chainMethods } from './chainMethods.ts';
import { identityMethods } from './identityMethods.ts';
import { recordMethods } from './recordMethods.ts';
import { emrMethods } from './emrMethods.ts';
import { netMethods } from './netMethods.ts';
import { subscriptionMethods } from './subscriptionMethods.ts';
import type { NodeApi } from './nodeApi.ts';
import { txMethods } from './txMethods.ts';

export type { NodeApi };
export type { SyncProgress, SyncState } from './nodeApi.ts';

/** The node's whole method table: what dispatches is what rpc.discover describes. */
export function createNodeMethods(api: NodeApi): RpcMethod[] {
  return [...chainMethods(api), ...txMethods(api), ...identityMethods(api), ...recordMethods(api), ...emrMethods(api), ...netMethods(api), ...subscriptionMethods(api)];
}
