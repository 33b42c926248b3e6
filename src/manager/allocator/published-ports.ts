/**
 * The ingress-mode published ports of services (swarmkit's port allocator), decided from the
 * store's objects alone: what each service holds is its allocated Endpoint.ports, so a new
 * leader (or the next pass) rebuilds exactly the ports in use and never hands one out twice.
 * A port a service gives is taken as is; one it leaves out comes from the dynamic range
 * (port-allocator.ts). A service being removed (pendingDelete) holds nothing: as in Docker,
 * `service rm` frees its ports at once. Host-mode ports are stored as given, never allocated
 * (the scheduler places those tasks where the port is free). Pure: no I/O, no clock.
 */
import { TsswarmError, isTsswarmError } from '../../errors/index.js';
import type { EndpointSpec, PortConfig, Service } from '../../objects/index.js';
import { PublishedPortAllocator, type PortProtocol, type PortRange, type PortRequest, type PublishedPort } from './port-allocator.js';

/** Per protocol, where the rotating search of automatic ports resumes (a hint kept between passes). */
export type PortCursors = Partial<Record<PortProtocol, number>>;

const protocolOf = (p: PortConfig): PortProtocol => (p.protocol === 'UDP' ? 'udp' : 'tcp');
const portKey = (protocol: PortProtocol, port: number): string => `${port}/${protocol}`;
const isIngress = (p: PortConfig): boolean => p.publishMode === 'INGRESS';

/** Whether an endpoint spec publishes a port through the routing mesh (so needs the ingress network). */
export function publishesIngress(spec: EndpointSpec | undefined): boolean {
  return (spec?.ports ?? []).some(isIngress);
}

/** Ingress ports a service holds now: its allocated ones (none while it is being removed). */
function heldPorts(s: Service, range: PortRange): PublishedPort[] {
  if (s.pendingDelete) return [];
  const allocated = s.endpoint?.ports ?? [];
  const allocatedFor = s.endpoint?.spec?.ports;
  // Endpoint.ports follows the order of the spec it was allocated for, so a port left out
  // there was automatic; without that spec, a port of the dynamic range counts as automatic.
  const aligned = allocatedFor !== undefined && allocatedFor.length === allocated.length;
  return allocated.flatMap((p, i) => {
    if (!isIngress(p) || p.publishedPort <= 0) return [];
    const auto = aligned ? allocatedFor[i]!.publishedPort === 0 : p.publishedPort >= range.start && p.publishedPort <= range.end;
    return [{ protocol: protocolOf(p), publishedPort: p.publishedPort, auto }];
  });
}

/** A port the store shows held by two services (a broken invariant: the first keeps it). */
export interface PortConflict {
  readonly port: string;
  readonly service: string;
  readonly holder: string;
}

export interface PortPlan {
  /**
   * For every service not being removed, its Endpoint.ports as they should be: the spec's
   * ports in order, ingress ones with their published port. A failed service keeps its old ones.
   */
  readonly ports: Map<string, PortConfig[]>;
  /** Services whose ports could not be allocated (IPAM_PORT_IN_USE, IPAM_PORTS_EXHAUSTED). */
  readonly failures: Map<string, TsswarmError>;
  readonly cursors: PortCursors;
  readonly conflicts: readonly PortConflict[];
}

const byAge = (a: Service, b: Service): number =>
  a.meta.createdAtMs - b.meta.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The requests for a service's spec: explicit ports as given; an automatic one keeps the
 * automatic port the service already publishes for the same target and protocol, so that an
 * update never renumbers the ports its clients use.
 */
function requestsFor(s: Service, held: readonly PublishedPort[]): PortRequest[] {
  const wanted = (s.spec.endpoint?.ports ?? []).filter(isIngress);
  const explicit = new Set(wanted.filter((p) => p.publishedPort > 0).map((p) => portKey(protocolOf(p), p.publishedPort)));
  const previous = (s.endpoint?.ports ?? []).filter((p) => isIngress(p) && p.publishedPort > 0);
  const reusable = previous.filter((p) => held.some((h) => h.auto && h.publishedPort === p.publishedPort && h.protocol === protocolOf(p)) && !explicit.has(portKey(protocolOf(p), p.publishedPort)));
  return wanted.map((p) => {
    const protocol = protocolOf(p);
    if (p.publishedPort > 0) return { protocol, publishedPort: p.publishedPort };
    const same = reusable.findIndex((old) => old.targetPort === p.targetPort && protocolOf(old) === protocol);
    if (same < 0) return { protocol };
    return { protocol, publishedPort: reusable.splice(same, 1)[0]!.publishedPort };
  });
}

