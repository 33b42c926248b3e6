import type { Task } from '../../objects/index.js';
import type { PlanContext } from './slots.js';
import { byAge, hasFinished, isRunnable, replaceAfterOf, wasAssigned } from './task-model.js';

/**
 * Whether a task that is no longer meant to run can be deleted: it finished, it never reached
 * a node (no agent knows it), or its node is gone from the store. A task still waiting for its
 * successor (replace-after) is kept: it is the slot's only memory of the pending restart.
 */
function deletable(t: Task, ctx: PlanContext): boolean {
  if (isRunnable(t) || replaceAfterOf(t) !== undefined) return false;
  return hasFinished(t) || !wasAssigned(t) || (t.nodeId !== '' && !ctx.nodes.has(t.nodeId));
}

/**
 * swarmkit's task reaper: deletes tasks with desired state REMOVE once deletable, keeps at
 * most `limit` tasks per slot (per node for global services), deleting the oldest deletable
 * ones first, deletes tasks of services that are gone, and finally deletes a service removed
 * with `service rm` (pending delete) once none of its tasks is left.
 */
export function reapTasks(ctx: PlanContext, limit: number): void {
  const { book } = ctx;
  const slots = new Map<string, Task[]>();
  for (const t of book.allTasks()) {
    const service = book.service(t.serviceId);
    if ((t.desiredState === 'REMOVE' || service === undefined) && deletable(t, ctx)) {
      book.delete(t.id);
      continue;
    }
    const key = `${t.serviceId}/${t.slot}/${t.slot === 0 ? t.nodeId : ''}`;
    const list = slots.get(key);
    if (list === undefined) slots.set(key, [t]);
    else list.push(t);
  }
  for (const tasks of slots.values()) {
    if (tasks.length <= limit) continue;
    let excess = tasks.length - limit;
    for (const t of [...tasks].sort(byAge)) {
      if (excess === 0) break;
      if (!deletable(t, ctx)) continue;
      book.delete(t.id);
      excess--;
    }
  }
  // A service in pending delete goes once its last task did.
  const remaining = new Set(book.allTasks().map((t) => t.serviceId));
  for (const s of book.allServices()) if (s.pendingDelete && !remaining.has(s.id)) book.deleteService(s.id);
}
