export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { WriteTx } from './write-tx.js';
export type { ReadTx } from './state/read-tx.js';
export type { Proposer } from './proposer.js';
export { LocalProposer } from './local-proposer.js';
export { parseStoreConfig, storeConfigSchema, type StoreConfig, type StoreConfigInput } from './store-config.js';
export type { StoreEvent, StoreEventAction, StoreEventOf, WatchFilter } from './watch/event.js';
export type { Watcher } from './watch/watcher.js';
export * from '../../objects/index.js';
