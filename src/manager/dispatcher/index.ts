// Public API of the managers' dispatcher (see README.md).
export { Dispatcher, type DispatcherOptions, type StreamSink } from './dispatcher.js';
export { dispatcherConfigSchema, parseDispatcherConfig, type DispatcherConfig, type DispatcherConfigInput } from './dispatcher-config.js';
export { dispatcherServiceImplementation, peerHost, type DispatcherServiceOptions } from './dispatcher-service.js';
export { ManagerDispatcher, managerPeers, notLeaderError, DISPATCHER_CALLER_ROLES, type ManagerDispatcherOptions } from './leader-runner.js';
export { loadDispatcherProto, type DispatcherProto } from './dispatcher-proto.js';
export { HeartbeatTracker, jitteredPeriod } from './heartbeat-tracker.js';
export { AssignmentTracker, assignmentFingerprint, isAssignedTo } from './assignment-tracker.js';
export { decideStatusUpdate, type StatusDecision } from './status-decision.js';
export { sessionMessage, trustedRootsPem, clusterHeartbeatPeriodMs } from './session-view.js';
export * from './messages.js';
