/**
 * The one place the simulator reaches into the core's implementation; everything else is
 * written against the contract in src/manager/raft/types.ts.
 */
export { bootstrapSnapshot, createRaftCore, MemoryStorage } from '../../../../src/manager/raft/core/index.js';
export { decodeConfChange, encodeConfChange } from '../../../../src/manager/raft/core/conf-change-codec.js';
