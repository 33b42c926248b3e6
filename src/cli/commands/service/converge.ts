import { TsswarmError } from '../../../errors/index.js';
import type { Service, Task } from '../../../objects/index.js';
import type { ServiceApi } from './service-api.js';

/** ms between two looks at the tasks while waiting: quick enough to feel live, light on the leader. */
const POLL_MS = 250;

export interface Progress {
  /** Tasks running as the spec says, out of total. */
  running: number;
  total: number;
  /** One line per slot (replicated) or node (global): "2/3: running", with an error if any. */
  lines: string[];
  converged: boolean;
  /** Set when an update stopped: paused, or rolled back. */
  stopped?: string;
}

/** Whether a task runs the service's current spec (not one that an update replaces). */
function current(service: Service, task: Task): boolean {
  return task.specVersion >= service.meta.version || JSON.stringify(task.spec) === JSON.stringify(service.spec.task);
}

/**
 * How far a service is from what its spec asks (pure): Docker's "overall progress" view.
 * Converged = every wanted slot (or node) has a RUNNING task of the current spec, nothing
 * else meant to run is left, and no update is in progress.
 */
/**
 * What the command waits for: `update` fails on a paused or rolled-back update, `rollback` on a
 * paused rollback; `create` and `scale` start no update.
 */
export type WaitMode = 'create' | 'update' | 'rollback';

export function convergence(service: Service, tasks: readonly Task[], mode: WaitMode = 'create'): Progress {
  const live = tasks.filter((t) => t.desiredState === 'RUNNING');
  const global = service.spec.replicated === undefined || service.spec.replicated === null;
  const keys = global ? [...new Set(live.map((t) => t.nodeId))].sort() : Array.from({ length: service.spec.replicated!.replicas }, (_, i) => String(i + 1));
  const total = keys.length;
  let running = 0;
  const lines = keys.map((key, i) => {
    const mine = live
      .filter((t) => (global ? t.nodeId === key : String(t.slot) === key))
      .sort((a, b) => b.meta.createdAtMs - a.meta.createdAtMs);
    const task = mine[0];
    const ok = task !== undefined && task.status.state === 'RUNNING' && current(service, task);
    if (ok) running++;
    const state = task === undefined ? 'new' : task.status.state.toLowerCase();
    const err = task?.status.err ? `  ${task.status.err}` : '';
    return `${i + 1}/${total}: ${state}${err}`;
  });
  const extra = global ? 0 : live.filter((t) => t.slot > total && t.status.state === 'RUNNING').length;
  const us = service.updateStatus?.state;
  const updating = us === 'UPDATING' || us === 'ROLLBACK_STARTED';
  let stopped: string | undefined;
  if (us === 'ROLLBACK_PAUSED' || (us === 'PAUSED' && mode === 'update')) stopped = `paused: ${service.updateStatus!.message}`;
  else if (us === 'ROLLBACK_COMPLETED' && mode === 'update') stopped = `rolled back: ${service.updateStatus!.message}`;
  return { running, total, lines, converged: running === total && extra === 0 && !updating, ...(stopped !== undefined ? { stopped } : {}) };
}

/**
 * Shows a service converging, like the docker CLI without --detach: the progress whenever it
 * changes, then "verify: Service converged". A paused or rolled-back update ends it with
 * SERVICE_UPDATE_STOPPED, so scripts see a non-zero status as with Docker.
 */
export async function waitForConvergence(api: ServiceApi, ref: string, write: (text: string) => void, mode: WaitMode = 'create'): Promise<void> {
  let last = '';
  for (;;) {
    const { service } = await api.getService({ ref });
    const { tasks } = await api.listTasks({ services: [service.id], nodes: [], desiredState: '' });
    const p = convergence(service, tasks, mode);
    const text = [`overall progress: ${p.running} out of ${p.total} tasks`, ...p.lines].join('\n') + '\n';
    if (text !== last) {
      write(text);
      last = text;
    }
    if (p.stopped !== undefined) {
      throw new TsswarmError('SERVICE_UPDATE_STOPPED', { name: service.spec.annotations.name, reason: p.stopped });
    }
    if (p.converged) {
      write('verify: Service converged\n');
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
