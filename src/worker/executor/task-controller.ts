import { TsswarmError, errorMessage } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { taskStateBefore, type Task, type TaskStatus } from '../../objects/index.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Observed, Runtime, RunSpec } from '../runtime/runtime.js';
import type { SandboxDetails, SandboxProvider } from '../sandbox/sandbox-provider.js';
import { decide, type Decision, type Desired, type NextStatus, type TaskFacts } from './decide.js';
import type { ExecutorConfig } from './executor-config.js';
import { INITIAL_HEALTH, healthPolicy, nextHealth, type HealthPolicy, type HealthState } from './health.js';
import { buildRunSpec } from './run-spec.js';
import { taskName } from './templates.js';
import type { TaskRecord, TaskStore } from './task-store.js';

export type Runtimes = Partial<Record<Task['spec']['runtime'], Runtime>>;

export interface ControllerDeps {
  readonly node: { readonly id: string; readonly hostname: string };
  readonly cfg: ExecutorConfig;
  readonly store: TaskStore;
  readonly sandboxes: SandboxProvider;
  readonly runtimes: Runtimes;
  readonly clock: Clock;
  readonly wallClock: () => number;
  readonly log: Logger;
  readonly emit: (taskId: string, status: TaskStatus) => void;
  readonly forgotten: (taskId: string) => void;
}

interface Live {
  runtime: 'none' | 'running' | 'exited';
  exitCode?: number;
  pid: number;
  containerId: string;
  startedAtMs: number;
}

/** A task's overlay attachments and who its endpoints belong to, as its sandbox needs them. */
export function sandboxDetails(task: Task): SandboxDetails {
  const endpoint = task.endpoint;
  const vips = (endpoint?.virtualIps ?? []).filter((v) => v.addr !== '').map((v) => ({ network: v.networkId, ip: v.addr.split('/')[0]! }));
  const ports = (endpoint?.ports ?? [])
    .filter((p) => p.publishMode === 'INGRESS' && p.publishedPort > 0)
    .map((p) => ({ protocol: p.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const), published: p.publishedPort, target: p.targetPort }));
  return {
    attachments: task.networks ?? [],
    owner: {
      taskName: taskName(task),
      serviceId: task.serviceId,
      serviceName: task.serviceAnnotations?.name ?? task.serviceId,
      ...(vips.length > 0 ? { vips } : {}),
      ...(ports.length > 0 ? { ports } : {}),
    },
  };
}

/** How long to wait before watching a task again after the runtime failed to answer. */
const REWATCH_MS = 1000;

/**
 * Performs decide()'s answers for one task, one at a time: persists before it acts on what
 * must survive a crash (the runtime reference right after start), watches the running task
 * (exit, health) and asks decide() again whenever something changed.
 */
export class TaskController {
  private desired: Desired = 'run';
  private live: Live = { runtime: 'none', pid: 0, containerId: '', startedAtMs: 0 };
  private prepareError: string | undefined;
  private startError: string | undefined;
  private health: HealthState = INITIAL_HEALTH;
  private healthTimer: TimerHandle | undefined;
  private healthSince = 0;
  private watch: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();
  private busy = false;
  private again = false;
  private closed = false;
  private gone = false;

  private constructor(
    private record: TaskRecord,
    private readonly deps: ControllerDeps,
  ) {}

  /** A task this executor has not seen: it starts from the status the managers gave it. */
  static fresh(task: Task, deps: ControllerDeps): TaskController {
    return new TaskController({ task, status: task.status, prepared: false }, deps);
  }

  /** A task from the local store after a restart: finds its process or container again. */
  static async adopt(record: TaskRecord, deps: ControllerDeps): Promise<TaskController> {
    const c = new TaskController(record, deps);
    c.desired = 'run';
    if (record.ref !== undefined) {
      const runtime = deps.runtimes[record.task.spec.runtime];
      if (runtime !== undefined) {
        try {
          c.observe(await runtime.inspect(record.ref));
        } catch (e) {
          // e.g. the engine is not up yet: not a reason to call the task dead; the watch retries.
          deps.log.warn({ taskId: record.task.id, err: errorMessage(e) }, 'cannot inspect an adopted task yet');
          c.live = { ...c.live, runtime: 'running' };
        }
        if (c.live.runtime === 'running') c.startWatching();
      }
    } else if (record.status.state === 'STARTING') {
      // Crashed between starting and recording: never start a second copy, end the first.
      c.startError = 'task: the daemon restarted while the task was starting';
      await c.removeUnrecorded();
    }
    return c;
  }

  get taskId(): string {
    return this.record.task.id;
  }

  get status(): TaskStatus {
    return this.record.status;
  }

  get runtimeRef(): TaskRecord['ref'] {
    return this.record.ref;
  }

  get spec(): Task['spec'] {
    return this.record.task.spec;
  }

