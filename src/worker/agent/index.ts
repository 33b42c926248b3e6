// Public API of the node's agent (see README.md).
export { Agent, type AgentOptions, type AgentStatus } from './agent.js';
export { agentConfigSchema, parseAgentConfig, type AgentConfig, type AgentConfigInput } from './agent-config.js';
export type { SessionEvents, ConnectionState } from './session-events.js';
export type { DispatcherConnection, DispatcherConnector, LogPublishStream, StreamHandle, StreamHandlers } from './dispatcher-connection.js';
export { LogPublisher, taskErrorOf, type LogPublisherOptions } from './log-publisher.js';
export { LineBatch, TailBuffer, diffSubscriptions } from './log-batch.js';
export { missingLogSource, type LogSource, type LogLine } from './log-source.js';
export { grpcDispatcherConnector, type GrpcConnectorOptions } from './grpc-dispatcher-connection.js';
export { RejectingExecutor } from './rejecting-executor.js';
export type { WeightedPeer, SessionMessage, LogSubscription, PublishLogsMessage } from '../../manager/dispatcher/messages.js';
