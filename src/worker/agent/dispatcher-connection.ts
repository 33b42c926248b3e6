import type { TsswarmError } from '../../errors/index.js';
import type {
  AssignmentsMessage, AssignmentsRequest, HeartbeatRequest, HeartbeatResponse, PublishLogsMessage, SessionMessage, SessionRequest,
  UpdateTaskStatusRequest, UpdateTaskStatusResponse,
} from '../../manager/dispatcher/messages.js';

/** Callbacks of one server stream. Exactly one of onError is called, once, unless cancelled. */
export interface StreamHandlers<M> {
  onMessage(message: M): void;
  /** The stream ended: refused (the server's TsswarmError), broken or ended by the server. */
  onError(err: TsswarmError): void;
}

export interface StreamHandle {
  /** Ends the stream; no callback runs afterwards. */
  cancel(): void;
}

/** One PublishLogs client stream (one subscription). */
export interface LogPublishStream {
  /**
   * Sends a message; resolves once the transport can take more (backpressure), rejects with
   * the manager's TsswarmError (or TRANSPORT_UNREACHABLE) once the call has failed.
   */
  write(message: PublishLogsMessage): Promise<void>;
  /** Half-closes the stream; resolves when the manager accepted it all, rejects as write does. */
  finish(): Promise<void>;
  /** Abandons the stream (the subscription was withdrawn or the session ended). */
  cancel(): void;
}

/**
 * The agent's view of one manager's Dispatcher service. Every failure is a TsswarmError: the
 * server's own (DISPATCHER_NOT_LEADER, DISPATCHER_SESSION_INVALID, ...) or
 * TRANSPORT_UNREACHABLE for a broken connection or a passed deadline. The gRPC adapter is
 * grpc-dispatcher-connection.ts; tests may supply their own.
 */
export interface DispatcherConnection {
  readonly addr: string;
  session(request: SessionRequest, handlers: StreamHandlers<SessionMessage>): StreamHandle;
  heartbeat(request: HeartbeatRequest, timeoutMs: number): Promise<HeartbeatResponse>;
  assignments(request: AssignmentsRequest, handlers: StreamHandlers<AssignmentsMessage>): StreamHandle;
  updateTaskStatus(request: UpdateTaskStatusRequest, timeoutMs: number): Promise<UpdateTaskStatusResponse>;
  /** Opens a PublishLogs stream (nothing is sent until the first write). */
  publishLogs(): LogPublishStream;
  /** Closes the channel; streams still open are cancelled. */
  close(): void;
}

/** Opens a connection to the manager at host:port (lazily: nothing is dialled until a call). */
export type DispatcherConnector = (addr: string) => DispatcherConnection;
