/**
 * What one allocation pass decides (swarmkit's allocator voting a task from NEW to PENDING),
 * as a pure function of the store's objects: services' published ports and VIPs, nodes'
 * load-balancer addresses on the ingress network, and NEW tasks' network attachments (the
 * ingress one first for a service that publishes ports through the routing mesh). The runner
 * (task-allocator.ts) writes the result; this file does no I/O.
 */
import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import {
  taskStateValues, type Endpoint, type Network, type NetworkAttachment, type Node, type Service, type Task, type VirtualIP,
} from '../../objects/index.js';
import { AddressBook, networkSubnet, taskHolder, vipHolder, type AddressConflict } from './address-book.js';
import { parseAllocatorConfig } from './allocator-config.js';
import { planNodeAttachments } from './node-attachments.js';
import type { PortRange } from './port-allocator.js';
import { planPublishedPorts, publishesIngress, type PortConflict, type PortCursors } from './published-ports.js';

/** A task the allocation pass moves on: just created and still meant to run. */
export function needsAllocation(t: Task): boolean {
  return t.status.state === 'NEW' && taskStateValues[t.desiredState] <= taskStateValues.RUNNING;
}

export interface AllocationInput {
  readonly networks: readonly Network[];
  readonly services: readonly Service[];
  readonly tasks: readonly Task[];
  /** Nodes, each to get its load-balancer address on the ingress network; absent: none. */
  readonly nodes?: readonly Node[];
  readonly nowMs: number;
  /** Cursor hints from the previous pass (network ID -> next address). */
  readonly cursors?: ReadonlyMap<string, string>;
  /** Where automatic published ports come from; absent: 30000-32767, as Docker. */
  readonly portRange?: PortRange;
  /** Cursor hints of the automatic ports from the previous pass. */
  readonly portCursors?: PortCursors;
}

const defaults = parseAllocatorConfig({});
/** The default range of automatic published ports, Docker Swarm's (allocator-config.ts says why). */
export const DEFAULT_PORT_RANGE: PortRange = { start: defaults.dynamicPortStart, end: defaults.dynamicPortEnd };

export interface AllocationPlan {
  /** Services whose endpoint (ports, VIPs) changes (the whole object, to write with its read version). */
  readonly services: Service[];
  /** Nodes whose attachments change. */
  readonly nodes: Node[];
  /** Tasks that change: allocated and PENDING, or still NEW with a new failure message. */
  readonly tasks: Task[];
  /** Cursor hints for the next pass. */
  readonly cursors: Map<string, string>;
  readonly portCursors: PortCursors;
  /** Held addresses the store shows twice or outside their network (for the log). */
  readonly conflicts: readonly AddressConflict[];
  /** Published ports the store shows held by two services (for the log). */
  readonly portConflicts: readonly PortConflict[];
  /**
   * Services whose NEW tasks wait, with the reason (also in those tasks' status):
   * IPAM_PORT_IN_USE or IPAM_PORTS_EXHAUSTED (ports), NETWORK_INGRESS_MISSING.
   */
  readonly serviceFailures: ReadonlyMap<string, TsswarmError>;
}

/** Network IDs in the order the spec names them, each once. */
function targets(networks: ReadonlyArray<{ target: string }>): string[] {
  return [...new Set(networks.map((n) => n.target))];
}

/** The swarm's ingress network, if it exists and is allocated. */
function ingressOf(networks: readonly Network[]): Network | undefined {
  return networks.find((n) => n.spec.ingress && networkSubnet(n) !== undefined);
}

/**
 * The networks a service's tasks attach to, in Docker's order: the ingress network first when
 * the service publishes ports through the routing mesh, then those of its spec.
 */
function serviceTargets(s: Service | undefined, ingress: Network | undefined, spec: ReadonlyArray<{ target: string }>): string[] {
  const own = targets(spec).filter((id) => id !== ingress?.id);
  return s !== undefined && ingress !== undefined && publishesIngress(s.spec.endpoint) ? [ingress.id, ...own] : own;
}

/**
 * The VIPs a service should have in VIP mode (Docker's default): one on the ingress network
 * when it publishes ports through the routing mesh (first, as Docker lists it), and one per
 * network of its spec; none in dnsrr mode, none on a network that does not exist. VIPs it
 * holds are kept; new ones are allocated; a network that fails to give one is left without
 * (the next pass tries again).
 */
function planVips(book: AddressBook, s: Service, ingress: Network | undefined): VirtualIP[] {
  const current = s.endpoint?.virtualIps ?? [];
  const wanted = s.spec.endpoint?.mode === 'DNSRR' ? [] : serviceTargets(s, ingress, s.spec.task.networks).filter((id) => book.network(id) !== undefined);
  const next: VirtualIP[] = [];
  for (const networkId of wanted) {
    const kept = current.find((v) => v.networkId === networkId && book.heldBy(networkId, v.addr, vipHolder(s)));
    if (kept !== undefined) {
      next.push({ networkId, addr: kept.addr });
      continue;
    }
    try {
      next.push({ networkId, addr: book.allocate(networkId, vipHolder(s)) });
    } catch (err) {
      if (!isTsswarmError(err)) throw err;
    }
  }
  return next;
}

/** Deep equality of plain data whatever the key order (a field set to undefined counts as absent). */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>): string[] => Object.keys(o).filter((k) => o[k] !== undefined);
  return keys(x).length === keys(y).length && keys(x).every((k) => sameData(x[k], y[k]));
}

