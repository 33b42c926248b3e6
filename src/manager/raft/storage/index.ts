export { openRaftLog, type RaftLog, type RaftLogStats, type RecoveredState } from './raft-log.js';
export { raftStorageConfigSchema, parseRaftStorageConfig, type RaftStorageConfig } from './config.js';
