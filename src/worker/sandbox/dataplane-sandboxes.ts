import { join } from 'node:path';
import { TsswarmError } from '../../errors/index.js';
import type { Network, NetworkAttachment } from '../../objects/index.js';
import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import type { DataplaneConfig, DesiredState, EndpointSpec, NetworkSpec, SandboxSpec } from '../../dataplane/model.js';
import { sandboxNs, validId } from '../../dataplane/naming.js';
import type { ReconcileReport } from '../../dataplane/reconciler.js';
import { NO_NETWORKING, networkConflict, nodeNetworks, taskNetworking, type TaskNetworking } from './attachment-specs.js';
import type { EndpointOwner, EnsureOptions, SandboxDetails, SandboxProvider } from './sandbox-provider.js';

/** The part of src/dataplane this adapter uses (its public API: config + reconciler). */
export interface DataplaneHandle {
  readonly config: Pick<DataplaneConfig, 'runDir'>;
  readonly reconciler: { reconcile(desired: DesiredState): Promise<ReconcileReport> };
}

/** What the node's tasks want of the dataplane: their sandboxes and the overlays they attach to. */
export interface LocalDesired {
  readonly sandboxes: readonly SandboxSpec[];
  readonly networks: readonly NetworkSpec[];
  /** Which of the sandboxes is the node's ingress sandbox (Docker's ingress_sbox), if any. */
  readonly ingressSandbox?: string;
}

/** An endpoint of a local sandbox, as the node publishes it to the network's peers. */
export interface LocalEndpoint extends EndpointSpec {
  readonly taskId: string;
  readonly owner?: EndpointOwner;
}

/** Turns the local part into the node's whole desired state (the daemon adds remote endpoints). */
export type ComposeDesired = (local: LocalDesired) => DesiredState;

/**
 * A task's sandbox spec: its overlay endpoints (eth0.. in attachment order), and `gateway:
 * true`, so the task reaches outside through docker_gwbridge as a Docker container does.
 */
export function taskSandboxSpec(taskId: string, netnsFrom?: string, endpoints: readonly EndpointSpec[] = []): SandboxSpec {
  return { id: taskId, endpoints, gateway: true, ...(netnsFrom !== undefined ? { netnsFrom } : {}) };
}

interface Held {
  /** The namespace it adopted (undefined: its own). Matters only until the sandbox exists: a
   * restored task's sandbox file is already there and is kept as it is. */
  readonly netnsFrom: string | undefined;
  readonly networking: TaskNetworking;
  readonly owner: EndpointOwner | undefined;
  /** The Network objects of its attachments, as the managers allocated them. */
  readonly networkObjects: readonly Network[];
}

