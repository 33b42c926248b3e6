import type { DeepPartial, Node, Service, ServiceSpec, Task } from '../../../objects/index.js';

/** One `service ls` line's data: the service and its task counts. */
export interface ServiceSummary {
  service: Service;
  running: number;
  desired: number;
}

export interface ListTasksRequest {
  services: string[];
  nodes: string[];
  desiredState: string;
}

/** The service calls of the Control API, as the CLI uses them (ControlClient implements them). */
export interface ServiceApi {
  createService(req: { spec: DeepPartial<ServiceSpec> }): Promise<{ service: Service }>;
  listServices(): Promise<{ services: ServiceSummary[] }>;
  getService(req: { ref: string }): Promise<ServiceSummary>;
  updateService(req: { ref: string; version: number; spec: DeepPartial<ServiceSpec> }): Promise<{ service: Service }>;
  scaleService(req: { ref: string; replicas: number }): Promise<{ service: Service }>;
  rollbackService(req: { ref: string }): Promise<{ service: Service }>;
  removeServices(req: { refs: string[] }): Promise<{ names: string[] }>;
  listTasks(req: ListTasksRequest): Promise<{ tasks: Task[]; nodes: Node[] }>;
  serviceLogs(req: { ref: string; follow: boolean }, signal: AbortSignal): AsyncIterable<ServiceLogLine>;
}

/** One line of `service logs` (or, with `error` set, why a node could not send its part). */
export interface ServiceLogLine {
  taskId: string;
  taskName: string;
  nodeId: string;
  nodeHostname: string;
  stream: string;
  timestampMs: number;
  line: string;
  error: string;
}
