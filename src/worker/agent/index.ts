// Public API of the node's agent (see README.md).
export { Agent, type AgentOptions, type AgentStatus } from './agent.js';
export { agentConfigSchema, parseAgentConfig, type AgentConfig, type AgentConfigInput } from './agent-config.js';
export type { SessionEvents, ConnectionState } from './session-events.js';
export type { DispatcherConnection, DispatcherConnector, StreamHandle, StreamHandlers } from './dispatcher-connection.js';
export { grpcDispatcherConnector, type GrpcConnectorOptions } from './grpc-dispatcher-connection.js';
export { RejectingExecutor } from './rejecting-executor.js';
export type { WeightedPeer, SessionMessage } from '../../manager/dispatcher/messages.js';
