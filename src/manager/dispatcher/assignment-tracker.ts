import { taskStateBefore, type Task } from '../../objects/index.js';
import type { AssignmentsMessage } from './messages.js';

/** A task belongs in a node's assignments once the scheduler assigned it there. */
export function isAssignedTo(task: Task, nodeId: string): boolean {
  return task.nodeId === nodeId && !taskStateBefore(task.status.state, 'ASSIGNED');
}

/**
 * What the agent must know of a task: everything but its status (which the agent itself
 * reports) and meta (which every status write bumps). A change only there is not resent, so
 * an agent's own report does not echo back to it.
 */
export function assignmentFingerprint(task: Task): string {
  const { status: _status, meta: _meta, ...rest } = task;
  return JSON.stringify(rest);
}

/**
 * One Assignments stream's view of what the node was sent, and the changes not yet sent.
 * Pure: the stream feeds it the initial tasks and then each store event, and takes messages
 * out when its batch timer fires. Sequence numbers let the agent detect a gap.
 */
export class AssignmentTracker {
  private readonly sent = new Map<string, string>();
  private readonly updates = new Map<string, Task>();
  private readonly removes = new Set<string>();
  private sequence = 0;

  constructor(private readonly nodeId: string) {}

  /** The first message: the complete set among `tasks` (those of this node, ASSIGNED or later). */
  complete(tasks: readonly Task[]): AssignmentsMessage {
    this.sent.clear();
    this.updates.clear();
    this.removes.clear();
    const assigned = tasks.filter((t) => isAssignedTo(t, this.nodeId));
    for (const task of assigned) this.sent.set(task.id, assignmentFingerprint(task));
    this.sequence++;
    return { type: 'COMPLETE', appliesTo: 0, resultsIn: this.sequence, updateTasks: assigned, removeTasks: [] };
  }

  /** A store event about a task (created, updated or deleted). */
  observe(action: 'create' | 'update' | 'delete', task: Task): void {
    const id = task.id;
    if (action !== 'delete' && isAssignedTo(task, this.nodeId)) {
      const fingerprint = assignmentFingerprint(task);
      this.removes.delete(id);
      if (this.sent.get(id) === fingerprint) this.updates.delete(id);
      else this.updates.set(id, task);
      return;
    }
    this.updates.delete(id);
    if (this.sent.has(id)) this.removes.add(id);
  }

  pendingCount(): number {
    return this.updates.size + this.removes.size;
  }

  /** The next incremental message with up to `max` changes, or undefined when none wait. */
  takeIncremental(max: number): AssignmentsMessage | undefined {
    if (this.pendingCount() === 0) return undefined;
    const updateTasks: Task[] = [];
    const removeTasks: string[] = [];
    for (const id of this.removes) {
      if (removeTasks.length >= max) break;
      removeTasks.push(id);
    }
    for (const id of removeTasks) {
      this.removes.delete(id);
      this.sent.delete(id);
    }
    for (const [id, task] of this.updates) {
      if (removeTasks.length + updateTasks.length >= max) break;
      updateTasks.push(task);
      this.sent.set(id, assignmentFingerprint(task));
    }
    for (const task of updateTasks) this.updates.delete(task.id);
    const appliesTo = this.sequence;
    this.sequence++;
    return { type: 'INCREMENTAL', appliesTo, resultsIn: this.sequence, updateTasks, removeTasks };
  }
}
