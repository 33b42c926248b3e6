import type { Annotations, Platform, StoredObject } from './common.js';

export interface HealthConfig {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

export interface RestartPolicy {
  condition: 'ANY' | 'ON_FAILURE' | 'NONE';
  delayMs: number;
  /** 0 = unlimited. */
  maxAttempts: number;
  windowMs: number;
}

export interface Placement {
  constraints: string[];
  preferences: Array<{ spreadDescriptor: string }>;
  maxReplicas: number;
  platforms: Platform[];
}

export interface NetworkAttachmentConfig {
  target: string;
  aliases: string[];
}

export interface TaskSpec {
  runtime: 'PROCESS' | 'DOCKER';
  image: string;
  command: string[];
  args: string[];
  env: string[];
  hostname: string;
  dir: string;
  user: string;
  healthcheck?: HealthConfig;
  restart?: RestartPolicy;
  placement?: Placement;
  stopGracePeriodMs: number;
  networks: NetworkAttachmentConfig[];
  forceUpdate: number;
}

export interface UpdateConfig {
  parallelism: number;
  delayMs: number;
  failureAction: 'PAUSE' | 'CONTINUE' | 'ROLLBACK';
  monitorMs: number;
  maxFailureRatio: number;
  order: 'STOP_FIRST' | 'START_FIRST';
}

export interface PortConfig {
  name: string;
  protocol: 'TCP' | 'UDP';
  targetPort: number;
  publishedPort: number;
  publishMode: 'INGRESS' | 'HOST';
}

export interface EndpointSpec {
  mode: 'VIP' | 'DNSRR';
  ports: PortConfig[];
}

/** Exactly one of replicated / global is set. */
export interface ServiceSpec {
  annotations: Annotations;
  task: TaskSpec;
  replicated?: { replicas: number };
  global?: Record<string, never>;
  update?: UpdateConfig;
  rollback?: UpdateConfig;
  endpoint?: EndpointSpec;
}

export interface VirtualIP {
  networkId: string;
  addr: string;
}

export interface Endpoint {
  spec?: EndpointSpec;
  ports: PortConfig[];
  virtualIps: VirtualIP[];
}

export type UpdateState = 'UNKNOWN' | 'UPDATING' | 'PAUSED' | 'COMPLETED' | 'ROLLBACK_STARTED' | 'ROLLBACK_PAUSED' | 'ROLLBACK_COMPLETED';

export interface UpdateStatus {
  state: UpdateState;
  startedAtMs: number;
  completedAtMs: number;
  message: string;
}

export interface Service extends StoredObject {
  spec: ServiceSpec;
  previousSpec?: ServiceSpec;
  endpoint?: Endpoint;
  updateStatus?: UpdateStatus;
  pendingDelete: boolean;
}