  /** The managers' latest word on the task; undefined = no longer assigned. */
  assign(task: Task | undefined): void {
    if (task === undefined) this.desired = 'unassigned';
    else {
      this.desired = taskStateBefore(task.desiredState, 'SHUTDOWN') ? 'run' : 'stop';
      // The spec of a task never changes (a new spec makes new tasks); keep the latest metadata.
      this.record = { ...this.record, task: { ...task, status: this.record.status } };
    }
    this.kick();
  }

  kick(): void {
    if (this.closed || this.gone) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.loop = this.run().finally(() => {
      this.busy = false;
    });
  }

  /** Stops watching; the task itself keeps running for the next executor. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopHealth();
    this.watch?.abort();
    await this.loop.catch(() => undefined);
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.closed && !this.gone && (await this.step())) {
          // each step moves the task forward by one status or one action
        }
      } catch (e) {
        this.deps.log.error({ taskId: this.taskId, err: errorMessage(e) }, 'task step failed');
      }
    } while (this.again && !this.closed && !this.gone);
  }

  facts(): TaskFacts {
    return {
      desired: this.desired,
      state: this.record.status.state,
      prepared: this.record.prepared,
      ...(this.prepareError !== undefined ? { prepareError: this.prepareError } : {}),
      ...(this.startError !== undefined ? { startError: this.startError } : {}),
      runtime: this.live.runtime,
      ...(this.live.exitCode !== undefined ? { exitCode: this.live.exitCode } : {}),
      ...(this.record.stopReason !== undefined ? { stopReason: this.record.stopReason } : {}),
      unhealthy: this.health.status === 'unhealthy',
      holdsSandbox: this.record.sandbox === true,
    };
  }

  /** One decision performed; false when there was nothing to do. */
  private async step(): Promise<boolean> {
    const d: Decision = decide(this.facts());
    let moved = false;
    if (d.status !== undefined) moved = await this.setStatus(d.status);
    switch (d.action) {
      case 'none':
        return moved;
      case 'prepare':
        await this.prepare();
        return true;
      case 'start':
        await this.start();
        return true;
      case 'stop':
        await this.stop(d.stopReason ?? 'shutdown');
        return true;
      case 'release-sandbox':
        await this.deps.sandboxes.release(this.taskId);
        await this.save({ ...this.record, sandbox: false });
        return true;
      case 'forget':
        await this.forget();
        return false;
    }
  }

  private async setStatus(next: NextStatus): Promise<boolean> {
    if (!taskStateBefore(this.record.status.state, next.state)) return false;
    const status: TaskStatus = {
      timestampMs: this.deps.wallClock(),
      state: next.state,
      message: next.message,
      err: next.err,
      ...(this.live.runtime !== 'none'
        ? {
            container: {
              containerId: this.live.containerId,
              pid: this.live.pid,
              exitCode: this.live.runtime === 'exited' ? (this.live.exitCode ?? -1) : 0,
              startedAtMs: this.live.startedAtMs,
            },
          }
        : {}),
    };
    await this.save({ ...this.record, status });
    this.deps.log.info({ taskId: this.taskId, state: status.state, err: status.err || undefined }, 'task status');
    this.deps.emit(this.taskId, status);
    return true;
  }

  private runtime(): Runtime {
    const r = this.deps.runtimes[this.spec.runtime];
    if (r === undefined) {
      throw new TsswarmError('TASK_RUNTIME_UNAVAILABLE', { runtime: this.spec.runtime.toLowerCase(), reason: 'this node has no such runtime configured', socket: '-' });
    }
    return r;
  }

  private async runSpec(): Promise<RunSpec> {
    // Recorded before asking: a sandbox half made by a failed ensure is still released.
    if (this.record.sandbox !== true) await this.save({ ...this.record, sandbox: true });
    // A docker task's sandbox is its container's own namespace, adopted once it runs (start()).
    const netnsPath = this.spec.runtime === 'DOCKER' ? (this.record.netnsPath ?? '') : await this.deps.sandboxes.ensure(this.taskId, sandboxDetails(this.record.task));
    if (this.record.netnsPath !== netnsPath) await this.save({ ...this.record, netnsPath });
    return buildRunSpec(this.record.task, this.deps.node, { netnsPath, taskDir: this.deps.store.dir(this.taskId) });
  }

  private async prepare(): Promise<void> {
    try {
      const runtime = this.runtime();
      // Templates first: a bad spec is rejected before any sandbox is made.
      buildRunSpec(this.record.task, this.deps.node, { netnsPath: '', taskDir: '' });
      await runtime.prepare(await this.runSpec());
      await this.save({ ...this.record, prepared: true });
    } catch (e) {
      this.prepareError = errorMessage(e);
    }
  }

  private async start(): Promise<void> {
    try {
      const runtime = this.runtime();
      const spec = await this.runSpec();
      const ref = await runtime.start(spec);
      // Recorded before anything else: a crash from here on adopts this process, never starts another.
      await this.save({ ...this.record, ref });
      const seen = await runtime.inspect(ref);
      if (this.spec.runtime === 'DOCKER' && seen.state === 'running') {
        const netnsPath = await this.deps.sandboxes.ensure(this.taskId, { netnsFrom: `/proc/${seen.pid}/ns/net`, ...sandboxDetails(this.record.task) });
        await this.save({ ...this.record, netnsPath });
      }
      this.observe(seen);
      if (this.live.runtime === 'running') this.startWatching();
    } catch (e) {
      this.startError = errorMessage(e);
    }
  }

