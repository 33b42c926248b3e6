import type { Task, TaskSpec } from '../../../src/objects/index.js';
import type { SandboxProvider } from '../../../src/worker/sandbox/sandbox-provider.js';

export function taskSpec(over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    runtime: 'PROCESS',
    image: 'sleep',
    command: [],
    args: ['300'],
    env: [],
    hostname: '',
    dir: '',
    user: '',
    stopGracePeriodMs: 0,
    networks: [],
    forceUpdate: 0,
    ...over,
  };
}

export function task(id: string, spec: Partial<TaskSpec> = {}, over: Partial<Task> = {}): Task {
  return {
    id,
    meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 },
    spec: taskSpec(spec),
    serviceId: 'svc1',
    slot: 1,
    nodeId: 'node1',
    serviceAnnotations: { name: 'web', labels: {} },
    status: { timestampMs: 0, state: 'ASSIGNED', message: '', err: '' },
    desiredState: 'RUNNING',
    networks: [],
    specVersion: 1,
    ...over,
  };
}

/** A sandbox provider that records calls and hands every task one real throwaway namespace. */
export class RecordingSandboxes implements SandboxProvider {
  readonly calls: string[] = [];
  readonly held = new Set<string>();

  constructor(private readonly netnsPath: string) {}

  restore(taskIds: Iterable<string>): void {
    for (const id of taskIds) {
      this.calls.push(`restore ${id}`);
      this.held.add(id);
    }
  }

  async ensure(taskId: string): Promise<string> {
    this.calls.push(`ensure ${taskId}`);
    this.held.add(taskId);
    return this.netnsPath;
  }

  async release(taskId: string): Promise<void> {
    this.calls.push(`release ${taskId}`);
    this.held.delete(taskId);
  }
}
