import { z } from 'zod';
import { parseConfig } from '../../config/parse-config.js';
import { componentLogger, silentLogger, type Logger } from '../../log/logger.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { ReconcileLoop, type PassResult } from '../orchestrator/reconcile-loop.js';
import type { MemoryStore, WriteTx } from '../store/index.js';
import { parseAllocatorConfig, type AllocatorConfig } from './allocator-config.js';
import { planAllocation, type AllocationPlan } from './allocation-plan.js';
import type { PortCursors } from './published-ports.js';

export { needsAllocation } from './allocation-plan.js';

// The leader's allocation pass (swarmkit's allocator "voting" a task from NEW to PENDING).
// The decisions are pure (allocation-plan.ts, address-book.ts); this file is the runner: it
// reads the store, writes the plan back, and keeps the cursor hints between passes.

/** Where the rotating searches resume (hints only: what is in use always comes from the store). */
export interface AllocationCursors {
  /** Network ID -> the next address to try. */
  readonly addresses: Map<string, string>;
  /** Protocol -> the next automatic published port to try. */
  ports: PortCursors;
}

export const newAllocationCursors = (): AllocationCursors => ({ addresses: new Map(), ports: {} });

/**
 * One allocation pass inside a store transaction: services get their published ports and
 * VIPs, every node its load-balancer address on the ingress network, every NEW task meant to
 * run its network attachments (and its service's endpoint) and becomes PENDING, or stays NEW
 * with the reason in its status. `cursors` carries the rotating searches' positions from pass
 * to pass. Returns the plan it wrote.
 */
export function taskAllocationPass(
  tx: WriteTx, nowMs: number, cursors: AllocationCursors = newAllocationCursors(), config: AllocatorConfig = parseAllocatorConfig({}),
): AllocationPlan {
  const plan = planAllocation({
    networks: tx.list('network'), services: tx.list('service'), tasks: tx.list('task'), nodes: tx.list('node'), nowMs,
    cursors: cursors.addresses, portRange: { start: config.dynamicPortStart, end: config.dynamicPortEnd }, portCursors: cursors.ports,
  });
  for (const s of plan.services) tx.update('service', s);
  for (const n of plan.nodes) tx.update('node', n);
  for (const t of plan.tasks) tx.update('task', t);
  cursors.addresses.clear();
  for (const [id, next] of plan.cursors) cursors.addresses.set(id, next);
  cursors.ports = plan.portCursors;
  return plan;
}

export const taskAllocatorConfigSchema = z.object({
  // ms before a failed pass (lost quorum, say) is tried again: 1 s, as the scheduler.
  retryDelayMs: z.number().int().min(1).default(1_000),
});

export interface TaskAllocatorOptions {
  readonly store: MemoryStore;
  readonly clock?: Clock;
  readonly wallClock?: () => number;
  readonly logger?: Logger;
  readonly config?: z.input<typeof taskAllocatorConfigSchema>;
  /** The range of automatic published ports (the rest of it is network create's). */
  readonly allocator?: AllocatorConfig;
}

/**
 * Runs the allocation pass on the leader whenever tasks, services, networks or nodes change
 * (start/stop with leadership). It is the only writer of task addresses, service VIPs and
 * published ports, and node attachments, so two allocations never race; a new leader's first
 * pass rebuilds everything from the store.
 */
export class TaskAllocator {
  private readonly loop: ReconcileLoop;
  private readonly cursors = newAllocationCursors();
  private readonly allocatorConfig: AllocatorConfig;
  private readonly log: Logger;
  private lastConflicts = '[[],[]]';

  constructor(options: TaskAllocatorOptions) {
    const cfg = parseConfig('task-allocator', taskAllocatorConfigSchema, options.config);
    this.allocatorConfig = options.allocator ?? parseAllocatorConfig({});
    this.log = options.logger === undefined ? silentLogger() : componentLogger(options.logger, 'task-allocator');
    this.loop = new ReconcileLoop({
      name: 'task-allocator',
      store: options.store,
      clock: options.clock ?? systemClock,
      wallClock: options.wallClock ?? Date.now,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      kinds: ['task', 'service', 'network', 'node'],
      retryDelayMs: cfg.retryDelayMs,
      pass: (tx, nowMs) => this.pass(tx, nowMs),
    });
  }

  private pass(tx: WriteTx, nowMs: number): PassResult {
    const plan = taskAllocationPass(tx, nowMs, this.cursors, this.allocatorConfig);
    // Logged when they change, not at every pass.
    const conflicts = JSON.stringify([plan.conflicts, plan.portConflicts]);
    if (conflicts !== this.lastConflicts && (plan.conflicts.length > 0 || plan.portConflicts.length > 0)) {
      this.log.warn(
        { conflicts: plan.conflicts, portConflicts: plan.portConflicts },
        'the store shows addresses or published ports held twice (or addresses outside their network); each stays with its first holder',
      );
    }
    this.lastConflicts = conflicts;
    return {};
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

  /** Passes that completed (for tests and metrics). */
  get passes(): number {
    return this.loop.passes;
  }
}
