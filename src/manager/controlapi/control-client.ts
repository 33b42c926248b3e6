import type { ChannelCredentials, Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { TsswarmError } from '../../errors/index.js';
import { fromServiceError } from './grpc-errors.js';
import { loadControlProto } from './load-proto.js';
import type {
  ControlBackend, GetInfoResponse, GetJoinTokenRequest, GetJoinTokenResponse, GetNodeRequest, GetNodeResponse,
  InitClusterRequest, InitClusterResponse, JoinClusterRequest, JoinClusterResponse, ListNodesResponse,
  GetRootCaRequest, GetRootCaResponse, LeaveClusterRequest, LeaveClusterResponse, ListNodeTasksRequest, ListNodeTasksResponse,
  RemoveNodeRequest, RemoveNodeResponse, SetNodeRoleRequest, SetNodeRoleResponse, UpdateClusterRequest, UpdateClusterResponse,
  UpdateNodeRequest, UpdateNodeResponse,
  CreateServiceRequest, GetServiceRequest, ListServicesResponse, ListTasksRequest, ListTasksResponse, RemoveServicesRequest,
  RemoveServicesResponse, ScaleServiceRequest, ServiceLogLine, ServiceLogsRequest, ServiceResponse, ServiceSummary, UpdateServiceRequest,
  CreateNetworkRequest, GetNetworkRequest, GetNetworkResponse, ListNetworksRequest, ListNetworksResponse, NetworkResponse,
  RemoveNetworksRequest, RemoveNetworksResponse,
} from './messages.js';

type UnaryMethod = (req: unknown, options: { deadline: Date }, cb: (err: ServiceError | null, res: unknown) => void) => void;

export interface ControlClientOptions {
  /** A grpc-js target: `unix:///run/tsswarm/tsswarm.sock` or `host:2377`. */
  readonly target: string;
  readonly credentials: ChannelCredentials;
  readonly channelOptions?: Record<string, string | number>;
  /** ms each call may take; init generates RSA keys and waits for an election. */
  readonly deadlineMs: number;
  /** Turns a failure that carries no TsswarmError (no connection, deadline) into one. */
  readonly transportError: (err: ServiceError) => TsswarmError;
}

/**
 * A typed Control API client: the CLI's way to its daemon, and a daemon's way to the leader.
 * It is itself a ControlBackend, so a follower can serve its socket by forwarding.
 */
export class ControlClient implements ControlBackend {
  private readonly client: Client;

  constructor(private readonly opts: ControlClientOptions) {
    const { ControlClient: Ctor } = loadControlProto();
    this.client = new Ctor(opts.target, opts.credentials, opts.channelOptions ?? {});
  }

  initCluster(req: InitClusterRequest): Promise<InitClusterResponse> {
    return this.call('initCluster', req);
  }
  getInfo(): Promise<GetInfoResponse> {
    return this.call('getInfo', {});
  }
  listNodes(): Promise<ListNodesResponse> {
    return this.call('listNodes', {});
  }
  getNode(req: GetNodeRequest): Promise<GetNodeResponse> {
    return this.call('getNode', req);
  }
  getJoinToken(req: GetJoinTokenRequest): Promise<GetJoinTokenResponse> {
    return this.call('getJoinToken', req);
  }
  joinCluster(req: JoinClusterRequest): Promise<JoinClusterResponse> {
    return this.call('joinCluster', req);
  }

  updateNode(req: UpdateNodeRequest): Promise<UpdateNodeResponse> {
    return this.call('updateNode', req);
  }
  listNodeTasks(req: ListNodeTasksRequest): Promise<ListNodeTasksResponse> {
    return this.call('listNodeTasks', req);
  }
  removeNode(req: RemoveNodeRequest): Promise<RemoveNodeResponse> {
    return this.call('removeNode', req);
  }
  setNodeRole(req: SetNodeRoleRequest): Promise<SetNodeRoleResponse> {
    return this.call('setNodeRole', req);
  }
  leaveCluster(req: LeaveClusterRequest): Promise<LeaveClusterResponse> {
    return this.call('leaveCluster', req);
  }
  updateCluster(req: UpdateClusterRequest): Promise<UpdateClusterResponse> {
    return this.call('updateCluster', req);
  }
  getRootCa(req: GetRootCaRequest): Promise<GetRootCaResponse> {
    return this.call('GetRootCA', req);
  }
  createService(req: CreateServiceRequest): Promise<ServiceResponse> {
    return this.call('createService', req);
  }
  listServices(): Promise<ListServicesResponse> {
    return this.call('listServices', {});
  }
  getService(req: GetServiceRequest): Promise<ServiceSummary> {
    return this.call('getService', req);
  }
  updateService(req: UpdateServiceRequest): Promise<ServiceResponse> {
    return this.call('updateService', req);
  }
  scaleService(req: ScaleServiceRequest): Promise<ServiceResponse> {
    return this.call('scaleService', req);
  }
  rollbackService(req: GetServiceRequest): Promise<ServiceResponse> {
    return this.call('rollbackService', req);
  }
  removeServices(req: RemoveServicesRequest): Promise<RemoveServicesResponse> {
    return this.call('removeServices', req);
  }
  listTasks(req: ListTasksRequest): Promise<ListTasksResponse> {
    return this.call('listTasks', req);
  }
  createNetwork(req: CreateNetworkRequest): Promise<NetworkResponse> {
    return this.call('createNetwork', req);
  }
  listNetworks(req: ListNetworksRequest = {}): Promise<ListNetworksResponse> {
    return this.call('listNetworks', req);
  }
  getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse> {
    return this.call('getNetwork', req);
  }
  removeNetworks(req: RemoveNetworksRequest): Promise<RemoveNetworksResponse> {
    return this.call('removeNetworks', req);
  }

  /** A server stream, without a deadline (`logs -f` runs until the caller aborts). */
  async *serviceLogs(req: ServiceLogsRequest, signal: AbortSignal): AsyncIterable<ServiceLogLine> {
    const open = (this.client as unknown as Record<string, (req: unknown) => ClientReadableStream<ServiceLogLine>>).serviceLogs!;
    const stream = open.call(this.client, req);
    const cancel = (): void => stream.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const line of stream as AsyncIterable<ServiceLogLine>) yield line;
    } catch (err) {
      if (signal.aborted) return;
      const e = err as ServiceError;
      throw fromServiceError(e) ?? this.opts.transportError(e);
    } finally {
      signal.removeEventListener('abort', cancel);
      stream.cancel();
    }
  }

  close(): void {
    this.client.close();
  }

  private call<Res>(method: string, req: unknown): Promise<Res> {
    const fn = (this.client as unknown as Record<string, UnaryMethod>)[method]!.bind(this.client);
    return new Promise<Res>((resolve, reject) => {
      fn(req, { deadline: new Date(Date.now() + this.opts.deadlineMs) }, (err, res) => {
        if (err === null) resolve(res as Res);
        else reject(fromServiceError(err) ?? this.opts.transportError(err));
      });
    });
  }
}
