import { TsswarmError, errorMessage } from '../../errors/index.js';
import { componentLogger, type Logger } from '../../log/logger.js';
import { taskStateBefore, type Task, type TaskStatus } from '../../objects/index.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { LogLine } from '../runtime/runtime.js';
import type { SandboxProvider } from '../sandbox/sandbox-provider.js';
import { parseExecutorConfig, type ExecutorConfig } from './executor-config.js';
import { TaskController, sandboxDetails, type ControllerDeps, type Runtimes } from './task-controller.js';
import type { TaskExecutor } from './task-executor.js';
import { TaskStore } from './task-store.js';

export interface TaskExecutorOptions {
  /** ExecutorConfig input (validated; CONFIG_INVALID names every bad field). */
  readonly config?: unknown;
  readonly nodeId: string;
  readonly nodeHostname: string;
  /** The daemon's data root; tasks live in DATA/tasks/ID. */
  readonly dataDir: string;
  readonly sandboxes: SandboxProvider;
  readonly runtimes: Runtimes;
  readonly logger: Logger;
  /** Timers (health checks) and monotonic time; the system clock by default. */
  readonly clock?: Clock;
  /** Unix ms stamped into statuses; Date.now by default. */
  readonly wallClock?: () => number;
}

/** The executor as the daemon sees it: the agent's contract plus `service logs`. */
export interface NodeTaskExecutor extends TaskExecutor {
  /** Resolves once the tasks of the previous daemon are adopted. */
  ready(): Promise<void>;
  /**
   * Stops and removes every task (the node leaves the swarm), waiting at most `timeoutMs`
   * for them to be gone; then close() as usual.
   */
  removeAll(timeoutMs: number): Promise<void>;
  /** The task's stdout/stderr lines; throws TASK_NOT_FOUND for a task this node does not know. */
  readLogs(taskId: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncIterable<LogLine>;
}

export function createTaskExecutor(opts: TaskExecutorOptions): NodeTaskExecutor {
  return new Executor(opts, parseExecutorConfig(opts.config));
}

/**
 * Converges the node on the assigned tasks, one TaskController per task. On creation it adopts
 * what the previous executor left in the task store (same processes, statuses reported
 * again); tasks that the first assignment no longer lists are then stopped and cleaned.
 */
class Executor implements NodeTaskExecutor {
  private readonly controllers = new Map<string, TaskController>();
  private readonly listeners: Array<(taskId: string, status: TaskStatus) => void> = [];
  private readonly deps: ControllerDeps;
  private readonly store: TaskStore;
  private readonly log: Logger;
  private readonly loaded: Promise<void>;
  private queue: Promise<void>;
  private closed = false;

  constructor(opts: TaskExecutorOptions, cfg: ExecutorConfig) {
    this.log = componentLogger(opts.logger, 'executor');
    this.store = new TaskStore(opts.dataDir);
    this.deps = {
      node: { id: opts.nodeId, hostname: opts.nodeHostname },
      cfg,
      store: this.store,
      sandboxes: opts.sandboxes,
      runtimes: opts.runtimes,
      clock: opts.clock ?? systemClock,
      wallClock: opts.wallClock ?? Date.now,
      log: this.log,
      emit: (id, status) => {
        for (const l of this.listeners) l(id, status);
      },
      forgotten: (id) => this.controllers.delete(id),
    };
    this.loaded = this.load();
    this.queue = this.loaded;
  }

  private async load(): Promise<void> {
    const { records, broken } = await this.store.loadAll();
    for (const id of broken) {
      this.log.warn({ taskId: id }, 'unreadable task record removed');
      await this.store.remove(id);
    }
    const holding = records.filter((r) => r.sandbox === true);
    this.deps.sandboxes.restore(
      holding.map((r) => r.task.id),
      new Map(holding.map((r) => [r.task.id, sandboxDetails(r.task)])),
    );
    for (const record of records) {
      // One record that cannot be adopted must not keep this node from running the others.
      try {
        const c = await TaskController.adopt(record, this.deps);
        this.controllers.set(record.task.id, c);
        this.log.info({ taskId: record.task.id, state: record.status.state }, 'task adopted');
      } catch (err) {
        this.log.error({ taskId: record.task.id, err: errorMessage(err) }, 'task could not be adopted');
      }
    }
    // Reported again, for an agent whose session opened before they were loaded; an adopted
    // task that ended meanwhile gets its new status once the managers assign it again.
    for (const record of records) this.deps.emit(record.task.id, record.status);
  }

  ready(): Promise<void> {
    return this.loaded;
  }

  setAssignments(tasks: readonly Task[]): void {
    const snapshot = [...tasks];
    this.queue = this.queue.then(
      () => this.apply(snapshot),
      () => this.apply(snapshot),
    );
  }

  private async apply(tasks: readonly Task[]): Promise<void> {
    if (this.closed) return;
    const assigned = new Map(tasks.map((t) => [t.id, t]));
    for (const [id, c] of this.controllers) if (!assigned.has(id)) c.assign(undefined);
    for (const task of tasks) {
      let c = this.controllers.get(task.id);
      if (c === undefined) {
        try {
          this.store.dir(task.id);
        } catch (e) {
          this.log.warn({ taskId: task.id, err: errorMessage(e) }, 'task ID refused');
          continue;
        }
        c = TaskController.fresh(task, this.deps);
        this.controllers.set(task.id, c);
      }
      c.assign(task);
    }
  }

  onStatus(listener: (taskId: string, status: TaskStatus) => void): void {
    this.listeners.push(listener);
  }

  /** Statuses this executor reported (or adopted); not the managers' ASSIGNED of a task not yet taken up. */
  currentStatuses(): ReadonlyMap<string, TaskStatus> {
    return new Map([...this.controllers].filter(([, c]) => !taskStateBefore(c.status.state, 'ACCEPTED')).map(([id, c]) => [id, c.status]));
  }

  async *readLogs(taskId: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncIterable<LogLine> {
    await this.loaded;
    const c = this.controllers.get(taskId);
    if (c === undefined) throw new TsswarmError('TASK_NOT_FOUND', { taskId });
    const ref = c.runtimeRef;
    const runtime = this.deps.runtimes[c.spec.runtime];
    if (ref === undefined || runtime === undefined) return;
    yield* runtime.logs(ref, opts);
  }

  async removeAll(timeoutMs: number): Promise<void> {
    this.setAssignments([]);
    await this.queue.catch(() => undefined);
    // Each controller forgets itself once its task is stopped and cleaned up.
    const deadline = this.deps.clock.now() + timeoutMs;
    while (this.controllers.size > 0 && this.deps.clock.now() < deadline) {
      await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, 50));
    }
    if (this.controllers.size > 0) this.log.warn({ left: [...this.controllers.keys()] }, 'tasks still stopping when the node left');
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
    await Promise.all([...this.controllers.values()].map((c) => c.close()));
    this.listeners.length = 0;
  }
}
