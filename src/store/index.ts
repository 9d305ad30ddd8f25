export type { BlockMeta, ChainStore, ChainWrite, HeadPointer, MetaName, PreparedWrite, StateEntry, TxLocation } from './interface.ts';
export { createLevelChainStore, createMemoryChainStore, KvChainStore } from './chainStore.ts';
export { StoreError, StoreErrorCode } from './errors.ts';
export { KeyPrefix } from './keys.ts';
export type { KeyRange, KeyValueStore, KvEntry, KvOp, PreparedBatch } from './kv.ts';
export { LevelKeyValueStore } from './levelKv.ts';
export { MemoryKeyValueStore } from './memoryKv.ts';
