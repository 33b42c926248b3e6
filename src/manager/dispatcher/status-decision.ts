import { taskStateBefore, type Task, type TaskStatus } from '../../objects/index.js';

export type StatusDecision =
  | { readonly kind: 'write' }
  | { readonly kind: 'ignore'; readonly reason: 'unknown-task' | 'backwards' | 'unchanged' }
  | { readonly kind: 'refuse'; readonly ownerId: string };

/**
 * Whether a node's status report for a task is written. Pure; checked when the call arrives
 * (a refusal changes nothing) and again inside the store transaction that writes it.
 * - unknown task (deleted meanwhile): ignored;
 * - a task of another node: refused (a node acts only for itself);
 * - an earlier state than the stored one: ignored (states only grow);
 * - the stored status again: ignored (no Raft write for nothing).
 */
export function decideStatusUpdate(task: Task | undefined, callerNodeId: string, status: TaskStatus): StatusDecision {
  if (task === undefined) return { kind: 'ignore', reason: 'unknown-task' };
  if (task.nodeId !== callerNodeId) return { kind: 'refuse', ownerId: task.nodeId === '' ? '(none)' : task.nodeId };
  if (taskStateBefore(status.state, task.status.state)) return { kind: 'ignore', reason: 'backwards' };
  if (JSON.stringify(comparable(status)) === JSON.stringify(comparable(task.status))) return { kind: 'ignore', reason: 'unchanged' };
  return { kind: 'write' };
}

function comparable(status: TaskStatus): unknown {
  const { timestampMs: _timestamp, ...rest } = status;
  return rest;
}
