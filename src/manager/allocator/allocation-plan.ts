/**
 * What one allocation pass decides (swarmkit's allocator voting a task from NEW to PENDING),
 * as a pure function of the store's objects: services' VIPs and NEW tasks' network
 * attachments. The runner (task-allocator.ts) writes the result; this file does no I/O.
 */
import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import { taskStateValues, type Network, type NetworkAttachment, type Service, type Task, type VirtualIP } from '../../objects/index.js';
import { AddressBook, type AddressConflict } from './address-book.js';

/** A task the allocation pass moves on: just created and still meant to run. */
export function needsAllocation(t: Task): boolean {
  return t.status.state === 'NEW' && taskStateValues[t.desiredState] <= taskStateValues.RUNNING;
}

export interface AllocationInput {
  readonly networks: readonly Network[];
  readonly services: readonly Service[];
  readonly tasks: readonly Task[];
  readonly nowMs: number;
  /** Cursor hints from the previous pass (network ID -> next address). */
  readonly cursors?: ReadonlyMap<string, string>;
}

export interface AllocationPlan {
  /** Services whose VIPs change (the whole object, to write with its read version). */
  readonly services: Service[];
  /** Tasks that change: allocated and PENDING, or still NEW with a new failure message. */
  readonly tasks: Task[];
  /** Cursor hints for the next pass. */
  readonly cursors: Map<string, string>;
  /** Held addresses the store shows twice or outside their network (for the log). */
  readonly conflicts: readonly AddressConflict[];
}

/** Network IDs in the order the spec names them, each once. */
function targets(networks: ReadonlyArray<{ target: string }>): string[] {
  return [...new Set(networks.map((n) => n.target))];
}

const vipHolder = (s: Service): string => `VIP of service ${s.spec.annotations.name}`;
const taskHolder = (t: Task): string => `task ${t.id}`;

/**
 * The VIPs a service should have: one per attached network in VIP mode (Docker's default),
 * none in dnsrr mode, none on the ingress network (the routing mesh is not built) or on a
 * network that does not exist. VIPs it holds are kept; new ones are allocated; a network that
 * fails to give one is left without (the next pass tries again). Undefined: no change.
 */
function planVips(book: AddressBook, s: Service): VirtualIP[] | undefined {
  if (s.pendingDelete) return undefined;
  const current = s.endpoint?.virtualIps ?? [];
  const wanted = s.spec.endpoint?.mode === 'DNSRR' ? [] : targets(s.spec.task.networks).filter((id) => {
    const n = book.network(id);
    return n !== undefined && !n.spec.ingress;
  });
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
  const same = next.length === current.length && next.every((v, i) => v.networkId === current[i]!.networkId && v.addr === current[i]!.addr);
  return same ? undefined : next;
}

/**
 * A NEW task's attachments: one per network of its spec, each with its own address (as a CIDR
 * with the subnet's prefix), the spec's aliases and the Network as stored. All or nothing:
 * on a failure the addresses taken for the task are given back and the error is thrown.
 */
function attachTask(book: AddressBook, t: Task): NetworkAttachment[] {
  const taken: Array<{ networkId: string; addr: string }> = [];
  try {
    return targets(t.spec.networks).map((networkId) => {
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
function failureText(err: unknown): string {
  return `network allocation failed: ${isTsswarmError(err) ? `${err.what}, ${err.why}` : errorMessage(err)}`;
}

/**
 * One pass's decisions. Idempotent: planned again on the state it produced, it changes
 * nothing. Services go first so that a service and its new tasks draw from the same book.
 */
export function planAllocation(input: AllocationInput): AllocationPlan {
  const book = AddressBook.build(input);
  const services: Service[] = [];
  const endpoints = new Map<string, Service['endpoint']>(input.services.map((s) => [s.id, s.endpoint]));
  for (const s of input.services) {
    const vips = planVips(book, s);
    if (vips === undefined) continue;
    const spec = s.endpoint?.spec ?? s.spec.endpoint;
    const changed = { ...s, endpoint: { ...(spec === undefined ? {} : { spec }), ports: s.endpoint?.ports ?? [], virtualIps: vips } };
    services.push(changed);
    endpoints.set(s.id, changed.endpoint);
  }
  const tasks: Task[] = [];
  for (const t of input.tasks) {
    if (!needsAllocation(t)) continue;
    try {
      const networks = attachTask(book, t);
      // As swarmkit's allocator: the task gets its service's endpoint (VIPs included) as allocated now.
      const endpoint = endpoints.get(t.serviceId) ?? t.endpoint;
      tasks.push({
        ...t, networks, ...(endpoint === undefined ? {} : { endpoint }),
        status: { ...t.status, state: 'PENDING', message: 'pending task scheduling', err: '', timestampMs: input.nowMs },
      });
    } catch (err) {
      if (!isTsswarmError(err)) throw err;
      const text = failureText(err);
      // Unchanged failure: nothing to write (the pass stays idempotent).
      if (t.status.err === text) continue;
      tasks.push({ ...t, status: { ...t.status, message: text, err: text, timestampMs: input.nowMs } });
    }
  }
  return { services, tasks, cursors: book.cursors(), conflicts: book.conflicts };
}
