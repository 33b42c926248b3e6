import type { PublishedPortSpec } from '../../dataplane/model.js';
import type { NetworkAttachment } from '../../objects/index.js';

/**
 * Who a sandbox's endpoints belong to, as the node publishes them (`network inspect
 * --verbose`), with what the other nodes balance on: the service's VIP on each network and
 * its ingress-published ports (from Task.endpoint, as the managers allocated them).
 */
export interface EndpointOwner {
  readonly taskName: string;
  readonly serviceId: string;
  readonly serviceName: string;
  /** The service's VIP (an address, no prefix) per network ID; none for dnsrr services. */
  readonly vips?: ReadonlyArray<{ readonly network: string; readonly ip: string }>;
  /** The service's ports published through the routing mesh (ingress mode). */
  readonly ports?: readonly PublishedPortSpec[];
}

/** What a sandbox carries besides its namespace: also what a restarted daemon restores. */
export interface SandboxDetails {
  /**
   * The task's overlay endpoints (Task.networks, each with its Network as allocated): one
   * interface per attachment, eth0, eth1, ... in this order, besides the gwbridge's.
   */
  readonly attachments?: readonly NetworkAttachment[];
  readonly owner?: EndpointOwner;
}

export interface EnsureOptions extends SandboxDetails {
  /** An existing namespace to adopt (its nsfs path), when the sandbox does not exist yet. */
  readonly netnsFrom?: string;
}

/**
 * What the executor needs of the network: one namespace per task (the dataplane's sandbox).
 * Implemented by DataplaneSandboxes over the real dataplane and, in tests of the layers above,
 * by a recording fake.
 */
export interface SandboxProvider {
  /**
   * Before anything else after a restart: the tasks whose sandboxes must survive (running
   * tasks that are adopted). Without it the first reconcile would remove their namespaces.
   * `details` gives a task's attachments (and owner) so its overlay endpoints survive too;
   * a task without details keeps a sandbox without endpoints.
   */
  restore(taskIds: Iterable<string>, details?: ReadonlyMap<string, SandboxDetails>): void;
  /**
   * Makes (or keeps) the task's sandbox; returns its network namespace (an nsfs path). With
   * `netnsFrom` (a started container's /proc/PID/ns/net) the sandbox adopts that namespace
   * instead of making one, so the container gets the sandbox's interfaces. `attachments`
   * undefined keeps what the sandbox had; a bad attachment rejects with
   * TASK_NETWORK_ATTACHMENT_INVALID and changes nothing.
   */
  ensure(taskId: string, opts?: EnsureOptions): Promise<string>;
  /** Removes the task's sandbox; idempotent. */
  release(taskId: string): Promise<void>;
}
