import type { Node, Task } from '../../objects/index.js';
import { addTask, explainFilter, FAILURES_BEFORE_LAST, FILTER_ORDER, firstFailingFilter, nodeInfos, taskNeeds, type FilterName, type NodeInfo } from './node-filters.js';
import { parsePreference, spreadValue, type SpreadPreference } from './placement.js';

export interface ScheduleInput {
  readonly nodes: readonly Node[];
  /** Every task in the store (the active ones count towards spread, ports and max replicas). */
  readonly tasks: readonly Task[];
  /** Wall ms, to count recent failures (task status timestamps); without it none count. */
  readonly nowMs?: number;
}

export interface SchedulePlan {
  readonly assign: ReadonlyArray<{ readonly taskId: string; readonly nodeId: string }>;
  /** Tasks that fit nowhere, with Docker's explanation (for status err); they stay PENDING. */
  readonly unplaced: ReadonlyArray<{ readonly taskId: string; readonly message: string }>;
}

/** A task the scheduler should place: PENDING, meant to run. */
export function isSchedulable(t: Task): boolean {
  return t.status.state === 'PENDING' && t.desiredState === 'RUNNING';
}

/**
 * Places every PENDING task (pure, deterministic). For each task, in (service, slot, ID)
 * order: the filters keep the nodes that can take it; placement preferences pick, level by
 * level, the label value with the fewest active tasks of the service (nodes without the label
 * are a group of their own); then the node with the fewest tasks of the service wins, ties
 * broken by fewest tasks in total, then by node ID; a node where the service failed 5 times in
 * the last 5 minutes (from the task history) comes last. Counts include the tasks placed earlier in
 * the same pass, so one pass spreads a whole batch. A task that names its node already (global
 * services) is checked against that node only.
 */
export function planSchedule(input: ScheduleInput): SchedulePlan {
  const infos = nodeInfos(input.nodes, input.tasks, input.nowMs);
  const ordered = [...infos.values()].sort((a, b) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
  const pending = input.tasks.filter(isSchedulable).sort(taskOrder);
  const assign: Array<{ taskId: string; nodeId: string }> = [];
  const unplaced: Array<{ taskId: string; message: string }> = [];
  for (const task of pending) {
    const needs = taskNeeds(task);
    const candidates = task.nodeId !== '' ? ordered.filter((i) => i.node.id === task.nodeId) : ordered;
    const failures = new Map<FilterName, number>();
    const fit: NodeInfo[] = [];
    for (const info of candidates) {
      const failed = firstFailingFilter(info, task.serviceId, needs);
      if (failed === undefined) fit.push(info);
      else failures.set(failed, (failures.get(failed) ?? 0) + 1);
    }
    if (fit.length === 0) {
      unplaced.push({ taskId: task.id, message: explainNoNode(failures) });
      continue;
    }
    const chosen = choose(fit, task.serviceId, preferencesOf(task));
    assign.push({ taskId: task.id, nodeId: chosen.node.id });
    addTask(chosen, { ...task, nodeId: chosen.node.id });
  }
  return { assign, unplaced };
}

function taskOrder(a: Task, b: Task): number {
  if (a.serviceId !== b.serviceId) return a.serviceId < b.serviceId ? -1 : 1;
  if (a.slot !== b.slot) return a.slot - b.slot;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function preferencesOf(task: Task): SpreadPreference[] {
  const prefs: SpreadPreference[] = [];
  for (const p of task.spec.placement?.preferences ?? []) {
    try {
      prefs.push(parsePreference(p.spreadDescriptor));
    } catch {
      // Checked when the service was written; an unreadable one spreads over nothing.
    }
  }
  return prefs;
}

function explainNoNode(failures: ReadonlyMap<FilterName, number>): string {
  // Most turned-away nodes first, as swarmkit's pipeline explains; ties in filter order.
  const parts = FILTER_ORDER.filter((f) => failures.has(f))
    .sort((a, b) => failures.get(b)! - failures.get(a)! || FILTER_ORDER.indexOf(a) - FILTER_ORDER.indexOf(b))
    .map((f) => explainFilter(f, failures.get(f)!));
  return parts.length === 0 ? 'no suitable node' : `no suitable node (${parts.join('; ')})`;
}

const serviceCount = (i: NodeInfo, serviceId: string): number => i.byService.get(serviceId) ?? 0;

function choose(fit: readonly NodeInfo[], serviceId: string, prefs: readonly SpreadPreference[]): NodeInfo {
  let group = fit;
  for (const pref of prefs) {
    const groups = new Map<string, NodeInfo[]>();
    for (const i of group) {
      const v = spreadValue(i.node, pref);
      const g = groups.get(v);
      if (g === undefined) groups.set(v, [i]);
      else g.push(i);
    }
    let best: { key: string; count: number; nodes: NodeInfo[] } | undefined;
    for (const [key, nodes] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const count = nodes.reduce((n, i) => n + serviceCount(i, serviceId), 0);
      if (best === undefined || count < best.count) best = { key, count, nodes };
    }
    group = best!.nodes;
  }
  const failing = (i: NodeInfo): number => ((i.recentFailures.get(serviceId) ?? 0) >= FAILURES_BEFORE_LAST ? 1 : 0);
  let winner = group[0]!;
  for (const i of group.slice(1)) {
    const f = failing(i) - failing(winner);
    const a = serviceCount(i, serviceId);
    const b = serviceCount(winner, serviceId);
    if (f < 0 || (f === 0 && (a < b || (a === b && i.total < winner.total)))) winner = i;
  }
  return winner;
}
