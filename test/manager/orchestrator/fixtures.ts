import type { Node, NodeAvailability, NodeState, Service, ServiceSpec, Task, TaskState } from '../../../src/objects/index.js';
import { newTask } from '../../../src/manager/orchestrator/index.js';

/** Full objects as the store hands them out, for the pure planners' tests. */
export function makeNode(id: string, o: { hostname?: string; state?: NodeState; availability?: NodeAvailability; labels?: Record<string, string>; role?: 'WORKER' | 'MANAGER'; addr?: string; engineLabels?: Record<string, string> } = {}): Node {
  return {
    id,
    meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 },
    spec: { annotations: { name: '', labels: o.labels ?? {} }, desiredRole: o.role ?? 'WORKER', availability: o.availability ?? 'ACTIVE' },
    description: { hostname: o.hostname ?? `host-${id}`, addresses: [], engineVersion: '', engineLabels: o.engineLabels ?? {}, platform: { os: 'linux', architecture: 'x86_64' } },
    status: { state: o.state ?? 'READY', message: '', addr: o.addr ?? '10.0.0.1' },
    role: o.role ?? 'WORKER',
    attachments: [],
  };
}

export function makeSpec(name: string, o: Partial<ServiceSpec['task']> & { replicas?: number; global?: boolean; update?: ServiceSpec['update'] } = {}): ServiceSpec {
  const { replicas, global, update, ...task } = o;
  const spec: ServiceSpec = {
    annotations: { name, labels: {} },
    task: {
      runtime: 'PROCESS', image: 'sleep', command: [], args: ['1000'], env: [], hostname: '', dir: '', user: '',
      restart: { condition: 'ANY', delayMs: 5_000, maxAttempts: 0, windowMs: 0 },
      placement: { constraints: [], preferences: [], maxReplicas: 0, platforms: [] },
      stopGracePeriodMs: 10_000, networks: [], forceUpdate: 0,
      ...task,
    },
    endpoint: { mode: 'VIP', ports: [] },
  };
  if (update !== undefined) spec.update = update;
  if (global === true) spec.global = {};
  else spec.replicated = { replicas: replicas ?? 1 };
  return spec;
}

export function makeService(id: string, spec: ServiceSpec, extra: Partial<Service> = {}): Service {
  return { id, meta: { version: 10, createdAtMs: 0, updatedAtMs: 0 }, spec, pendingDelete: false, ...extra };
}

let seq = 0;
/** A task of the service in the given state; created at `createdAtMs` (older = smaller). */
export function makeTask(service: Service, o: { slot?: number; nodeId?: string; state?: TaskState; desired?: TaskState; createdAtMs?: number; id?: string; labels?: Record<string, string>; timestampMs?: number } = {}): Task {
  const id = o.id ?? `t${String(++seq).padStart(4, '0')}`;
  const base = newTask(service, service.spec.global !== undefined ? { nodeId: o.nodeId ?? '' } : { slot: o.slot ?? 1 }, id, o.timestampMs ?? 0, o.labels ?? {});
  return {
    ...base,
    nodeId: o.nodeId ?? base.nodeId,
    meta: { version: 1, createdAtMs: o.createdAtMs ?? 0, updatedAtMs: 0 },
    status: { ...base.status, state: o.state ?? 'RUNNING', timestampMs: o.timestampMs ?? 0 },
    desiredState: o.desired ?? 'RUNNING',
  };
}

/** IDs n1, n2, ... for tasks a plan creates. */
export function idSource(prefix = 'new'): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}
