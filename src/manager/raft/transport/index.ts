export { RaftTransport, type RaftTransportOptions, type TransportHandler } from './raft-transport.js';
export type { RaftServiceHandler } from './raft-service.js';
export { defaultTransportTuning, type TransportTuning } from './tuning.js';
export { loadRaftProto, type RaftProto } from './load-proto.js';
export type * from './wire-types.js';
