import { TsswarmError, isTsswarmError } from '../../errors/index.js';
import type { DeepPartial, Node, Service, ServiceSpec, Task, TaskState } from '../../objects/index.js';
import { DEFAULT_PORT_RANGE, checkPublishedPortsFree, publishesIngress, type PortRange } from '../allocator/index.js';
import type { MemoryStore, ReadTx, WriteTx } from '../store/index.js';
import type { ListTasksRequest as TaskFilter, ServiceSummary } from './messages.js';
import { resolveNetwork } from './network-control.js';
import { normalizeServiceSpec } from './service-spec.js';
import { newObjectId } from './object-id.js';

/** What the service calls need from the orchestrators (which own these decisions). */
export interface ServiceLifecycle {
  /** Checks --constraint and --placement-pref (the scheduler's grammar); throws on bad input. */
  checkPlacement(constraints: readonly string[], preferences: readonly string[]): void;
  /** Starts removing a service inside the caller's transaction (its tasks are shut down). */
  removeService(tx: WriteTx, service: Service): void;
  /** The spec a rollback returns to: the previous spec with the rollback settings in force. */
  rollbackSpec(service: Service): ServiceSpec;
}

/**
 * Finds a service as Docker does: exact ID, then exact name (case-insensitive), then a unique
 * ID prefix. Throws SERVICE_NOT_FOUND or SERVICE_AMBIGUOUS.
 */
