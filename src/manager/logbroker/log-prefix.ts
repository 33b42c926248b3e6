/** Where a line comes from, as `service logs` names it. */
export interface LogLineOrigin {
  readonly serviceName: string;
  /** The replicated task's slot; 0 for a global service's task (named after its node). */
  readonly slot: number;
  readonly nodeId: string;
  readonly taskId: string;
  /** The node's hostname (Node.description.hostname); the node ID when it has none. */
  readonly hostname: string;
}

/** Docker's short task ID: the first 12 characters. */
const SHORT_ID_LENGTH = 12;

/**
 * Docker's `service logs` prefix: `web.1.abc123def456@host1    | ` (task name, slot or node
 * ID for a global task, the task ID, 12 characters unless noTrunc, at the node's hostname).
 */
export function logLinePrefix(origin: LogLineOrigin, opts: { readonly noTrunc?: boolean } = {}): string {
  const taskId = opts.noTrunc === true ? origin.taskId : origin.taskId.slice(0, SHORT_ID_LENGTH);
  const slot = origin.slot > 0 ? String(origin.slot) : origin.nodeId;
  const host = origin.hostname !== '' ? origin.hostname : origin.nodeId;
  return `${origin.serviceName}.${slot}.${taskId}@${host}    | `;
}
