import { join } from 'node:path';
import { TsswarmError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import type { DataplaneConfig, DesiredState, SandboxSpec } from '../../dataplane/model.js';
import { sandboxNs, validId } from '../../dataplane/naming.js';
import type { ReconcileReport } from '../../dataplane/reconciler.js';
import type { EnsureOptions, SandboxProvider } from './sandbox-provider.js';

/** The part of src/dataplane this adapter uses (its public API: config + reconciler). */
export interface DataplaneHandle {
  readonly config: Pick<DataplaneConfig, 'runDir'>;
  readonly reconciler: { reconcile(desired: DesiredState): Promise<ReconcileReport> };
}

/**
 * The node's desired sandboxes, one per task: no overlay endpoints yet, and `gateway: true`,
 * so the task reaches outside through docker_gwbridge as a Docker container does. `compose`
 * turns them into the node's whole desired dataplane state (the daemon adds its networks and
 * remote endpoints there); by default sandboxes are all there is.
 */
export function taskSandboxSpec(taskId: string, netnsFrom?: string): SandboxSpec {
  return { id: taskId, endpoints: [], gateway: true, ...(netnsFrom !== undefined ? { netnsFrom } : {}) };
}

/**
 * Keeps the node's desired sandboxes and reconciles them through the dataplane, one
 * reconcile at a time (the reconciler is not reentrant). Never touches the kernel itself.
 */
export class DataplaneSandboxes implements SandboxProvider {
  /** Task ID -> the namespace it adopted (undefined: its own). Adoption matters only until the
   * sandbox exists: a restored task's sandbox file is already there and is kept as it is. */
  private readonly held = new Map<string, string | undefined>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    private readonly dataplane: DataplaneHandle,
    opts: { logger?: Logger; compose?: (sandboxes: readonly SandboxSpec[]) => DesiredState } = {},
  ) {
    this.log = opts.logger ?? silentLogger();
    if (opts.compose !== undefined) this.compose = opts.compose;
  }

  private readonly compose = (sandboxes: readonly SandboxSpec[]): DesiredState => ({ networks: [], sandboxes, remotes: [] });

  restore(taskIds: Iterable<string>): void {
    for (const id of taskIds) if (validId(id) && !this.held.has(id)) this.held.set(id, undefined);
  }

  /** The sandboxes this node wants now, for the daemon's own reconciles. */
  desiredSandboxes(): SandboxSpec[] {
    return [...this.held.keys()].sort().map((id) => taskSandboxSpec(id, this.held.get(id)));
  }

  netnsPath(taskId: string): string {
    return join(this.dataplane.config.runDir, 'netns', sandboxNs(taskId));
  }

  ensure(taskId: string, opts: EnsureOptions = {}): Promise<string> {
    if (!validId(taskId)) return Promise.reject(new TsswarmError('TASK_SANDBOX_FAILED', { taskId, reason: 'the task ID cannot name a namespace' }));
    return this.serialize(async () => {
      this.held.set(taskId, opts.netnsFrom ?? this.held.get(taskId));
      const report = await this.dataplane.reconciler.reconcile(this.compose(this.desiredSandboxes()));
      if (!report.reached.sandboxes.includes(taskId)) {
        const reason = report.errors.filter((e) => e.item === `sandbox:${taskId}`).map((e) => `${e.op ?? ''} ${e.error}`.trim()).join('; ');
        throw new TsswarmError('TASK_SANDBOX_FAILED', { taskId, reason: reason !== '' ? reason : 'the dataplane did not reach it' });
      }
      return this.netnsPath(taskId);
    });
  }

  release(taskId: string): Promise<void> {
    return this.serialize(async () => {
      if (!this.held.delete(taskId)) return;
      const report = await this.dataplane.reconciler.reconcile(this.compose(this.desiredSandboxes()));
      const errs = report.errors.filter((e) => e.item === `sandbox:${taskId}`);
      // The next reconcile retries the removal; the task is gone either way.
      if (errs.length > 0) this.log.warn({ taskId, errors: errs }, 'sandbox not fully removed');
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
