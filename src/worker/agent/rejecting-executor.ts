import { TsswarmError } from '../../errors/index.js';
import { taskStateBefore, type Task, type TaskStatus } from '../../objects/index.js';
import type { TaskExecutor } from '../executor/task-executor.js';

/**
 * The executor of a daemon that has none yet: it runs NOTHING and says so. Every assigned
 * task that has not reached a terminal state is reported REJECTED with TASK_NO_EXECUTOR's
 * message as `err`, so the orchestrator places it elsewhere instead of believing it runs.
 * Never pretends: no task is ever reported beyond REJECTED.
 */
export class RejectingExecutor implements TaskExecutor {
  private readonly statuses = new Map<string, TaskStatus>();
  private readonly listeners: Array<(taskId: string, status: TaskStatus) => void> = [];

  /** `wallClock`: Unix ms stamped into the statuses (Date.now at the edge). */
  constructor(private readonly wallClock: () => number) {}

  setAssignments(tasks: readonly Task[]): void {
    const assigned = new Set(tasks.map((t) => t.id));
    for (const id of [...this.statuses.keys()]) if (!assigned.has(id)) this.statuses.delete(id);
    for (const task of tasks) {
      if (this.statuses.has(task.id)) continue;
      if (!taskStateBefore(task.status.state, 'COMPLETE')) continue;
      const err = new TsswarmError('TASK_NO_EXECUTOR', { taskId: task.id });
      const status: TaskStatus = { timestampMs: this.wallClock(), state: 'REJECTED', message: 'rejected', err: err.message };
      this.statuses.set(task.id, status);
      for (const listener of this.listeners) listener(task.id, status);
    }
  }

  onStatus(listener: (taskId: string, status: TaskStatus) => void): void {
    this.listeners.push(listener);
  }

  currentStatuses(): ReadonlyMap<string, TaskStatus> {
    return this.statuses;
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
  }
}