export function resolveService(tx: ReadTx, ref: string): Service {
  const byId = tx.get('service', ref);
  if (byId !== undefined) return byId;
  const byName = tx.getByName('service', ref);
  if (byName !== undefined) return byName;
  const matches = ref === '' ? [] : tx.list('service').filter((s) => s.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new TsswarmError('SERVICE_NOT_FOUND', { ref });
  throw new TsswarmError('SERVICE_AMBIGUOUS', { ref, count: matches.length });
}

/**
 * The spec with each `--network` (name, ID or unique ID prefix, as the CLI sends it) replaced
 * by the network's ID, as the store keeps it. Throws SERVICE_NETWORK_NOT_FOUND,
 * NETWORK_AMBIGUOUS, SERVICE_NETWORK_INGRESS, or SERVICE_INVALID_OPTION for a network named
 * twice.
 */
export function resolveServiceNetworks(tx: ReadTx, spec: ServiceSpec): ServiceSpec {
  const service = spec.annotations.name;
  const seen = new Set<string>();
  const networks = spec.task.networks.map((attachment) => {
    let network;
    try {
      network = resolveNetwork(tx, attachment.target);
    } catch (err) {
      if (isTsswarmError(err, 'NETWORK_NOT_FOUND')) throw new TsswarmError('SERVICE_NETWORK_NOT_FOUND', { service, ref: attachment.target });
      throw err;
    }
    if (network.spec.ingress) throw new TsswarmError('SERVICE_NETWORK_INGRESS', { service, ref: attachment.target });
    if (seen.has(network.id)) {
      throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--network', value: JSON.stringify(attachment.target), reason: `the service is attached to network ${network.spec.annotations.name} once already` });
    }
    seen.add(network.id);
    return { ...attachment, target: network.id };
  });
  return { ...spec, task: { ...spec.task, networks } };
}

/**
 * The routing-mesh checks of a spec about to be written for service `serviceId`, as swarmkit's
 * control API makes them: ports published in ingress mode need the ingress network
 * (NETWORK_INGRESS_MISSING), and each one given must not be another service's
 * (IPAM_PORT_IN_USE naming it). The ports themselves come from the allocation pass.
 */
export function checkServicePublishing(tx: ReadTx, serviceId: string, spec: ServiceSpec, range: PortRange = DEFAULT_PORT_RANGE): void {
  if (!publishesIngress(spec.endpoint)) return;
  if (!tx.list('network').some((n) => n.spec.ingress)) throw new TsswarmError('NETWORK_INGRESS_MISSING', { service: spec.annotations.name });
  checkPublishedPortsFree(tx.list('service'), { id: serviceId, spec }, range);
}

function summarize(tx: ReadTx, service: Service): ServiceSummary {
  const tasks = tx.tasksByService(service.id).filter((t) => t.desiredState === 'RUNNING');
  const running = tasks.filter((t) => t.status.state === 'RUNNING').length;
  const desired = service.spec.replicated !== undefined ? service.spec.replicated.replicas : tasks.length;
  return { service, running, desired };
}

const DESIRED_STATE_FILTERS: Record<string, readonly TaskState[]> = {
  running: ['RUNNING'],
  shutdown: ['SHUTDOWN', 'REMOVE'],
  accepted: ['ACCEPTED'],
};

/**
 * The service half of the Control API, answered by the leader from the replicated store:
 * create, list, inspect, update (including scale and rollback), remove, and the task lists of
 * `service ps` / `node ps`. Every write is one store transaction, so a refused call changes
 * nothing.
 */
export class ServiceControl {
  /**
   * `networkWrites` runs a write after the network writes in flight (NetworkControl.serialize),
   * so a network cannot be removed between a service's check of it and the service's write,
   * and two services' port checks never interleave. `portRange` is the range of automatic
   * published ports (named in IPAM_PORT_IN_USE).
   */
  constructor(
    private readonly store: MemoryStore,
    private readonly lifecycle: ServiceLifecycle,
    private readonly networkWrites: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
    private readonly portRange: PortRange = DEFAULT_PORT_RANGE,
  ) {}

  async createService(input: DeepPartial<ServiceSpec>): Promise<Service> {
    const spec = normalizeServiceSpec(input, (c, p) => this.lifecycle.checkPlacement(c, p));
    const id = newObjectId();
    try {
      return await this.networkWrites(() => this.store.update((tx) => {
        const existing = tx.getByName('service', spec.annotations.name);
        if (existing !== undefined) throw new TsswarmError('SERVICE_NAME_IN_USE', { name: spec.annotations.name, id: existing.id });
        const resolved = resolveServiceNetworks(tx, spec);
        checkServicePublishing(tx, id, resolved, this.portRange);
        // Published ports and VIPs come from the allocation pass (their one writer), which
        // also records the endpoint spec they were allocated for.
        tx.create('service', { id, spec: resolved, endpoint: { ports: [], virtualIps: [] }, updateStatus: undefined, pendingDelete: false });
        return tx.get('service', id)!;
      }));
    } catch (err) {
      // Two creates with one name racing: the store's own uniqueness check is the last word.
      if (isTsswarmError(err) && err.code === 'STORE_NAME_CONFLICT') {
        throw new TsswarmError('SERVICE_NAME_IN_USE', { name: spec.annotations.name, id: String(err.details.id ?? '') });
      }
      throw err;
    }
  }

  async listServices(): Promise<ServiceSummary[]> {
    return this.store.viewLinearizable((tx) => tx.list('service').filter((s) => !s.pendingDelete).map((s) => summarize(tx, s)));
  }

  async getService(ref: string): Promise<ServiceSummary> {
    return this.store.viewLinearizable((tx) => summarize(tx, resolveService(tx, ref)));
  }

  /**
   * Replaces the spec of a service (the CLI computed it from the one it read, whose version it
   * names: a concurrent update makes this fail with STORE_VERSION_CONFLICT rather than lose
   * either change). The old spec becomes previous_spec, for `service rollback`.
   */
  async updateService(ref: string, version: number, input: DeepPartial<ServiceSpec>): Promise<Service> {
    const normalized = normalizeServiceSpec(input, (c, p) => this.lifecycle.checkPlacement(c, p));
    return this.networkWrites(() => this.store.update((tx) => {
      const current = resolveService(tx, ref);
      const spec = resolveServiceNetworks(tx, normalized);
      if (version !== 0 && current.meta.version !== version) {
        throw new TsswarmError('STORE_VERSION_CONFLICT', { kind: 'service', id: current.id, expected: version, actual: current.meta.version });
      }
      if (spec.annotations.name.toLowerCase() !== current.spec.annotations.name.toLowerCase()) {
        throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--name', value: JSON.stringify(spec.annotations.name), reason: 'a service cannot be renamed' });
      }
      if ((spec.global !== undefined) !== (current.spec.global !== undefined)) {
        throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--mode', value: JSON.stringify(spec.global !== undefined ? 'global' : 'replicated'), reason: 'the mode of a service cannot change' });
      }
      checkServicePublishing(tx, current.id, spec, this.portRange);
      // A new spec starts a new update: the last one's status (paused, say) no longer applies.
      // The endpoint stays as allocated until the allocation pass reallocates it for the new spec.
      tx.update('service', { ...current, spec, previousSpec: current.spec, updateStatus: undefined });
      return tx.get('service', current.id)!;
    }));
  }

  /** `service scale NAME=N`: only the replica count changes (no rolling update). */
  async scaleService(ref: string, replicas: number): Promise<Service> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new TsswarmError('SERVICE_INVALID_OPTION', { option: 'the replica count', value: JSON.stringify(replicas), reason: 'it is a whole number, zero or more' });
    }
    return this.store.update((tx) => {
      const current = resolveService(tx, ref);
      if (current.spec.replicated === undefined) throw new TsswarmError('SERVICE_NOT_REPLICATED', { name: current.spec.annotations.name });
      tx.update('service', { ...current, spec: { ...current.spec, replicated: { replicas } } });
      return tx.get('service', current.id)!;
    });
  }

  /** `service rollback`: the previous spec comes back (and the current one becomes previous). */
  async rollbackService(ref: string): Promise<Service> {
    return this.networkWrites(() => this.store.update((tx) => {
      const current = resolveService(tx, ref);
      if (current.previousSpec === undefined) throw new TsswarmError('SERVICE_NO_PREVIOUS_SPEC', { name: current.spec.annotations.name });
      // The previous spec's networks must still exist (a rollback never attaches to nothing).
      const spec = resolveServiceNetworks(tx, this.lifecycle.rollbackSpec(current));
      checkServicePublishing(tx, current.id, spec, this.portRange);
      tx.update('service', {
        ...current, spec, previousSpec: current.spec,
        updateStatus: { state: 'ROLLBACK_STARTED', startedAtMs: Date.now(), completedAtMs: 0, message: 'manually requested rollback' },
      });
      return tx.get('service', current.id)!;
    }));
  }

  async removeServices(refs: readonly string[]): Promise<string[]> {
    // All or nothing: an unknown name among several removes none of them.
    return this.store.update((tx) => {
      const services = refs.map((ref) => resolveService(tx, ref));
      for (const s of services) this.lifecycle.removeService(tx, s);
      return services.map((s) => s.spec.annotations.name);
    });
  }

  /** Tasks for `service ps` / `node ps`, with the nodes they name (for hostnames). */
  async listTasks(filter: TaskFilter, resolveNodeRef: (nodes: readonly Node[], ref: string) => Node): Promise<{ tasks: Task[]; nodes: Node[] }> {
    const wanted = filter.desiredState === '' ? undefined : DESIRED_STATE_FILTERS[filter.desiredState.toLowerCase()];
    if (filter.desiredState !== '' && wanted === undefined) {
      throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--filter desired-state', value: JSON.stringify(filter.desiredState), reason: 'it is one of running, shutdown, accepted' });
    }
    return this.store.viewLinearizable((tx) => {
      const nodes = tx.list('node');
      let tasks = filter.services.length > 0 ? filter.services.flatMap((ref) => tx.tasksByService(resolveService(tx, ref).id)) : tx.list('task');
      if (filter.nodes.length > 0) {
        const ids = new Set(filter.nodes.map((ref) => resolveNodeRef(nodes, ref).id));
        tasks = tasks.filter((t) => ids.has(t.nodeId));
      }
      if (wanted !== undefined) tasks = tasks.filter((t) => wanted.includes(t.desiredState));
      return { tasks, nodes };
    });
  }
}
