import { planOrchestration } from '../../../src/manager/orchestrator/index.js';
import type { Cluster, Node, Service, Task, TaskState } from '../../../src/objects/index.js';
import { idSource } from './fixtures.js';

/**
 * The store reduced to arrays, for the pure planner's tests: step() plans and applies the
 * result as the store would (created tasks get the time and a version, deletes remove).
 */
export class PlanWorld {
  services: Service[] = [];
  tasks: Task[] = [];
  nodes: Node[] = [];
  clusters: Cluster[] = [];
  nowMs = 1_000_000;
  version = 100;
  wakeAtMs: number | undefined;
  private readonly newId = idSource('task');

  step(): { created: number; updated: number; deleted: number } {
    const book = planOrchestration({ services: this.services, tasks: this.tasks, nodes: this.nodes, clusters: this.clusters }, this.nowMs, this.newId);
    const s = book.summary();
    const v = ++this.version;
    const updated = new Map(s.updated.map((t) => [t.id, { ...t, meta: { ...t.meta, version: v, updatedAtMs: this.nowMs } }]));
    this.tasks = this.tasks.filter((t) => !s.deleted.includes(t.id)).map((t) => updated.get(t.id) ?? t);
    for (const t of s.created) this.tasks.push({ ...t, meta: { version: v, createdAtMs: this.nowMs, updatedAtMs: this.nowMs } });
    const svcUpdated = new Map(s.services.map((x) => [x.id, { ...x, meta: { ...x.meta, version: v } }]));
    this.services = this.services.filter((x) => !s.deletedServices.includes(x.id)).map((x) => svcUpdated.get(x.id) ?? x);
    this.wakeAtMs = book.wakeAtMs;
    return { created: s.created.length, updated: s.updated.length, deleted: s.deleted.length };
  }

  /** Plans until nothing changes (bounded). */
  settle(): void {
    for (let i = 0; i < 20; i++) {
      const r = this.step();
      if (r.created + r.updated + r.deleted === 0) return;
    }
    throw new Error('plan did not settle');
  }

  /** Plays the scheduler and agents: assigns round-robin and moves tasks to `state`. */
  run(state: TaskState = 'RUNNING', filter: (t: Task) => boolean = () => true): void {
    const ready = this.nodes.filter((n) => n.status?.state === 'READY' && n.spec.availability === 'ACTIVE');
    let i = 0;
    this.tasks = this.tasks.map((t) => {
      if (!filter(t) || t.status.state === state || t.desiredState !== 'RUNNING' || ['COMPLETE', 'FAILED', 'SHUTDOWN', 'REJECTED'].includes(t.status.state)) return t;
      const nodeId = t.nodeId !== '' ? t.nodeId : (ready[i++ % Math.max(1, ready.length)]?.id ?? '');
      return { ...t, nodeId, status: { ...t.status, state, timestampMs: this.nowMs } };
    });
  }

  /** Plays the agents stopping what they were told to stop. */
  stopShutdown(): void {
    this.tasks = this.tasks.map((t) =>
      t.desiredState !== 'RUNNING' && !['COMPLETE', 'FAILED', 'SHUTDOWN', 'REJECTED'].includes(t.status.state)
        ? { ...t, status: { ...t.status, state: t.nodeId === '' ? t.status.state : 'SHUTDOWN', timestampMs: this.nowMs } }
        : t,
    );
  }

  setTask(id: string, change: Partial<Task['status']>): void {
    this.tasks = this.tasks.map((t) => (t.id === id ? { ...t, status: { ...t.status, ...change, timestampMs: this.nowMs } } : t));
  }

  live(serviceId?: string): Task[] {
    return this.tasks.filter((t) => t.desiredState === 'RUNNING' && (serviceId === undefined || t.serviceId === serviceId));
  }
}
