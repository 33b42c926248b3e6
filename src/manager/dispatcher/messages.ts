import type { DeepPartial, EncryptionKey, NetworkAttachment, Node, NodeDescription, Task, TaskStatus } from '../../objects/index.js';

/**
 * TypeScript shapes of proto/dispatcher.proto's messages as dispatcher-proto.ts decodes them
 * (camelCase, every field present, enums as names, int64 as number). Keep in step with the
 * .proto file. Shared by the dispatcher (manager side) and the agent (node side).
 */
export interface SessionRequest {
  description: DeepPartial<NodeDescription> | undefined;
  advertiseAddr: string;
}

export interface WeightedPeer {
  nodeId: string;
  /** host:port of the manager's 2377. */
  addr: string;
  /** Higher = preferred; the leader has the highest. */
  weight: number;
}

export interface SessionMessage {
  sessionId: string;
  node: Node | undefined;
  managers: WeightedPeer[];
  networkBootstrapKeys: EncryptionKey[];
  /** Roots to trust, PEM (root CA, plus next root and cross-signed cert while rotating). */
  rootCaPem: string;
  heartbeatPeriodMs: number;
  /** The log subscriptions this node serves now: the complete list, sorted by ID. */
  logSubscriptions: LogSubscription[];
  /**
   * The node's own overlay addresses (Node.attachments): its load-balancer address on the
   * ingress network, with the Network as allocated.
   */
  nodeAttachments: NetworkAttachment[];
}

export interface LogSubscription {
  id: string;
  /** The tasks of the receiving node whose lines are wanted. */
  taskIds: string[];
  follow: boolean;
  /** Last lines per task, 0 = all; non-follow subscriptions only. */
  tail: number;
}

export type LogStreamName = 'LOG_STREAM_STDOUT' | 'LOG_STREAM_STDERR';

export interface PublishedLogLine {
  taskId: string;
  stream: LogStreamName;
  timestampMs: number;
  /** The line without its newline (a Buffer once decoded; a string or bytes when sent). */
  data: Uint8Array | string;
}

export interface LogTaskError {
  taskId: string;
  /** A TsswarmError code. */
  code: string;
  /** The error's details as JSON. */
  detailsJson: string;
}

export interface PublishLogsMessage {
  sessionId: string;
  subscriptionId: string;
  lines: PublishedLogLine[];
  taskErrors: LogTaskError[];
  /** The node's part is complete (non-follow). */
  close: boolean;
}

/** The proto's empty PublishLogsResponse. */
export type PublishLogsResponse = Record<string, never>;

export interface HeartbeatRequest {
  sessionId: string;
}

export interface HeartbeatResponse {
  periodMs: number;
}

export interface AssignmentsRequest {
  sessionId: string;
}

export type AssignmentsType = 'COMPLETE' | 'INCREMENTAL';

export interface AssignmentsMessage {
  type: AssignmentsType;
  appliesTo: number;
  resultsIn: number;
  updateTasks: Task[];
  removeTasks: string[];
}

export interface TaskStatusUpdate {
  taskId: string;
  status: TaskStatus | undefined;
}

export interface UpdateTaskStatusRequest {
  sessionId: string;
  updates: TaskStatusUpdate[];
}

export interface UpdateTaskStatusResponse {
  ignoredTaskIds: string[];
}

/**
 * A decoded message with every `null` field removed (deeply). proto-loader's `defaults`
 * fills an unset sub-message with null, while the object shapes (src/objects) say absent
 * = undefined; both edges normalize, so `x.managerStatus !== undefined` means what it says.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withoutNulls(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = withoutNulls(v);
  return out as T;
}
