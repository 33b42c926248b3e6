import type { Network } from './network.js';
import type { Annotations, StoredObject } from './common.js';
import type { Endpoint, PortConfig, TaskSpec } from './service.js';

/** swarmkit's numbering: a task's state only ever grows. */
export const taskStateValues = {
  NEW: 0,
  PENDING: 64,
  ASSIGNED: 192,
  ACCEPTED: 256,
  PREPARING: 320,
  READY: 384,
  STARTING: 448,
  RUNNING: 512,
  COMPLETE: 576,
  SHUTDOWN: 640,
  FAILED: 704,
  REJECTED: 768,
  REMOVE: 800,
  ORPHANED: 832,
} as const;

export type TaskState = keyof typeof taskStateValues;

/** a < b in a task's life (compare states by number, never by name). */
export function taskStateBefore(a: TaskState, b: TaskState): boolean {
  return taskStateValues[a] < taskStateValues[b];
}

export interface ContainerStatus {
  containerId: string;
  pid: number;
  exitCode: number;
  startedAtMs: number;
}

export interface TaskStatus {
  timestampMs: number;
  state: TaskState;
  message: string;
  err: string;
  container?: ContainerStatus;
  portStatus?: { ports: PortConfig[] };
}

export interface NetworkAttachment {
  networkId: string;
  /** CIDRs, e.g. "10.0.1.5/24". */
  addresses: string[];
  aliases: string[];
  /** The network as allocated when the address was (what the worker plumbs). */
  network?: Network;
}

export interface Task extends StoredObject {
  spec: TaskSpec;
  serviceId: string;
  /** 1.. for replicated services, 0 for global ones. */
  slot: number;
  /** "" until scheduled. */
  nodeId: string;
  serviceAnnotations?: Annotations;
  annotations?: Annotations;
  status: TaskStatus;
  desiredState: TaskState;
  networks: NetworkAttachment[];
  endpoint?: Endpoint;
  specVersion: number;
}
