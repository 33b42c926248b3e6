import type { LogSubscription } from '../dispatcher/messages.js';

/** A task whose logs are wanted and the node that runs it (Task.nodeId). */
export interface LogTarget {
  readonly taskId: string;
  readonly nodeId: string;
}

export interface SubscriptionPlan {
  /** Node ID -> its tasks, for the nodes that have a session: they get the subscription. */
  readonly parts: ReadonlyMap<string, readonly string[]>;
  /** Tasks on nodes without a session (down, disconnected, never assigned): they end at once. */
  readonly unavailable: readonly LogTarget[];
}

/**
 * Which node serves which part of a new subscription. Pure: `hasSession` is the dispatcher's
 * answer at subscribe time. A task named twice counts once; a task with no node ("") is
 * unavailable (it was never scheduled).
 */
export function planSubscription(targets: readonly LogTarget[], hasSession: (nodeId: string) => boolean): SubscriptionPlan {
  const parts = new Map<string, string[]>();
  const unavailable: LogTarget[] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.taskId)) continue;
    seen.add(target.taskId);
    if (target.nodeId === '' || !hasSession(target.nodeId)) {
      unavailable.push(target);
      continue;
    }
    const tasks = parts.get(target.nodeId) ?? [];
    tasks.push(target.taskId);
    parts.set(target.nodeId, tasks);
  }
  return { parts, unavailable };
}

/** One subscription as the broker keeps it, for the session messages. */
export interface SubscriptionView {
  readonly id: string;
  readonly follow: boolean;
  readonly tail: number;
  /** The node's open tasks of this subscription (none: the node is not told about it). */
  openTasks(nodeId: string): readonly string[];
}

/** What a node's session message lists: its subscriptions with open tasks, sorted by ID. */
export function subscriptionsForNode(subscriptions: Iterable<SubscriptionView>, nodeId: string): LogSubscription[] {
  const out: LogSubscription[] = [];
  for (const sub of subscriptions) {
    const taskIds = sub.openTasks(nodeId);
    if (taskIds.length === 0) continue;
    out.push({ id: sub.id, taskIds: [...taskIds].sort(), follow: sub.follow, tail: sub.follow ? 0 : sub.tail });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