function sameEndpoint(a: Endpoint | undefined, b: Endpoint): boolean {
  return a !== undefined && sameData(a.spec, b.spec) && sameData(a.ports, b.ports) && sameData(a.virtualIps, b.virtualIps);
}

/**
 * A NEW task's attachments: one per network (serviceTargets: the ingress network first for a
 * service publishing through the routing mesh), each with its own address (as a CIDR with the
 * subnet's prefix), the spec's aliases and the Network as stored. All or nothing: on a
 * failure the addresses taken for the task are given back and the error is thrown.
 */
function attachTask(book: AddressBook, t: Task, service: Service | undefined, ingress: Network | undefined): NetworkAttachment[] {
  const taken: Array<{ networkId: string; addr: string }> = [];
  try {
    return serviceTargets(service, ingress, t.spec.networks).map((networkId) => {
      const network = book.network(networkId);
      if (network === undefined) throw new TsswarmError('IPAM_UNKNOWN_NETWORK', { network: networkId });
      const aliases = [...(t.spec.networks.find((n) => n.target === networkId)?.aliases ?? [])];
      const existing = t.networks.find((a) => a.networkId === networkId && a.addresses.length > 0 && a.addresses.every((addr) => book.heldBy(networkId, addr, taskHolder(t))));
      if (existing !== undefined) return { networkId, addresses: [...existing.addresses], aliases, network };
      const addr = book.allocate(networkId, taskHolder(t));
      taken.push({ networkId, addr });
      return { networkId, addresses: [addr], aliases, network };
    });
  } catch (err) {
    for (const { networkId, addr } of taken) book.release(networkId, addr);
    throw err;
  }
}

/** Why allocation failed, for the task's status: the error's own words. */
function failureText(err: unknown, what = 'network'): string {
  return `${what} allocation failed: ${isTsswarmError(err) ? `${err.what}, ${err.why}` : errorMessage(err)}`;
}

/**
 * One pass's decisions. Idempotent: planned again on the state it produced, it changes
 * nothing. Services go first (ports, then VIPs), then nodes, then tasks, so that a service
 * and its new tasks draw from the same book and a task gets its service's endpoint as
 * allocated in this very pass.
 */
export function planAllocation(input: AllocationInput): AllocationPlan {
  const book = AddressBook.build(input);
  const ingress = ingressOf(input.networks);
  const ports = planPublishedPorts(input.services, input.portRange ?? DEFAULT_PORT_RANGE, input.portCursors);
  const services: Service[] = [];
  const byId = new Map(input.services.map((s) => [s.id, s]));
  const endpoints = new Map<string, Service['endpoint']>(input.services.map((s) => [s.id, s.endpoint]));
  // Why a service's tasks cannot be allocated now (they stay NEW with it).
  const failures = new Map<string, TsswarmError>();
  const failureTexts = new Map<string, string>();
  for (const s of input.services) {
    if (s.pendingDelete) continue;
    const portFailure = ports.failures.get(s.id);
    if (portFailure !== undefined) {
      failures.set(s.id, portFailure);
      failureTexts.set(s.id, failureText(portFailure, 'port'));
    } else if (ingress === undefined && publishesIngress(s.spec.endpoint)) {
      const missing = new TsswarmError('NETWORK_INGRESS_MISSING', { service: s.spec.annotations.name });
      failures.set(s.id, missing);
      failureTexts.set(s.id, failureText(missing));
    }
    // A service that cannot be allocated keeps the endpoint it has, as swarmkit's allocator.
    if (failures.has(s.id)) continue;
    const spec = s.spec.endpoint;
    const endpoint: Endpoint = { ...(spec === undefined ? {} : { spec }), ports: ports.ports.get(s.id) ?? [], virtualIps: planVips(book, s, ingress) };
    if (sameEndpoint(s.endpoint, endpoint)) continue;
    services.push({ ...s, endpoint });
    endpoints.set(s.id, endpoint);
  }
  // Nodes get their ingress address (and so their ingress sandbox, its kernel objects and
  // its gossip) only while some service publishes through the mesh: a cluster that publishes
  // nothing leaves the hosts' namespaces as they were. The first publishing service brings
  // them in the same pass that allocates its tasks.
  const meshInUse = input.services.some((s) => !s.pendingDelete && publishesIngress(s.spec.endpoint));
  const nodes = planNodeAttachments(book, input.nodes ?? [], meshInUse ? ingress : undefined);
  const tasks: Task[] = [];
  for (const t of input.tasks) {
    if (!needsAllocation(t)) continue;
    let failure = failureTexts.get(t.serviceId);
    if (failure === undefined) {
      try {
        const networks = attachTask(book, t, byId.get(t.serviceId), ingress);
        // As swarmkit's allocator: the task gets its service's endpoint (ports, VIPs) as allocated now.
        const endpoint = endpoints.get(t.serviceId) ?? t.endpoint;
        tasks.push({
          ...t, networks, ...(endpoint === undefined ? {} : { endpoint }),
          status: { ...t.status, state: 'PENDING', message: 'pending task scheduling', err: '', timestampMs: input.nowMs },
        });
        continue;
      } catch (err) {
        if (!isTsswarmError(err)) throw err;
        failure = failureText(err);
      }
    }
    // Unchanged failure: nothing to write (the pass stays idempotent).
    if (t.status.err === failure) continue;
    tasks.push({ ...t, status: { ...t.status, message: failure, err: failure, timestampMs: input.nowMs } });
  }
  return {
    services, nodes, tasks, cursors: book.cursors(), portCursors: ports.cursors, conflicts: book.conflicts, portConflicts: ports.conflicts,
    serviceFailures: failures,
  };
}
