import type { Node, PortConfig, Service, Task } from '../../../objects/index.js';
import { titleCase } from '../../output.js';
import type { ServiceSummary } from './service-api.js';

/** Docker prints IDs cut to 12 characters unless --no-trunc. */
export const shortId = (id: string): string => id.slice(0, 12);

/** Docker's `*:8080->80/tcp` (ingress) and `:8080->80/tcp` (host mode) forms. */
export function portsText(ports: readonly PortConfig[]): string {
  return ports
    .map((p) => `${p.publishMode === 'HOST' ? '' : '*'}:${p.publishedPort === 0 ? '' : p.publishedPort}->${p.targetPort}/${p.protocol.toLowerCase()}`)
    .join(', ');
}

/**
 * The ports a service publishes: Endpoint.ports (each ingress port with its PublishedPort,
 * automatic ones included) once the managers allocated them for the current spec; the spec's
 * until then (an automatic port shows no number yet).
 */
export function servicePorts(service: Service): PortConfig[] {
  const allocated = service.endpoint?.ports ?? [];
  const wanted = service.spec.endpoint?.ports ?? [];
  const forSpec = JSON.stringify(service.endpoint?.spec?.ports ?? []) === JSON.stringify(wanted);
  return allocated.length > 0 && forSpec ? allocated : wanted;
}

/**
 * Docker's `service inspect --pretty` lines for the ports (its template: a `Ports:` line,
 * then per port ` PublishedPort = N` and the protocol, target port and mode indented below).
 */
export function prettyPortLines(service: Service): string[] {
  const ports = servicePorts(service);
  if (ports.length === 0) return [];
  return ['Ports:', ...ports.flatMap((p) => [
    ` PublishedPort = ${p.publishedPort}`,
    `  Protocol = ${p.protocol.toLowerCase()}`,
    `  TargetPort = ${p.targetPort}`,
    `  PublishMode = ${p.publishMode.toLowerCase()}`,
  ])];
}

export function serviceMode(service: Service): string {
  return service.spec.global !== undefined && service.spec.global !== null ? 'global' : 'replicated';
}

/** One `service ls` row with Docker's column names (the JSON form of --format json). */
export interface ServiceRow {
  ID: string;
  Name: string;
  Mode: string;
  Replicas: string;
  Image: string;
  Ports: string;
}

export function serviceRow(s: ServiceSummary): ServiceRow {
  return {
    ID: s.service.id,
    Name: s.service.spec.annotations.name,
    Mode: serviceMode(s.service),
    Replicas: `${s.running}/${s.desired}`,
    Image: s.service.spec.task.image,
    Ports: portsText(servicePorts(s.service)),
  };
}

/**
 * Docker's go-units HumanDuration, which `service ps` uses for "Running 5 seconds ago".
 */
export function humanDuration(ms: number): string {
  // Go truncates seconds and minutes and rounds hours.
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.floor(s / 3600 + 0.5);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  const d = Math.round(h / 24);
  if (h < 24 * 7 * 2) return `${d} days`;
  if (h < 24 * 30 * 2) return `${Math.round(d / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(d / 30)} months`;
  return `${Math.round(d / 365)} years`;
}

/** One `service ps` / `node ps` row with Docker's column names. */
export interface TaskRow {
  ID: string;
  Name: string;
  Image: string;
  Node: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
  Ports: string;
  /** The task's overlay addresses, `NETWORK=10.0.1.5/24` each (JSON only; Docker's table has no such column). */
  Networks: string;
}

/** Docker names a replicated task `service.slot` and a global one `service.nodeid`. */
export function taskDisplayName(task: Task): string {
  const service = task.serviceAnnotations?.name ?? task.serviceId;
  return task.slot > 0 ? `${service}.${task.slot}` : `${service}.${task.nodeId}`;
}

export function taskRow(task: Task, nodes: ReadonlyMap<string, Node>, now: number, noTrunc: boolean): TaskRow {
  const err = task.status.err;
  return {
    ID: noTrunc ? task.id : shortId(task.id),
    Name: taskDisplayName(task),
    Image: task.spec.image,
    Node: nodes.get(task.nodeId)?.description?.hostname ?? (task.nodeId === '' ? '' : task.nodeId),
    DesiredState: titleCase(task.desiredState),
    CurrentState: `${titleCase(task.status.state)} ${humanDuration(Math.max(0, now - task.status.timestampMs))} ago`,
    Error: err === '' ? '' : JSON.stringify(noTrunc || err.length <= 28 ? err : `${err.slice(0, 27)}…`),
    Ports: portsText(task.status.portStatus?.ports ?? []),
    Networks: task.networks.map((a) => `${a.network?.spec.annotations.name ?? a.networkId}=${a.addresses.join(',')}`).join(' '),
  };
}

/**
 * Docker's order for `service ps`: by service, then slot (or node), newest task first, the
 * older tasks of a slot shown as its history (` \_ name`).
 */
export function orderTasks(tasks: readonly Task[]): Array<{ task: Task; history: boolean }> {
  const groups = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = `${t.serviceAnnotations?.name ?? t.serviceId}\u0000${t.slot > 0 ? String(t.slot).padStart(10, '0') : t.nodeId}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const out: Array<{ task: Task; history: boolean }> = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!.sort((a, b) => b.meta.createdAtMs - a.meta.createdAtMs || b.id.localeCompare(a.id));
    group.forEach((task, i) => out.push({ task, history: i > 0 }));
  }
  return out;
}
