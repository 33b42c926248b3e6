import type { NetworkAttachment } from '../../objects/index.js';

/** Who a sandbox's endpoints belong to, as the node publishes them (`network inspect --verbose`). */
export interface EndpointOwner {
  readonly taskName: string;
  readonly serviceId: string;
  readonly serviceName: string;
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