function networkObjectsOf(attachments: readonly NetworkAttachment[] | undefined): Network[] {
  return (attachments ?? []).flatMap((a) => (a.network !== undefined ? [a.network] : []));
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Keeps the node's desired sandboxes (with their overlay endpoints) and reconciles them
 * through the dataplane, one reconcile at a time (the reconciler is not reentrant). Never
 * touches the kernel itself. `compose` merges them into the node's one desired state; the
 * daemon calls `refresh()` when what it adds there (remote endpoints) changed, and follows
 * `onChange` / `localEndpoints()` to publish the local endpoints.
 */
export class DataplaneSandboxes implements SandboxProvider {
  private readonly held = new Map<string, Held>();
  private readonly listeners = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly compose: ComposeDesired;
  /** The node's ingress sandbox: its ID (held beside the tasks') and the attachment it was made for. */
  private ingress: { readonly id: string; readonly key: string } | undefined;

  constructor(
    private readonly dataplane: DataplaneHandle,
    opts: { logger?: Logger; compose?: ComposeDesired } = {},
  ) {
    this.log = opts.logger ?? silentLogger();
    this.compose = opts.compose ?? ((local) => ({ networks: local.networks, sandboxes: local.sandboxes, remotes: [] }));
  }

  restore(taskIds: Iterable<string>, details: ReadonlyMap<string, SandboxDetails> = new Map()): void {
    let changed = false;
    for (const id of taskIds) {
      if (!validId(id) || this.held.has(id)) continue;
      const d = details.get(id);
      const check = taskNetworking(d?.attachments ?? []);
      // Accepted before the restart; a record that no longer passes keeps its namespace without endpoints.
      if (!check.ok) this.log.warn({ taskId: id, networkId: check.networkId, reason: check.reason }, 'restored task keeps no overlay endpoints');
      this.held.set(id, { netnsFrom: undefined, networking: check.ok ? check.value : NO_NETWORKING, owner: d?.owner, networkObjects: check.ok ? networkObjectsOf(d?.attachments) : [] });
      changed = true;
    }
    const { conflicts } = this.plumbed();
    for (const [taskId, reason] of conflicts) this.log.warn({ taskId, reason }, 'restored task loses an endpoint to a conflicting network');
    if (changed) this.changed();
  }

  /** The sandboxes and networks this node wants now. */
  desiredLocal(): LocalDesired {
    const { networks, endpoints } = this.plumbed();
    const sandboxes = [...this.held].map(([id, h]) => taskSandboxSpec(id, h.netnsFrom, endpoints.get(id) ?? [])).sort(byId);
    return { sandboxes, networks, ...(this.ingress !== undefined ? { ingressSandbox: this.ingress.id } : {}) };
  }

  /**
   * The node's own address on the ingress network (its Node.attachments entry, from the
   * managers) gets the node's ingress sandbox `sandboxId`, which the routing mesh goes
   * through (Docker's ingress_sbox); undefined removes it. Reconciles when it changed; an
   * attachment that cannot be plumbed is refused with TASK_NETWORK_ATTACHMENT_INVALID and
   * changes nothing.
   */
  setIngress(sandboxId: string, attachment: NetworkAttachment | undefined): Promise<ReconcileReport | undefined> {
    return this.serialize(async () => {
      const key = attachment === undefined ? '' : JSON.stringify(attachment);
      if ((this.ingress?.key ?? '') === key && (attachment === undefined || this.ingress?.id === sandboxId)) return undefined;
      if (attachment !== undefined) {
        const networking = this.checkAttachments(sandboxId, { attachments: [attachment] });
        if (this.ingress !== undefined && this.ingress.id !== sandboxId) this.held.delete(this.ingress.id);
        this.held.set(sandboxId, { netnsFrom: undefined, networking, owner: undefined, networkObjects: networkObjectsOf([attachment]) });
        this.ingress = { id: sandboxId, key };
      } else {
        if (this.ingress !== undefined) this.held.delete(this.ingress.id);
        this.ingress = undefined;
      }
      this.changed();
      const report = await this.dataplane.reconciler.reconcile(this.compose(this.desiredLocal()));
      if (report.errors.length > 0) this.log.warn({ errors: report.errors.slice(0, 10), count: report.errors.length }, 'ingress sandbox reconcile left errors');
      return report;
    });
  }

  /** The sandboxes this node wants now, for the daemon's own reconciles. */
  desiredSandboxes(): SandboxSpec[] {
    return [...this.desiredLocal().sandboxes];
  }

  /** Every overlay endpoint of the desired sandboxes, by task then interface order. */
  localEndpoints(): LocalEndpoint[] {
    const { endpoints } = this.plumbed();
    const out: LocalEndpoint[] = [];
    for (const id of [...this.held.keys()].sort()) {
      const owner = this.held.get(id)?.owner;
      for (const ep of endpoints.get(id) ?? []) out.push({ ...ep, taskId: id, ...(owner !== undefined ? { owner } : {}) });
    }
    return out;
  }

  /**
   * The overlay networks this node's tasks are attached to, as the managers allocated them
   * (one per ID, sorted by ID): what a worker knows of networks (`network ls|inspect` there).
   */
  localNetworks(): Network[] {
    const byNetworkId = new Map<string, Network>();
    for (const h of this.held.values()) for (const n of h.networkObjects) if (!byNetworkId.has(n.id)) byNetworkId.set(n.id, n);
    return [...byNetworkId.values()].sort(byId);
  }

  /** Called (synchronously) whenever the desired sandboxes or their endpoints change. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  netnsPath(taskId: string): string {
    return join(this.dataplane.config.runDir, 'netns', sandboxNs(taskId));
  }

  ensure(taskId: string, opts: EnsureOptions = {}): Promise<string> {
    if (!validId(taskId)) return Promise.reject(new TsswarmError('TASK_SANDBOX_FAILED', { taskId, reason: 'the task ID cannot name a namespace' }));
    return this.serialize(async () => {
      const before = this.held.get(taskId);
      const networking = opts.attachments !== undefined ? this.checkAttachments(taskId, opts) : (before?.networking ?? NO_NETWORKING);
      this.held.set(taskId, {
        netnsFrom: opts.netnsFrom ?? before?.netnsFrom,
        networking,
        owner: opts.owner ?? before?.owner,
        networkObjects: opts.attachments !== undefined ? networkObjectsOf(opts.attachments) : (before?.networkObjects ?? []),
      });
      this.changed();
      const report = await this.dataplane.reconciler.reconcile(this.compose(this.desiredLocal()));
      const missing = networking.networks.map((n) => n.id).filter((id) => !report.reached.networks.includes(id));
      if (!report.reached.sandboxes.includes(taskId) || missing.length > 0) {
        const mine = new Set([`sandbox:${taskId}`, ...missing.map((id) => `network:${id}`)]);
        const reason = report.errors.filter((e) => mine.has(e.item)).map((e) => `${e.item}: ${`${e.op ?? ''} ${e.error}`.trim()}`).join('; ');
        throw new TsswarmError('TASK_SANDBOX_FAILED', { taskId, reason: reason !== '' ? reason : 'the dataplane did not reach it' });
      }
      return this.netnsPath(taskId);
    });
  }

  release(taskId: string): Promise<void> {
    return this.serialize(async () => {
      if (!this.held.delete(taskId)) return;
      this.changed();
      const report = await this.dataplane.reconciler.reconcile(this.compose(this.desiredLocal()));
      const errs = report.errors.filter((e) => e.item === `sandbox:${taskId}`);
      // The next reconcile retries the removal; the task is gone either way.
      if (errs.length > 0) this.log.warn({ taskId, errors: errs }, 'sandbox not fully removed');
    });
  }

  /**
   * Reconciles again with what compose() gives now (remote endpoints changed), in turn with
   * ensure and release. Failures are logged and reported; the next call retries them.
   */
  refresh(): Promise<ReconcileReport> {
    return this.serialize(async () => {
      const report = await this.dataplane.reconciler.reconcile(this.compose(this.desiredLocal()));
      if (report.errors.length > 0) this.log.warn({ errors: report.errors.slice(0, 10), count: report.errors.length }, 'dataplane refresh left errors');
      return report;
    });
  }

  /** The attachments as specs, or TASK_NETWORK_ATTACHMENT_INVALID naming the first problem. */
  private checkAttachments(taskId: string, opts: EnsureOptions): TaskNetworking {
    const check = taskNetworking(opts.attachments ?? []);
    if (!check.ok) throw new TsswarmError('TASK_NETWORK_ATTACHMENT_INVALID', { taskId, networkId: check.networkId, reason: check.reason });
    const others = nodeNetworks([...this.held].filter(([id]) => id !== taskId).map(([id, h]) => [id, h.networking] as const)).networks;
    for (const net of check.value.networks) {
      const why = networkConflict(net, others);
      if (why !== undefined) throw new TsswarmError('TASK_NETWORK_ATTACHMENT_INVALID', { taskId, networkId: net.id, reason: why });
    }
    const local = this.localEndpoints().filter((ep) => ep.taskId !== taskId);
    for (const ep of check.value.endpoints) {
      const twin = local.find((o) => o.network === ep.network && o.ip === ep.ip);
      if (twin !== undefined) throw new TsswarmError('TASK_NETWORK_ATTACHMENT_INVALID', { taskId, networkId: ep.network, reason: `address ${ep.ip} is task ${twin.taskId}'s on this node` });
    }
    return check.value;
  }

  private plumbed(): ReturnType<typeof nodeNetworks> {
    return nodeNetworks([...this.held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, h]) => [id, h.networking] as const));
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.log.error({ err }, 'sandbox change listener threw');
      }
    }
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
