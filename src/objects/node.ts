import type { Annotations, Platform, StoredObject } from './common.js';
import type { NetworkAttachment } from './task.js';

export type NodeRole = 'WORKER' | 'MANAGER';
export type NodeAvailability = 'ACTIVE' | 'PAUSE' | 'DRAIN';
export type NodeState = 'UNKNOWN' | 'DOWN' | 'READY' | 'DISCONNECTED';
export type Reachability = 'UNKNOWN' | 'UNREACHABLE' | 'REACHABLE';
export type NodeCertificateState = 'PENDING' | 'ISSUED' | 'FAILED' | 'RENEW' | 'ROTATE';

export interface NodeSpec {
  annotations: Annotations;
  desiredRole: NodeRole;
  availability: NodeAvailability;
}

export interface NodeDescription {
  hostname: string;
  platform?: Platform;
  addresses: string[];
  engineVersion: string;
  resources?: Resources;
  /** `engine.labels.*` in placement constraints. */
  engineLabels: Record<string, string>;
}

export interface Resources {
  /** CPUs x 1e9, as Docker counts them. */
  nanoCpus: number;
  memoryBytes: number;
}

export interface NodeStatus {
  state: NodeState;
  message: string;
  addr: string;
}

export interface ManagerStatus {
  raftId: string;
  addr: string;
  leader: boolean;
  reachability: Reachability;
}

export interface NodeCertificate {
  state: NodeCertificateState;
  err: string;
  certPem: string;
  csrPem: string;
  cn: string;
}

export interface Node extends StoredObject {
  spec: NodeSpec;
  description?: NodeDescription;
  status?: NodeStatus;
  /** Only while the node is a manager. */
  managerStatus?: ManagerStatus;
  certificate?: NodeCertificate;
  role: NodeRole;
  /**
   * The node's own overlay addresses, from the leader's allocation pass: its load-balancer
   * address on the ingress network (the routing mesh), with the Network as allocated.
   */
  attachments: NetworkAttachment[];
}
