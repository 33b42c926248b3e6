import { TaskAllocator } from '../../../src/manager/allocator/task-allocator.js';
import { Orchestrator, ReconcileLoop } from '../../../src/manager/orchestrator/index.js';
import { Scheduler } from '../../../src/manager/scheduler/index.js';
import { LocalProposer, MemoryStore, type ReadTx, type WriteTx } from '../../../src/manager/store/index.js';
import { taskStateValues, type DeepPartial, type Node, type ServiceSpec, type Task } from '../../../src/objects/index.js';
import { until } from '../../support/wait.js';
import { VirtualClock } from './virtual-clock.js';

const TERMINAL = taskStateValues.COMPLETE;

/**
 * The agents and dispatcher of every READY node, played in one store transaction: ASSIGNED
 * tasks meant to run end in `outcome` (RUNNING by default), tasks told to stop stop. Nodes that
 * are not READY do nothing, as a dead node would.
 */
export function playAgents(tx: WriteTx, now: number, outcome: (t: Task) => 'RUNNING' | 'FAILED' | 'COMPLETE' = () => 'RUNNING'): void {
  for (const t of tx.list('task')) {
    if (t.nodeId === '') continue;
    const node = tx.get('node', t.nodeId);
    if (node === undefined || node.status?.state !== 'READY') continue;
    if (taskStateValues[t.status.state] >= TERMINAL) continue;
    if (taskStateValues[t.desiredState] > taskStateValues.RUNNING) {
      tx.update('task', { ...t, status: { ...t.status, state: 'SHUTDOWN', message: 'shutdown', timestampMs: now } });
    } else if (t.status.state === 'ASSIGNED') {
      const end = outcome(t);
      tx.update('task', { ...t, status: { ...t.status, state: end, message: end.toLowerCase(), err: end === 'FAILED' ? 'task: non-zero exit (1)' : '', timestampMs: now } });
    }
  }
}

/**
 * The leader's components on a one-member store, with test code playing the agents (ASSIGNED
 * tasks run, tasks told to stop stop, except on DOWN nodes) and the dispatcher (node states).
 * Time is virtual: restart delays and monitor periods pass only through advance().
 */
export class Cluster {
  readonly clock = new VirtualClock();
  readonly store: MemoryStore;
  orchestrator!: Orchestrator;
  scheduler!: Scheduler;
  allocator!: TaskAllocator;
  private readonly agents: ReconcileLoop;
  private idSeq = 0;
  /** Tasks for which this returns a state other than RUNNING end there when they start. */
  outcome: (t: Task) => 'RUNNING' | 'FAILED' | 'COMPLETE' = () => 'RUNNING';

  constructor(private readonly prefix: string) {
    this.store = new MemoryStore({ wallClock: () => this.clock.now() });
    this.store.attach(new LocalProposer(this.store));
    this.makeRunners();
    this.agents = new ReconcileLoop({
      name: 'test-agents', store: this.store, clock: this.clock, wallClock: () => this.clock.now(), kinds: ['task', 'node'], retryDelayMs: 10,
      pass: (tx, now) => {
        this.agentPass(tx, now);
        return {};
      },
    });
  }

  private makeRunners(): void {
    const common = { store: this.store, clock: this.clock, wallClock: () => this.clock.now() };
    this.orchestrator = new Orchestrator({ ...common, newTaskId: () => `${this.prefix}t${String(++this.idSeq).padStart(5, '0')}` });
    this.scheduler = new Scheduler(common);
    this.allocator = new TaskAllocator(common);
  }

  start(): void {
    this.orchestrator.start();
    this.allocator.start();
    this.scheduler.start();
    this.agents.start();
  }

  /** A leader change: the old runners stop, fresh ones (no memory) start on the same store. */
  async restartRunners(): Promise<void> {
    await Promise.all([this.orchestrator.stop(), this.scheduler.stop(), this.allocator.stop()]);
    this.makeRunners();
    this.orchestrator.start();
    this.allocator.start();
    this.scheduler.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.orchestrator.stop(), this.scheduler.stop(), this.allocator.stop(), this.agents.stop()]);
    this.store.close();
  }

  private agentPass(tx: WriteTx, now: number): void {
    playAgents(tx, now, this.outcome);
  }

  async addNode(id: string, o: { labels?: Record<string, string> } = {}): Promise<void> {
    await this.store.update((tx) => tx.create('node', {
      id, role: 'WORKER',
      spec: { annotations: { name: '', labels: o.labels ?? {} }, availability: 'ACTIVE', desiredRole: 'WORKER' },
      description: { hostname: id, addresses: ['127.0.0.1'], engineVersion: 'test', engineLabels: {} },
      status: { state: 'READY', message: '', addr: '127.0.0.1' },
    }));
  }

  async setNode(id: string, change: (n: Node) => DeepPartial<Node>): Promise<void> {
    await this.store.update((tx) => tx.update('node', change(tx.get('node', id)!)));
  }

  async createService(id: string, spec: DeepPartial<ServiceSpec>): Promise<void> {
    await this.store.update((tx) => tx.create('service', { id, spec, pendingDelete: false }));
  }

  async updateService(id: string, change: (s: import('../../../src/objects/index.js').Service) => DeepPartial<import('../../../src/objects/index.js').Service>): Promise<void> {
    await this.store.update((tx) => tx.update('service', change(tx.get('service', id)!)));
  }

  async setTaskStatus(id: string, state: Task['status']['state']): Promise<void> {
    await this.store.update((tx) => {
      const t = tx.get('task', id)!;
      tx.update('task', { ...t, status: { ...t.status, state, timestampMs: this.clock.now() } });
    });
  }

  view<T>(fn: (tx: ReadTx) => T): T {
    return this.store.view(fn);
  }

  tasks(serviceId: string): Task[] {
    return this.view((tx) => tx.tasksByService(serviceId));
  }

  running(serviceId: string): Task[] {
    return this.tasks(serviceId).filter((t) => t.desiredState === 'RUNNING' && t.status.state === 'RUNNING');
  }

  perNode(serviceId: string): Record<string, number> {
    const c: Record<string, number> = {};
    for (const t of this.running(serviceId)) c[t.nodeId] = (c[t.nodeId] ?? 0) + 1;
    return c;
  }

  async until(cond: () => boolean, what: string): Promise<void> {
    await until(cond, what, 20_000);
  }

  /** Moves virtual time in steps of `stepMs` until `cond` holds (a real-time guard against hangs). */
  async advanceUntil(cond: () => boolean, what: string, stepMs = 500): Promise<void> {
    const end = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      this.clock.advance(stepMs);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Lets virtual time pass in small steps, so each timer's consequences settle before the next. */
  async advance(ms: number, stepMs = 500): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - done));
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
