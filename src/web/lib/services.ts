/** What every page may use: the node's RPC, the live chain feed, stored identities and the unlocked keys. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { MedchainRpc } from '../../client/rpcClient.ts';
import type { RandomSource } from '../../envelope/random.ts';
import type { IdentityStore } from '../identityStore.ts';
import type { KeySession } from '../session.ts';
import type { ChainData } from './chainData.ts';
import type { ChainFeed } from './chainFeed.ts';

export interface Services {
  readonly rpc: MedchainRpc;
  readonly feed: ChainFeed;
  readonly chainData: ChainData;
  readonly identities: IdentityStore;
  readonly session: KeySession;
  readonly random: RandomSource;
  readonly now: () => number;
  /** Subscribers are told when the identity list or the session changed. */
  readonly changes: EventTarget;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (services === null) throw new Error('useServices outside <ServicesContext>');
  return services;
}

/** Event name on Services.changes: identities were added, removed, unlocked or locked. */
export const IDENTITIES_CHANGED = 'identities';
