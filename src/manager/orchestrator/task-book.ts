import type { Service, Task } from '../../objects/index.js';
import type { WriteTx } from '../store/index.js';

/**
 * The working copy a planning pass edits: every task and service as the pass wants them. The
 * planners only change this book; the runner writes its difference to the store in one go.
 */
export class TaskBook {
  private readonly tasks = new Map<string, Task>();
  private readonly originals = new Map<string, Task>();
  private readonly created = new Set<string>();
  private readonly deleted = new Set<string>();
  private readonly services = new Map<string, Service>();
  private readonly originalServices = new Map<string, Service>();
  private readonly deletedServices = new Set<string>();
  /** The earliest wall ms at which a pass should run again. */
  wakeAtMs: number | undefined;

  /** Task IDs by service ID (created ones included). */
  private readonly byService = new Map<string, Set<string>>();

  constructor(tasks: readonly Task[], services: readonly Service[]) {
    for (const t of tasks) {
      this.tasks.set(t.id, t);
      this.originals.set(t.id, t);
      this.index(t);
    }
    for (const s of services) {
      this.services.set(s.id, s);
      this.originalServices.set(s.id, s);
    }
  }

  task(id: string): Task | undefined {
    return this.deleted.has(id) ? undefined : this.tasks.get(id);
  }

  private index(t: Task): void {
    const ids = this.byService.get(t.serviceId);
    if (ids === undefined) this.byService.set(t.serviceId, new Set([t.id]));
    else ids.add(t.id);
  }

  /** Current tasks of one service (created ones included, deleted ones not). */
  tasksOf(serviceId: string): Task[] {
    const out: Task[] = [];
    for (const id of this.byService.get(serviceId) ?? []) {
      const t = this.task(id);
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  /** Current tasks (created ones included, deleted ones not). */
  allTasks(): Task[] {
    return [...this.tasks.values()].filter((t) => !this.deleted.has(t.id));
  }

  put(t: Task): void {
    this.tasks.set(t.id, t);
  }

  create(t: Task): void {
    this.tasks.set(t.id, t);
    this.created.add(t.id);
    this.index(t);
  }

  delete(id: string): void {
    if (this.created.has(id)) {
      this.created.delete(id);
      this.byService.get(this.tasks.get(id)!.serviceId)?.delete(id);
      this.tasks.delete(id);
      return;
    }
    this.deleted.add(id);
  }

  service(id: string): Service | undefined {
    return this.deletedServices.has(id) ? undefined : this.services.get(id);
  }

  allServices(): Service[] {
    return [...this.services.values()].filter((s) => !this.deletedServices.has(s.id));
  }

  putService(s: Service): void {
    this.services.set(s.id, s);
  }

  deleteService(id: string): void {
    this.deletedServices.add(id);
  }

  wake(atMs: number): void {
    if (this.wakeAtMs === undefined || atMs < this.wakeAtMs) this.wakeAtMs = atMs;
  }

  /** What changed, for tests and logs. */
  summary(): { created: Task[]; updated: Task[]; deleted: string[]; services: Service[]; deletedServices: string[] } {
    const updated = [...this.tasks.values()].filter((t) => !this.created.has(t.id) && !this.deleted.has(t.id) && this.originals.get(t.id) !== t);
    return {
      created: [...this.created].map((id) => this.tasks.get(id)!),
      updated,
      deleted: [...this.deleted],
      services: [...this.services.values()].filter((s) => !this.deletedServices.has(s.id) && this.originalServices.get(s.id) !== s),
      deletedServices: [...this.deletedServices],
    };
  }

  /** Writes the difference into a store transaction (service changes first, then tasks). */
  writeTo(tx: WriteTx): void {
    const s = this.summary();
    for (const svc of s.services) tx.update('service', svc);
    for (const t of s.updated) tx.update('task', t);
    for (const t of s.created) tx.create('task', t);
    for (const id of s.deleted) tx.delete('task', id);
    for (const id of s.deletedServices) tx.delete('service', id);
  }
}
