export type * from './interface.ts';
export { Libp2pNetwork, type NetworkModules } from './libp2pNetwork.ts';
export { NETWORK_LIMITS, PEER_SCORING, type NetworkLimits, type NetworkOptions, type RateLimit } from './options.ts';
export { ReqRespError, ReqRespErrorCode } from './errors.ts';
export { gossipTopic, reqRespProtocolId, ReqRespProtocol } from './protocols.ts';
export { Syncer, DEFAULT_SYNC_OPTIONS, type BlockRef, type SyncChain, type SyncOptions, type SyncState } from './sync.ts';
