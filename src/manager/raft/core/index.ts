export { createRaftCore } from './raw-node.js';
export { MemoryStorage, bootstrapSnapshot } from './memory-storage.js';
export { encodeConfChange, decodeConfChange } from './conf-change-codec.js';
export {
  raftCoreTunablesSchema,
  defaultRaftCoreTunables,
  resolveRaftCoreConfig,
  validateRaftCoreConfig,
  type RaftCoreTunables,
} from './config.js';
export { TRANSFER_CONTEXT, isTransferContext, makeMessage, type MessageFields } from './messages.js';
