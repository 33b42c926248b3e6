export { RaftNode } from './raft-node.js';
export type { RaftNodeOptions, RaftNodeStatus } from './options.js';
export type { StateMachine } from './state-machine.js';
export type { ProposalOutcome } from './pending-proposals.js';
export type { DurableLog, OpenedLog, RecoveredState } from './durable-log.js';
export { diskLogOpener } from './open-disk-log.js';
export { parseRaftNodeConfig, raftNodeConfigSchema, type RaftNodeConfig, type RaftNodeConfigInput } from './config.js';