/** IPAM_PORT_IN_USE naming the holder by its service name, as the user knows it. */
function namedHolder(err: TsswarmError, names: ReadonlyMap<string, string>): TsswarmError {
  if (err.code !== 'IPAM_PORT_IN_USE') return err;
  const owner = String(err.details.owner ?? '');
  return new TsswarmError('IPAM_PORT_IN_USE', { ...err.details, owner: `service ${names.get(owner) ?? owner}` });
}

/**
 * One pass's port decisions. Idempotent: planned again on the ports it decided (written to
 * Endpoint.ports), it decides the same. Services already holding ports are restored first,
 * then each service's spec is allocated, oldest service first.
 */
export function planPublishedPorts(services: readonly Service[], range: PortRange, cursors: PortCursors = {}): PortPlan {
  const names = new Map(services.map((s) => [s.id, s.spec.annotations.name]));
  const live = services.filter((s) => !s.pendingDelete).sort(byAge);
  const seen = new Map<string, string>();
  const conflicts: PortConflict[] = [];
  const holdings = new Map<string, PublishedPort[]>();
  for (const s of live) {
    const kept = heldPorts(s, range).filter((p) => {
      const holder = seen.get(portKey(p.protocol, p.publishedPort));
      if (holder === undefined) {
        seen.set(portKey(p.protocol, p.publishedPort), s.id);
        return true;
      }
      conflicts.push({ port: portKey(p.protocol, p.publishedPort), service: s.spec.annotations.name, holder: names.get(holder) ?? holder });
      return false;
    });
    holdings.set(s.id, kept);
  }
  const allocator = PublishedPortAllocator.restore(range, {
    owners: [...holdings].filter(([, ports]) => ports.length > 0).map(([owner, ports]) => ({ owner, ports })),
    next: cursors,
  });
  const ports = new Map<string, PortConfig[]>();
  const failures = new Map<string, TsswarmError>();
  for (const s of live) {
    try {
      const given = allocator.assign(s.id, requestsFor(s, holdings.get(s.id)!));
      let next = 0;
      ports.set(s.id, (s.spec.endpoint?.ports ?? []).map((p) => (isIngress(p) ? { ...p, publishedPort: given[next++]!.publishedPort } : { ...p })));
    } catch (err) {
      if (!isTsswarmError(err)) throw err;
      failures.set(s.id, namedHolder(err, names));
      ports.set(s.id, [...(s.endpoint?.ports ?? [])]);
    }
  }
  return { ports, failures, cursors: { ...allocator.serialize().next }, conflicts };
}

/**
 * The control API's check before it writes `spec` for service `self` (create, update,
 * rollback): every published port it gives (ingress mode) must not be another service's,
 * neither allocated to it nor named by its spec (not yet allocated). Throws IPAM_PORT_IN_USE
 * naming the holder; automatic ports need no check (the allocation pass picks free ones).
 */
export function checkPublishedPortsFree(services: readonly Service[], self: { id: string; spec: { endpoint?: EndpointSpec | undefined } }, range: PortRange): void {
  const holders = new Map<string, string>();
  for (const s of services) {
    if (s.id === self.id || s.pendingDelete) continue;
    const name = s.spec.annotations.name;
    for (const p of [...(s.endpoint?.ports ?? []), ...(s.spec.endpoint?.ports ?? [])]) {
      if (isIngress(p) && p.publishedPort > 0) holders.set(portKey(protocolOf(p), p.publishedPort), name);
    }
  }
  for (const p of self.spec.endpoint?.ports ?? []) {
    if (!isIngress(p) || p.publishedPort <= 0) continue;
    const holder = holders.get(portKey(protocolOf(p), p.publishedPort));
    if (holder !== undefined) {
      throw new TsswarmError('IPAM_PORT_IN_USE', { port: p.publishedPort, protocol: protocolOf(p), owner: `service ${holder}`, start: range.start, end: range.end });
    }
  }
}
