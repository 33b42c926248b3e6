import { taskStateValues, type EndpointSpec, type Node, type Service, type Task, type TaskSpec } from '../../objects/index.js';

/**
 * What the orchestrator keeps in the store about a slot's past, as labels on the slot's tasks
 * (the store is its only memory, so a new leader resumes exactly where the last one stopped).
 */
export const LABELS = {
  /** On a task shut down to be replaced: the wall ms from which its successor may be created. */
  replaceAfter: 'com.tsswarm.replace-after',
  /** With replaceAfter: the successor waits until this task has stopped (stop-first updates). */
  replaceWhenStopped: 'com.tsswarm.replace-when-stopped',
  /** Wall ms of the restarts of this slot since its spec last changed, comma-separated. */
  restarts: 'com.tsswarm.restarts',
} as const;

export const isRunnable = (t: Task): boolean => taskStateValues[t.desiredState] <= taskStateValues.RUNNING;
export const hasFinished = (t: Task): boolean => taskStateValues[t.status.state] >= taskStateValues.COMPLETE;
export const wasAssigned = (t: Task): boolean => taskStateValues[t.status.state] >= taskStateValues.ASSIGNED;

/** The task's node is gone or DOWN: the dispatcher will not hear from it. */
export function nodeLost(t: Task, nodes: ReadonlyMap<string, Node>): boolean {
  if (t.nodeId === '') return false;
  const node = nodes.get(t.nodeId);
  return node === undefined || node.status?.state === 'DOWN';
}

export function labelsOf(t: Task): Record<string, string> {
  return t.annotations?.labels ?? {};
}

export function withLabels(t: Task, change: Record<string, string | undefined>): Task {
  const labels: Record<string, string> = { ...labelsOf(t) };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete labels[k];
    else labels[k] = v;
  }
  return { ...t, annotations: { name: t.annotations?.name ?? '', labels } };
}

export function replaceAfterOf(t: Task): number | undefined {
  const v = labelsOf(t)[LABELS.replaceAfter];
  return v === undefined ? undefined : Number(v);
}

export function restartTimesOf(t: Task): number[] {
  const v = labelsOf(t)[LABELS.restarts];
  return v === undefined || v === '' ? [] : v.split(',').map(Number).filter(Number.isFinite);
}

/** JSON with sorted keys, so two equal specs compare equal whatever their key order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

// Store objects are frozen, so a spec's canonical text never changes: computed once per object.
const specText = new WeakMap<TaskSpec, string>();

function textOf(spec: TaskSpec): string {
  let text = specText.get(spec);
  if (text === undefined) {
    text = stableJson(spec);
    specText.set(spec, text);
  }
  return text;
}

export function sameTaskSpec(a: TaskSpec, b: TaskSpec): boolean {
  return a === b || textOf(a) === textOf(b);
}

/** An endpoint spec as it matters to a task, Docker's defaults filled in (an absent spec is VIP, no ports). */
function endpointText(e: EndpointSpec | undefined): string {
  const ports = (e?.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? 0, publishedPort: p.publishedPort ?? 0, publishMode: p.publishMode ?? 'INGRESS' }));
  return stableJson({ mode: e?.mode ?? 'VIP', ports });
}

/**
 * Whether a task was made for the service as it is now: the same task spec and, as swarmkit's
 * IsTaskDirty, the same endpoint spec it was allocated for, so a change of published ports
 * replaces the tasks (they carry the ports and their ingress address). A task with no
 * endpoint spec yet is judged by its task spec alone.
 */
export function taskUpToDate(t: Task, service: Service): boolean {
  if (!sameTaskSpec(t.spec, service.spec.task)) return false;
  const allocatedFor = t.endpoint?.spec;
  return allocatedFor === undefined || endpointText(allocatedFor) === endpointText(service.spec.endpoint);
}

/** Oldest first: creation time, then the last write's Raft index, then ID. */
export function byAge(a: Task, b: Task): number {
  if (a.meta.createdAtMs !== b.meta.createdAtMs) return a.meta.createdAtMs - b.meta.createdAtMs;
  if (a.meta.version !== b.meta.version) return a.meta.version - b.meta.version;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A new task of the service (state NEW, desired RUNNING), as swarmkit's NewTask: the spec and
 * endpoint copied from the service, specVersion = the service's version, and Docker's name:
 * `<service>.<slot>.<id>` (replicated) or `<service>.<node>.<id>` (global).
 */
export function newTask(service: Service, where: { slot: number } | { nodeId: string }, id: string, nowMs: number, labels: Record<string, string> = {}): Task {
  const name = service.spec.annotations.name;
  const slot = 'slot' in where ? where.slot : 0;
  const nodeId = 'nodeId' in where ? where.nodeId : '';
  return {
    id,
    // The store stamps the real meta on create; until then the task counts as made now.
    meta: { version: 0, createdAtMs: nowMs, updatedAtMs: nowMs },
    spec: service.spec.task,
    serviceId: service.id,
    slot,
    nodeId,
    serviceAnnotations: service.spec.annotations,
    annotations: { name: `${name}.${'slot' in where ? slot : nodeId}.${id}`, labels },
    status: { timestampMs: nowMs, state: 'NEW', message: 'created', err: '' },
    desiredState: 'RUNNING',
    networks: [],
    endpoint: { spec: service.spec.endpoint ?? { mode: 'VIP', ports: [] }, ports: service.endpoint?.ports ?? [], virtualIps: service.endpoint?.virtualIps ?? [] },
    specVersion: service.meta.version,
  };
}
