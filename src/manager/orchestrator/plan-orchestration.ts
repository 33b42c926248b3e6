import type { Cluster, Node, Service, Task } from '../../objects/index.js';
import { nodeAcceptsNewTasks } from '../scheduler/node-filters.js';
import { nodeMatchesConstraints, parseConstraint, type Constraint } from '../scheduler/constraint.js';
import { reapTasks } from './task-reaper.js';
import { planRollingUpdate } from './rolling-update.js';
import { retireSlot, settleSlot, type PlanContext, type Slot } from './slots.js';
import { TaskBook } from './task-book.js';
import { isRunnable } from './task-model.js';

export interface OrchestrationInput {
  readonly services: readonly Service[];
  readonly tasks: readonly Task[];
  readonly nodes: readonly Node[];
  readonly clusters: readonly Cluster[];
}

/** Docker's task history: 5 tasks per slot unless the cluster spec says otherwise. */
export const DEFAULT_TASK_HISTORY = 5;

/** The cluster's task history retention limit; 0 (unset) means Docker's default of 5. */
export function historyLimit(clusters: readonly Cluster[]): number {
  const v = clusters[0]?.spec.taskHistoryRetentionLimit ?? 0;
  return v > 0 ? v : DEFAULT_TASK_HISTORY;
}

function groupBy(tasks: readonly Task[], key: (t: Task) => string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const t of tasks) {
    const k = key(t);
    const ids = m.get(k);
    if (ids === undefined) m.set(k, [t.id]);
    else ids.push(t.id);
  }
  return m;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

function planReplicated(ctx: PlanContext, service: Service, tasks: readonly Task[]): void {
  const replicas = service.spec.replicated?.replicas ?? 0;
  const bySlot = groupBy(tasks, (t) => String(t.slot));
  for (let n = 1; n <= replicas; n++) settleSlot(ctx, service, { key: String(n), where: { slot: n } }, bySlot.get(String(n)) ?? [], true);
  const settled = groupBy(ctx.book.tasksOf(service.id), (t) => String(t.slot));
  const kept = range(replicas).map((n) => ({ slot: { key: String(n), where: { slot: n } } as Slot, ids: settled.get(String(n)) ?? [] }));
  // Scale down: the highest slots go, with desired state REMOVE (swarmkit since 2019), so the
  // reaper deletes them once they stopped instead of keeping them as history.
  for (const [key, ids] of bySlot) if (Number(key) > replicas || Number(key) < 1) retireSlot(ctx, ids, 'REMOVE');
  planRollingUpdate(ctx, service.id, kept);
}

/**
 * Nodes a global service runs on: READY, not drained, matching the constraints. A paused node
 * keeps its task but gets no new one (`mayCreate`).
 */
function planGlobal(ctx: PlanContext, service: Service, tasks: readonly Task[]): void {
  let constraints: Constraint[] | undefined;
  try {
    constraints = (service.spec.task.placement?.constraints ?? []).map(parseConstraint);
  } catch {
    constraints = undefined;
  }
  const byNode = groupBy(tasks, (t) => t.nodeId);
  const running: Slot[] = [];
  for (const node of ctx.nodes.values()) {
    const ids = byNode.get(node.id) ?? [];
    const eligible = constraints !== undefined && node.status?.state === 'READY' && node.spec.availability !== 'DRAIN' && nodeMatchesConstraints(node, constraints);
    if (!eligible) {
      retireSlot(ctx, ids, 'SHUTDOWN');
      continue;
    }
    const slot: Slot = { key: node.id, where: { nodeId: node.id } };
    const accepts = nodeAcceptsNewTasks(node);
    settleSlot(ctx, service, slot, ids, accepts);
    // As swarmkit: a paused node's task is neither replaced nor updated until it is active.
    if (accepts) running.push(slot);
  }
  const settled = groupBy(ctx.book.tasksOf(service.id), (t) => t.nodeId);
  const kept = running.map((slot) => ({ slot, ids: settled.get(slot.key) ?? [] }));
  // Tasks on nodes that left the store (node rm), or never placed on one.
  for (const [nodeId, ids] of byNode) if (!ctx.nodes.has(nodeId)) retireSlot(ctx, ids, 'SHUTDOWN');
  planRollingUpdate(ctx, service.id, kept);
}

/**
 * The whole orchestration decision for one pass, pure: given the store's services, tasks,
 * nodes and cluster, the time, and an ID source, the book of changes (tasks to create, update
 * and delete; services whose update status or spec changes; services to delete) and the time
 * of the next pass wanted. Idempotent: planned again on its own result, it changes nothing.
 */
export function planOrchestration(input: OrchestrationInput, nowMs: number, newId: () => string): TaskBook {
  const book = new TaskBook(input.tasks, input.services);
  const nodes = new Map(input.nodes.map((n) => [n.id, n] as const));
  const ctx: PlanContext = { nowMs, nodes, newId, book };
  const byService = new Map<string, Task[]>();
  for (const t of input.tasks) {
    const list = byService.get(t.serviceId);
    if (list === undefined) byService.set(t.serviceId, [t]);
    else list.push(t);
  }
  for (const service of [...input.services].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const tasks = byService.get(service.id) ?? [];
    if (service.pendingDelete) {
      retireSlot(ctx, tasks.map((t) => t.id), 'REMOVE');
    } else if (service.spec.global !== undefined) {
      planGlobal(ctx, service, tasks);
    } else {
      planReplicated(ctx, service, tasks);
    }
  }
  // Tasks whose service is gone entirely.
  const known = new Set(input.services.map((s) => s.id));
  for (const [serviceId, tasks] of byService) {
    if (known.has(serviceId)) continue;
    retireSlot(ctx, tasks.filter(isRunnable).map((t) => t.id), 'REMOVE');
  }
  reapTasks(ctx, historyLimit(input.clusters));
  return book;
}
