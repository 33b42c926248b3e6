import type { Task, TaskStatus } from '../../objects/index.js';

/**
 * The contract between the agent's session (src/worker/agent: what the managers assign) and
 * the executor (src/worker/executor: what runs on this node). The agent never touches a
 * process or a namespace; the executor never talks to a manager.
 *
 * Assignments are level-triggered: the agent always hands over the COMPLETE set of tasks the
 * managers assign to this node (it applies incremental changes itself first), and the
 * executor converges on it. A task absent from the set, or present with a desiredState of
 * SHUTDOWN or later, is stopped (stop signal, then SIGKILL after its grace period) and its
 * resources released; a task with desiredState RUNNING is run unless it already reached a
 * terminal state (a terminal task is never restarted here: restarts are the orchestrator's
 * job, with a new task).
 */
export interface TaskExecutor {
  /** Replace the assigned set. Returns at once; work happens in the background. */
  setAssignments(tasks: readonly Task[]): void;
  /**
   * Called with every status change, in order per task. States only move forward
   * (taskStateBefore). The agent forwards them to the dispatcher.
   */
  onStatus(listener: (taskId: string, status: TaskStatus) => void): void;
  /**
   * The latest status of every task the executor knows (running or finished but still
   * assigned), for the agent to resend in full after it reconnects to a manager.
   */
  currentStatuses(): ReadonlyMap<string, TaskStatus>;
  /**
   * Stop managing: no new work, pending reconciles settle. Running tasks are NOT stopped: they
   * outlive the daemon and the next executor adopts them (same PIDs, no duplicates).
   */
  close(): Promise<void>;
}
