import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';
import type { Logger } from '../../log/logger.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { ReconcileLoop, type PassResult } from '../orchestrator/reconcile-loop.js';
import type { MemoryStore, WriteTx } from '../store/index.js';
import { planSchedule } from './plan-schedule.js';

export const schedulerConfigSchema = z.object({
  // ms before a pass that failed (lost quorum, say) is tried again: 1 s, a few Raft heartbeats,
  // long enough not to spin on a cluster without quorum, short enough that tasks wait little.
  retryDelayMs: z.number().int().min(1).default(1_000),
});
export type SchedulerConfigInput = z.input<typeof schedulerConfigSchema>;

export interface SchedulerOptions {
  readonly store: MemoryStore;
  readonly clock?: Clock;
  readonly wallClock?: () => number;
  readonly logger?: Logger;
  readonly config?: SchedulerConfigInput;
}

/** Writes one schedule plan: PENDING -> ASSIGNED with the node, or the reason it waits. */
export function schedulePass(tx: WriteTx, nowMs: number): PassResult {
  const plan = planSchedule({ nodes: tx.list('node'), tasks: tx.list('task'), nowMs });
  for (const a of plan.assign) {
    const t = tx.get('task', a.taskId)!;
    tx.update('task', { ...t, nodeId: a.nodeId, status: { ...t.status, state: 'ASSIGNED', message: 'scheduler assigned task to node', err: '', timestampMs: nowMs } });
  }
  for (const u of plan.unplaced) {
    const t = tx.get('task', u.taskId)!;
    // Docker puts the reason in the status error (`service ps` shows it), the message says
    // what the task waits for. Written only when it changes: no write per pass for nothing.
    if (t.status.err !== u.message) tx.update('task', { ...t, status: { ...t.status, message: 'pending task scheduling', err: u.message, timestampMs: nowMs } });
  }
  return {};
}

/**
 * The scheduler (leader only): places PENDING tasks on nodes whenever tasks or nodes change.
 * Tasks that fit nowhere wait, with Docker's "no suitable node (...)" message, and are placed
 * as soon as a node change lets them.
 */
export class Scheduler {
  private readonly loop: ReconcileLoop;

  constructor(options: SchedulerOptions) {
    const cfg = parseConfig('scheduler', schedulerConfigSchema, options.config);
    this.loop = new ReconcileLoop({
      name: 'scheduler',
      store: options.store,
      clock: options.clock ?? systemClock,
      wallClock: options.wallClock ?? Date.now,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      kinds: ['node', 'task'],
      retryDelayMs: cfg.retryDelayMs,
      pass: schedulePass,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }
}
