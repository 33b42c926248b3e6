import { taskStateValues, type Node, type PortConfig, type Task } from '../../objects/index.js';
import { nodeMatchesConstraints, parseConstraint, type Constraint } from './constraint.js';

/**
 * The scheduler's filters, in swarmkit's order. Each says whether a node can take a task and,
 * for the "no suitable node (...)" message, how to describe the nodes it turned away.
 */
export type FilterName = 'ready' | 'platform' | 'constraint' | 'host-port' | 'max-replicas';

export const FILTER_ORDER: readonly FilterName[] = ['ready', 'platform', 'constraint', 'host-port', 'max-replicas'];

const plural = (n: number): string => (n === 1 ? '1 node' : `${n} nodes`);

/** Docker's wording per filter (swarmkit scheduler/filter.go Explain). */
export function explainFilter(name: FilterName, nodes: number): string {
  switch (name) {
    case 'ready': return `${plural(nodes)} not available for new tasks`;
    case 'platform': return `unsupported platform on ${plural(nodes)}`;
    case 'constraint': return `scheduling constraints not satisfied on ${plural(nodes)}`;
    case 'host-port': return `host-mode port already in use on ${plural(nodes)}`;
    // Docker's text has no count here.
    case 'max-replicas': return 'max replicas per node limit exceed';
  }
}

/** A task that holds (or will hold) resources on its node: meant to run and not finished. */
export function isActiveOnNode(t: Task): boolean {
  return t.nodeId !== '' && taskStateValues[t.desiredState] <= taskStateValues.RUNNING && taskStateValues[t.status.state] <= taskStateValues.RUNNING;
}

/** Host-mode published ports of a task (the task's own endpoint copy of its service's). */
export function hostPorts(t: Task): PortConfig[] {
  const ports = t.endpoint?.spec?.ports ?? t.endpoint?.ports ?? [];
  return ports.filter((p) => p.publishMode === 'HOST' && p.publishedPort > 0);
}

/** What the scheduler tracks per node while it places a batch of tasks. */
export interface NodeInfo {
  readonly node: Node;
  /** Active tasks by service ID. */
  readonly byService: Map<string, number>;
  total: number;
  /** "port/protocol" of host-mode ports in use. */
  readonly hostPorts: Set<string>;
  /** Tasks by service ID that failed or were rejected here recently. */
  readonly recentFailures: Map<string, number>;
}

/** swarmkit: a node where a service failed this often lately is tried last for it. */
export const FAILURES_BEFORE_LAST = 5;
export const FAILURE_WINDOW_MS = 5 * 60_000;

export function nodeInfos(nodes: readonly Node[], tasks: readonly Task[], nowMs?: number): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const node of nodes) infos.set(node.id, { node, byService: new Map(), total: 0, hostPorts: new Set(), recentFailures: new Map() });
  for (const t of tasks) {
    if (isActiveOnNode(t)) addTask(infos.get(t.nodeId), t);
    else if (nowMs !== undefined && (t.status.state === 'FAILED' || t.status.state === 'REJECTED') && t.status.timestampMs > nowMs - FAILURE_WINDOW_MS) {
      const info = infos.get(t.nodeId);
      if (info !== undefined) info.recentFailures.set(t.serviceId, (info.recentFailures.get(t.serviceId) ?? 0) + 1);
    }
  }
  return infos;
}

export function addTask(info: NodeInfo | undefined, t: Task): void {
  if (info === undefined) return;
  info.byService.set(t.serviceId, (info.byService.get(t.serviceId) ?? 0) + 1);
  info.total++;
  for (const p of hostPorts(t)) info.hostPorts.add(`${p.publishedPort}/${p.protocol}`);
}

/** A task's placement requirements, parsed once per task. */
export interface TaskNeeds {
  readonly constraints: Constraint[];
  readonly platforms: ReadonlyArray<{ architecture: string; os: string }>;
  readonly hostPorts: string[];
  readonly maxReplicas: number;
}

/**
 * Constraints were checked when the service was written; one that no longer parses (an older
 * grammar) matches no node rather than every node, so a task is never placed against its spec.
 */
export function taskNeeds(t: Task): TaskNeeds | undefined {
  const placement = t.spec.placement;
  let constraints: Constraint[];
  try {
    constraints = (placement?.constraints ?? []).map(parseConstraint);
  } catch {
    return undefined;
  }
  return {
    constraints,
    platforms: placement?.platforms ?? [],
    hostPorts: hostPorts(t).map((p) => `${p.publishedPort}/${p.protocol}`),
    maxReplicas: placement?.maxReplicas ?? 0,
  };
}

export function nodeAcceptsNewTasks(node: Node): boolean {
  return node.status?.state === 'READY' && node.spec.availability === 'ACTIVE';
}

/** The first filter that turns the node away, or undefined when the node can take the task. */
export function firstFailingFilter(info: NodeInfo, serviceId: string, needs: TaskNeeds | undefined): FilterName | undefined {
  const node = info.node;
  if (!nodeAcceptsNewTasks(node)) return 'ready';
  if (needs === undefined) return 'constraint';
  if (needs.platforms.length > 0) {
    const os = node.description?.platform?.os ?? '';
    const arch = node.description?.platform?.architecture ?? '';
    const fits = needs.platforms.some((p) => (p.os === '' || p.os.toLowerCase() === os.toLowerCase()) && (p.architecture === '' || p.architecture.toLowerCase() === arch.toLowerCase()));
    if (!fits) return 'platform';
  }
  if (!nodeMatchesConstraints(node, needs.constraints)) return 'constraint';
  if (needs.hostPorts.some((p) => info.hostPorts.has(p))) return 'host-port';
  if (needs.maxReplicas > 0 && (info.byService.get(serviceId) ?? 0) >= needs.maxReplicas) return 'max-replicas';
  return undefined;
}
