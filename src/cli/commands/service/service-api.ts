import type { GetNetworkRequest, GetNetworkResponse, ListTasksRequest, ServiceLogLine, ServiceSummary } from '../../../manager/controlapi/messages.js';
import type { DeepPartial, Node, Service, ServiceSpec, Task } from '../../../objects/index.js';

export type { ListTasksRequest, ServiceLogLine, ServiceSummary };

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
  /** For `--network-rm NAME`: the stored spec names networks by ID. */
  getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse>;
}
