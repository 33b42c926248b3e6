import { taskStateBefore, type Task } from '../../objects/index.js';
import type { LogTarget } from './subscription-plan.js';

/**
 * The tasks `service logs SERVICE` reads, from the service's tasks in the store: those that
 * ever reached a node (ASSIGNED or later, so old and finished ones too, as Docker shows
 * them), by slot then ID. A task its node has already removed ends with TASK_NOT_FOUND.
 */
export function serviceLogTargets(tasks: readonly Task[], serviceId: string): LogTarget[] {
  return tasks
    .filter((t) => t.serviceId === serviceId && t.nodeId !== '' && !taskStateBefore(t.status.state, 'ASSIGNED'))
    .sort((a, b) => a.slot - b.slot || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((t) => ({ taskId: t.id, nodeId: t.nodeId }));
}
