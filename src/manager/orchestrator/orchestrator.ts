import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';
import { componentLogger, silentLogger, type Logger } from '../../log/logger.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { MemoryStore, WriteTx } from '../store/index.js';
import { planOrchestration } from './plan-orchestration.js';
import { ReconcileLoop, type PassResult } from './reconcile-loop.js';

export const orchestratorConfigSchema = z.object({
  // ms before a pass that failed (lost quorum, say) is tried again: 1 s, a few Raft heartbeats,
  // so a cluster without quorum is not hammered and tasks wait little once it is back.
  retryDelayMs: z.number().int().min(1).default(1_000),
});
export type OrchestratorConfigInput = z.input<typeof orchestratorConfigSchema>;

/** Docker's task IDs: 128 random bits in base 36, 25 characters. */
export function randomTaskId(): string {
  return BigInt(`0x${randomBytes(16).toString('hex')}`).toString(36).padStart(25, '0');
}

/** One orchestration pass over the whole store, written into `tx`. */
export function orchestrationPass(tx: WriteTx, nowMs: number, newId: () => string, log: Logger = silentLogger()): PassResult {
  const book = planOrchestration(
    { services: tx.list('service'), tasks: tx.list('task'), nodes: tx.list('node'), clusters: tx.list('cluster') },
    nowMs,
    newId,
  );
  const changes = book.summary();
  for (const s of changes.services) {
    const before = tx.get('service', s.id)?.updateStatus;
    if (s.updateStatus !== undefined && s.updateStatus.state !== before?.state) {
      log.info({ service: s.spec.annotations.name, state: s.updateStatus.state, message: s.updateStatus.message }, 'service update status');
    }
  }
  if (changes.created.length + changes.updated.length + changes.deleted.length + changes.deletedServices.length > 0) {
    log.debug({ created: changes.created.length, updated: changes.updated.length, deleted: changes.deleted.length, servicesDeleted: changes.deletedServices.length }, 'orchestration pass');
  }
  book.writeTo(tx);
  return book.wakeAtMs === undefined ? {} : { wakeAtMs: book.wakeAtMs };
}

export interface OrchestratorOptions {
  readonly store: MemoryStore;
  /** Timers for restart delays, update delays and monitor periods. */
  readonly clock?: Clock;
  /** Unix ms; the same time base as the store's meta times and task status timestamps. */
  readonly wallClock?: () => number;
  readonly newTaskId?: () => string;
  readonly logger?: Logger;
  readonly config?: OrchestratorConfigInput;
}

/**
 * The orchestrators of swarmkit (replicated, global, restart supervisor, updater, task
 * reaper) as one leader-only runner: on every change of services, tasks, nodes or the cluster,
 * and when a restart delay, update delay or monitor period ends, it plans from the store alone
 * and writes the changes (batched, 200 per Raft entry). start()/stop() follow leadership.
 */
export class Orchestrator {
  private readonly loop: ReconcileLoop;

  constructor(options: OrchestratorOptions) {
    const cfg = parseConfig('orchestrator', orchestratorConfigSchema, options.config);
    const newId = options.newTaskId ?? randomTaskId;
    const log = options.logger === undefined ? silentLogger() : componentLogger(options.logger, 'orchestrator');
    this.loop = new ReconcileLoop({
      name: 'orchestrator',
      store: options.store,
      clock: options.clock ?? systemClock,
      wallClock: options.wallClock ?? Date.now,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      kinds: ['service', 'task', 'node', 'cluster'],
      retryDelayMs: cfg.retryDelayMs,
      pass: (tx, now) => orchestrationPass(tx, now, newId, log),
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
