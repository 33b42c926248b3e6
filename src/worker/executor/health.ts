import type { HealthConfig } from '../../objects/index.js';

/** A task's health check with Docker's defaults filled in; undefined = no check. */
export interface HealthPolicy {
  /** The argv to exec inside the task. */
  readonly cmd: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

export interface HealthDefaults {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

/**
 * Reads TaskSpec.healthcheck as Docker does: test ["NONE"] or empty = no check; ["CMD", argv...]
 * runs argv; ["CMD-SHELL", line] runs `/bin/sh -c line`; 0 durations and retries take the
 * defaults. Anything else in test[0] is not a check (the CLI never sends it).
 */
export function healthPolicy(h: HealthConfig | undefined, defaults: HealthDefaults): HealthPolicy | undefined {
  if (h === undefined || h.test.length === 0) return undefined;
  const [kind, ...rest] = h.test;
  let cmd: string[];
  if (kind === 'CMD' && rest.length > 0) cmd = rest;
  else if (kind === 'CMD-SHELL' && rest.length > 0) cmd = ['/bin/sh', '-c', rest.join(' ')];
  else return undefined;
  return {
    cmd,
    intervalMs: h.intervalMs > 0 ? h.intervalMs : defaults.intervalMs,
    timeoutMs: h.timeoutMs > 0 ? h.timeoutMs : defaults.timeoutMs,
    retries: h.retries > 0 ? h.retries : defaults.retries,
    startPeriodMs: h.startPeriodMs > 0 ? h.startPeriodMs : defaults.startPeriodMs,
  };
}

export interface HealthState {
  readonly status: 'starting' | 'healthy' | 'unhealthy';
  readonly failingStreak: number;
}

export const INITIAL_HEALTH: HealthState = { status: 'starting', failingStreak: 0 };

/**
 * One probe's result folded into the health state, Docker's rules: a success makes the task
 * healthy and resets the streak; a failure within the start period counts only once the task
 * was healthy; otherwise it extends the streak, and `retries` failures in a row make it
 * unhealthy (for good: the executor stops it).
 */
export function nextHealth(state: HealthState, ok: boolean, msSinceStart: number, policy: HealthPolicy): HealthState {
  if (state.status === 'unhealthy') return state;
  if (ok) return { status: 'healthy', failingStreak: 0 };
  if (state.status === 'starting' && msSinceStart < policy.startPeriodMs) return state;
  const failingStreak = state.failingStreak + 1;
  return { status: failingStreak >= policy.retries ? 'unhealthy' : state.status, failingStreak };
}
