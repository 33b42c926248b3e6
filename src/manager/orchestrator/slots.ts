import type { Node, Service, Task } from '../../objects/index.js';
import { DEFAULT_RESTART, markForReplacement, replaceReason, shouldRestart } from './restart-policy.js';
import type { TaskBook } from './task-book.js';
import { byAge, hasFinished, isRunnable, LABELS, labelsOf, newTask, nodeLost, replaceAfterOf, restartTimesOf, sameTaskSpec, wasAssigned, withLabels } from './task-model.js';

/** What a planning pass knows besides the tasks. */
export interface PlanContext {
  readonly nowMs: number;
  readonly nodes: ReadonlyMap<string, Node>;
  readonly newId: () => string;
  readonly book: TaskBook;
}

/** A replicated slot (1..replicas) or, for a global service, a node. */
export interface Slot {
  readonly key: string;
  readonly where: { slot: number } | { nodeId: string };
}

/** The slot's tasks as the book has them now, desired REMOVE left out (they are leaving). */
export function slotTasks(book: TaskBook, ids: readonly string[]): Task[] {
  return ids.map((id) => book.task(id)).filter((t): t is Task => t !== undefined && t.desiredState !== 'REMOVE');
}

const stripReplace = (t: Task): Task => withLabels(t, { [LABELS.replaceAfter]: undefined, [LABELS.replaceWhenStopped]: undefined });

/** Whether a marked task's successor may be created now, and if not, when to look again. */
function successorDue(pred: Task, ctx: PlanContext): { due: boolean; wakeAtMs?: number } {
  const after = replaceAfterOf(pred) ?? 0;
  if (labelsOf(pred)[LABELS.replaceWhenStopped] !== undefined && wasAssigned(pred) && !hasFinished(pred) && !nodeLost(pred, ctx.nodes)) {
    return { due: false };
  }
  return after <= ctx.nowMs ? { due: true } : { due: false, wakeAtMs: after };
}

/**
 * Brings one slot to "one task meant to run" (swarmkit's restart supervisor plus the
 * orchestrator's slot filling): tasks that exited are restarted per policy (the old one's
 * desired state becomes SHUTDOWN, its successor comes after the restart delay), tasks on DOWN
 * or drained nodes are replaced, and an empty slot gets a new task when `mayCreate`.
 */
export function settleSlot(ctx: PlanContext, service: Service, slot: Slot, ids: readonly string[], mayCreate: boolean): void {
  const { book, nowMs } = ctx;
  const policy = service.spec.task.restart ?? DEFAULT_RESTART;
  let runnable = slotTasks(book, ids).filter(isRunnable);
  const healthy = runnable.filter((t) => replaceReason(t, ctx.nodes) === undefined);
  for (const t of runnable) {
    const reason = replaceReason(t, ctx.nodes);
    if (reason === undefined) continue;
    if (healthy.length > 0) {
      // A start-first pair whose other half is fine: this one just goes.
      book.put({ ...t, desiredState: 'SHUTDOWN' });
    } else if (reason !== 'exited' || shouldRestart(t, policy, nowMs)) {
      book.put(markForReplacement(t, reason, policy, nowMs));
    }
  }
  runnable = slotTasks(book, ids).filter(isRunnable);
  if (runnable.length > 0) return;

  const marked = slotTasks(book, ids).filter((t) => replaceAfterOf(t) !== undefined).sort(byAge);
  const pred = marked.pop();
  for (const stale of marked) book.put(stripReplace(stale));
  if (pred === undefined) {
    if (mayCreate) book.create(newTask(service, slot.where, ctx.newId(), nowMs));
    return;
  }
  const due = successorDue(pred, ctx);
  if (!due.due) {
    if (due.wakeAtMs !== undefined) book.wake(due.wakeAtMs);
    return;
  }
  if (!mayCreate) return;
  book.put(stripReplace(pred));
  const history = restartTimesOf(pred);
  // A successor of the same spec inherits the slot's restart count; a new spec starts afresh.
  const labels: Record<string, string> = history.length > 0 && sameTaskSpec(pred.spec, service.spec.task) ? { [LABELS.restarts]: history.join(',') } : {};
  book.create(newTask(service, slot.where, ctx.newId(), nowMs, labels));
}

/** Ends a slot that should not exist (scaled away, service removed, node no longer eligible). */
export function retireSlot(ctx: PlanContext, ids: readonly string[], desired: 'SHUTDOWN' | 'REMOVE'): void {
  for (const t of slotTasks(ctx.book, ids)) {
    let next = t;
    // REMOVE takes the slot's history too (a removed slot keeps none); SHUTDOWN only stops.
    if (isRunnable(next) || desired === 'REMOVE') next = { ...next, desiredState: desired };
    if (replaceAfterOf(next) !== undefined) next = stripReplace(next);
    if (next !== t) ctx.book.put(next);
  }
}
