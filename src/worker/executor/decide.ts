import { taskStateBefore, type TaskState } from '../../objects/index.js';

/**
 * The executor's per-task decision, pure: what is known about one task in, the next action
 * and the next status out (swarmkit's exec.Do shape: one step per call, states only move
 * forward). The controller performs the action, records what it learned, and asks again until
 * the answer is 'none' with no new status.
 */

export type Desired = 'run' | 'stop' | 'unassigned';

export interface TaskFacts {
  readonly desired: Desired;
  /** The state last reported for the task. */
  readonly state: TaskState;
  /** The sandbox exists and the runtime's prepare() passed. */
  readonly prepared: boolean;
  /** Why prepare failed (the task is then REJECTED). */
  readonly prepareError?: string;
  /** Why start failed (the task is then FAILED). */
  readonly startError?: string;
  /** What the runtime says: never started (or no record of it), running, or ended. */
  readonly runtime: 'none' | 'running' | 'exited';
  /** When exited: the exit code, undefined when nobody recorded it. */
  readonly exitCode?: number;
  /** Why the executor stopped it, when it did. */
  readonly stopReason?: 'shutdown' | 'unhealthy';
  readonly unhealthy: boolean;
  readonly holdsSandbox: boolean;
}

export type Action = 'none' | 'prepare' | 'start' | 'stop' | 'release-sandbox' | 'forget';

export interface NextStatus {
  readonly state: TaskState;
  readonly message: string;
  readonly err: string;
}

export interface Decision {
  readonly action: Action;
  /** Reported before the action is performed. */
  readonly status?: NextStatus;
  readonly stopReason?: 'shutdown' | 'unhealthy';
}

export const UNHEALTHY_ERR = 'task: unhealthy';
export const LOST_ERR = 'task: its process is gone and no exit code was recorded';

export function exitErr(code: number): string {
  return `task: non-zero exit (${code})`;
}

const NONE: Decision = { action: 'none' };

function status(state: TaskState, message: string, err = ''): NextStatus {
  return { state, message, err };
}

export function isTerminal(state: TaskState): boolean {
  return !taskStateBefore(state, 'COMPLETE');
}

export function decide(f: TaskFacts): Decision {
  if (f.runtime === 'running') {
    if (f.desired !== 'run') return { action: 'stop', stopReason: 'shutdown' };
    if (f.unhealthy) return { action: 'stop', stopReason: 'unhealthy' };
    if (taskStateBefore(f.state, 'RUNNING')) return { action: 'none', status: status('RUNNING', 'started') };
    return NONE;
  }
  const terminal = isTerminal(f.state);
  if (f.runtime === 'exited' && !terminal) return { action: 'none', status: endStatus(f) };
  if (!terminal && f.desired !== 'run') return { action: 'none', status: status('SHUTDOWN', 'shutdown') };
  if (terminal) {
    if (f.desired === 'unassigned') return { action: 'forget' };
    if (f.holdsSandbox) return { action: 'release-sandbox' };
    return NONE;
  }
  // Wanted running, not started yet.
  if (f.startError !== undefined) return { action: 'none', status: status('FAILED', 'starting', f.startError) };
  if (f.prepareError !== undefined) return { action: 'none', status: status('REJECTED', 'rejected', f.prepareError) };
  if (taskStateBefore(f.state, 'ACCEPTED')) return { action: 'none', status: status('ACCEPTED', 'accepted') };
  switch (f.state) {
    case 'ACCEPTED':
      return { action: 'none', status: status('PREPARING', 'preparing') };
    case 'PREPARING':
      return f.prepared ? { action: 'none', status: status('READY', 'prepared') } : { action: 'prepare' };
    case 'READY':
      return { action: 'none', status: status('STARTING', 'starting') };
    case 'STARTING':
      return { action: 'start' };
    default:
      // RUNNING by the record, but nothing runs and nothing says how it ended.
      return { action: 'none', status: status('FAILED', 'started', LOST_ERR) };
  }
}

function endStatus(f: TaskFacts): NextStatus {
  if (f.stopReason === 'unhealthy') return status('FAILED', 'started', UNHEALTHY_ERR);
  if (f.stopReason === 'shutdown') return status('SHUTDOWN', 'shutdown');
  if (f.exitCode === undefined) return status('FAILED', 'started', LOST_ERR);
  if (f.exitCode === 0) return status('COMPLETE', 'finished');
  return status('FAILED', 'started', exitErr(f.exitCode));
}