  private async stop(reason: 'shutdown' | 'unhealthy'): Promise<void> {
    const ref = this.record.ref;
    if (ref === undefined) return;
    this.stopHealth();
    await this.save({ ...this.record, stopReason: reason });
    const grace = this.spec.stopGracePeriodMs > 0 ? this.spec.stopGracePeriodMs : this.deps.cfg.defaultStopGracePeriodMs;
    const runtime = this.runtime();
    await runtime.stop(ref, grace);
    this.observe(await runtime.inspect(ref));
  }

  private async forget(): Promise<void> {
    this.stopHealth();
    this.watch?.abort();
    const ref = this.record.ref;
    try {
      if (ref !== undefined) await this.runtime().remove(ref);
      else if (!taskStateBefore(this.record.status.state, 'STARTING')) await this.removeUnrecorded();
    } catch (e) {
      this.deps.log.warn({ taskId: this.taskId, err: errorMessage(e) }, 'runtime resources not removed');
    }
    if (this.record.sandbox === true) await this.deps.sandboxes.release(this.taskId);
    await this.deps.store.remove(this.taskId);
    this.gone = true;
    this.deps.forgotten(this.taskId);
  }

  private async removeUnrecorded(): Promise<void> {
    try {
      await this.deps.runtimes[this.spec.runtime]?.removeUnrecorded(this.taskId, this.deps.store.dir(this.taskId));
    } catch (e) {
      this.deps.log.warn({ taskId: this.taskId, err: errorMessage(e) }, 'leftovers of an unrecorded start not removed');
    }
  }

  private observe(o: Observed): void {
    this.live = {
      runtime: o.state,
      ...(o.state === 'exited' && o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
      pid: o.pid !== 0 ? o.pid : this.live.pid,
      containerId: o.containerId,
      startedAtMs: o.startedAtMs,
    };
  }

  private startWatching(): void {
    const ref = this.record.ref;
    if (ref === undefined || this.closed) return;
    const runtime = this.deps.runtimes[this.spec.runtime];
    if (runtime === undefined) return;
    this.watch?.abort();
    const watch = new AbortController();
    this.watch = watch;
    runtime.wait(ref, watch.signal).then(
      (o) => {
        if (watch.signal.aborted) return;
        this.observe(o);
        if (o.state === 'exited') {
          this.stopHealth();
          this.kick();
        } else this.startWatching();
      },
      (e: unknown) => {
        if (watch.signal.aborted) return;
        this.deps.log.warn({ taskId: this.taskId, err: errorMessage(e) }, 'watching the task failed; retrying');
        this.deps.clock.setTimeout(() => this.startWatching(), REWATCH_MS);
      },
    );
    this.startHealth();
  }

  private startHealth(): void {
    const policy = healthPolicy(this.spec.healthcheck, {
      intervalMs: this.deps.cfg.healthIntervalMs,
      timeoutMs: this.deps.cfg.healthTimeoutMs,
      retries: this.deps.cfg.healthRetries,
      startPeriodMs: this.deps.cfg.healthStartPeriodMs,
    });
    if (policy === undefined || this.healthTimer !== undefined) return;
    this.health = INITIAL_HEALTH;
    this.healthSince = this.deps.clock.now();
    this.scheduleProbe(policy);
  }

  private scheduleProbe(policy: HealthPolicy): void {
    this.healthTimer = this.deps.clock.setTimeout(() => void this.probe(policy), policy.intervalMs);
  }

  private async probe(policy: HealthPolicy): Promise<void> {
    const ref = this.record.ref;
    if (ref === undefined || this.closed || this.live.runtime !== 'running') return;
    let ok = false;
    try {
      const spec = buildRunSpec(this.record.task, this.deps.node, { netnsPath: this.record.netnsPath ?? '', taskDir: this.deps.store.dir(this.taskId) });
      const r = await this.runtime().exec(ref, spec, policy.cmd, policy.timeoutMs);
      ok = r.exitCode === 0 && !r.timedOut;
      if (!ok) this.deps.log.info({ taskId: this.taskId, exitCode: r.exitCode, timedOut: r.timedOut, output: r.output }, 'health check failed');
    } catch (e) {
      this.deps.log.info({ taskId: this.taskId, err: errorMessage(e) }, 'health check could not run');
    }
    if (this.healthTimer === undefined) return; // stopped meanwhile
    this.health = nextHealth(this.health, ok, this.deps.clock.now() - this.healthSince, policy);
    if (this.health.status === 'unhealthy') {
      this.healthTimer = undefined;
      this.kick();
    } else this.scheduleProbe(policy);
  }

  private stopHealth(): void {
    if (this.healthTimer !== undefined) this.deps.clock.clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
  }

  private async save(record: TaskRecord): Promise<void> {
    this.record = record;
    await this.deps.store.save(record);
  }
}
