import type { NetworkAttachment } from '../../objects/index.js';

/**
 * What the executor needs of the network: one namespace per task (the dataplane's sandbox).
 * Implemented by DataplaneSandboxes over the real dataplane and, in tests of the layers above,
 * by a recording fake.
 */
export interface EnsureOptions {
  /** An existing namespace to adopt (its nsfs path), when the sandbox does not exist yet. */
  readonly netnsFrom?: string;
  /**
   * The task's overlay endpoints (Task.networks, each with its Network as allocated): one
   * interface per attachment, eth0, eth1, ... in this order, besides the gwbridge's.
   */
  readonly attachments?: readonly NetworkAttachment[];
}

export interface SandboxProvider {
  /**
   * Before anything else after a restart: the tasks whose sandboxes must survive (running
   * tasks that are adopted). Without it the first reconcile would remove their namespaces.
   */
  restore(taskIds: Iterable<string>): void;
  /**
   * Makes (or keeps) the task's sandbox; returns its network namespace (an nsfs path). With
   * `netnsFrom` (a started container's /proc/PID/ns/net) the sandbox adopts that namespace
   * instead of making one, so the container gets the sandbox's interfaces.
   */
  ensure(taskId: string, opts?: EnsureOptions): Promise<string>;
  /** Removes the task's sandbox; idempotent. */
  release(taskId: string): Promise<void>;
}
