import type { DeepPartial, Network, NetworkSpec, Node, Service, ServiceSpec, Task } from '../store/index.js';

/**
 * TypeScript shapes of proto/control.proto's messages, as loaded by load-proto.ts (camelCase,
 * every field present, enums as names, int64 as number). Keep in step with the .proto file.
 */
export interface InitClusterRequest {
  advertiseAddr: string;
  listenAddr: string;
  dataPathAddr: string;
  dataPathPort: number;
  defaultAddrPools: string[];
  defaultAddrPoolMaskLength: number;
  dispatcherHeartbeat: string;
  certExpiry: string;
  forceNewCluster: boolean;
  autolock: boolean;
}

export interface InitClusterResponse {
  nodeId: string;
  clusterId: string;
  workerToken: string;
  managerAddr: string;
}

export interface GetInfoResponse {
  localNodeState: 'inactive' | 'active';
  nodeId: string;
  isManager: boolean;
  clusterId: string;
  managers: number;
  nodes: number;
  nodeAddr: string;
  managerAddrs: string[];
  raftLeaderId: string;
  raftTerm: number;
  raftApplied: number;
  raftCommit: number;
  defaultAddrPools: string[];
  subnetSize: number;
  dataPathPort: number;
  dataPathAddr: string;
  dispatcherHeartbeatPeriodMs: number;
  nodeCertExpiryMs: number;
  taskHistoryRetentionLimit: number;
  snapshotInterval: number;
  autolockManagers: boolean;
  rootCaNotAfterMs: number;
  nodeCertNotAfterMs: number;
  engineVersion: string;
  hostname: string;
  /** This node's own gossip (filled by the local daemon; absent or empty until gossip runs). */
  gossipAddr?: string;
  gossipMembers?: GossipMemberInfo[];
  /** Packets and frames dropped, by reason (unknown-key, decrypt-failed, not-encrypted, ...). */
  gossipDropped?: Record<string, number>;
  gossipPacketsSent?: number;
  gossipPacketsReceived?: number;
  gossipKeys?: number;
}

/** One member of a node's gossip view. */
export interface GossipMemberInfo {
  nodeId: string;
  addr: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  incarnation: number;
}

export interface ListNodesResponse {
  nodes: Node[];
  selfId: string;
}

export interface GetNodeRequest {
  ref: string;
}

export interface GetNodeResponse {
  node: Node;
}

export type JoinRole = 'worker' | 'manager';

export interface GetJoinTokenRequest {
  role: string;
  rotate: boolean;
}

export interface GetJoinTokenResponse {
  token: string;
  managerAddr: string;
  rotated: boolean;
}

export interface JoinClusterRequest {
  token: string;
  remoteAddr: string;
  advertiseAddr: string;
  listenAddr: string;
  dataPathAddr: string;
}

export interface JoinClusterResponse {
  nodeId: string;
  clusterId: string;
  role: JoinRole;
}

export interface GetRootCACertificateResponse {
  certificate: string;
}

export interface IssueNodeCertificateRequest {
  csr: string;
  token: string;
  role: string;
  advertiseAddr: string;
  hostname: string;
  dataPathAddr: string;
  engineVersion: string;
}

export interface IssueNodeCertificateResponse {
  nodeId: string;
  certificateChain: string;
  clusterId: string;
  role: string;
  managers: RaftMember[];
}

export interface RaftMember {
  id: string;
  addr: string;
  learner: boolean;
}

export interface RaftJoinRequest {
  addr: string;
}

export interface RaftJoinResponse {
  raftId: string;
  members: RaftMember[];
}

export interface UpdateNodeRequest {
  ref: string;
  availability: string;
  labelAdd: string[];
  labelRm: string[];
}

export interface UpdateNodeResponse {
  node: Node;
}

export interface ListNodeTasksRequest {
  refs: string[];
}

export interface ListNodeTasksResponse {
  tasks: Task[];
  nodes: Node[];
}

export interface RemoveNodeRequest {
  ref: string;
  force: boolean;
}

export interface RemoveNodeResponse {
  nodeId: string;
}

export interface SetNodeRoleRequest {
  ref: string;
  role: string;
}

export interface SetNodeRoleResponse {
  nodeId: string;
  changed: boolean;
}

export interface LeaveClusterRequest {
  force: boolean;
}

export type LeaveClusterResponse = Record<string, never>;

export interface UpdateClusterRequest {
  dispatcherHeartbeat: string;
  certExpiry: string;
  autolock: string;
}

export interface UpdateClusterResponse {
  clusterId: string;
}

export interface GetRootCaRequest {
  rotate: boolean;
}

export interface GetRootCaResponse {
  certificate: string;
  rotating: boolean;
}

export interface RenewNodeCertificateRequest {
  csr: string;
}

/**
 * What serves the Control API. The daemon implements it for its local socket (answering
 * itself or handing the call to the leader); a manager implements it on 2377.
 */
export interface ControlBackend {
  initCluster(req: InitClusterRequest): Promise<InitClusterResponse>;
  getInfo(): Promise<GetInfoResponse>;
  listNodes(): Promise<ListNodesResponse>;
  getNode(req: GetNodeRequest): Promise<GetNodeResponse>;
  getJoinToken(req: GetJoinTokenRequest): Promise<GetJoinTokenResponse>;
  joinCluster(req: JoinClusterRequest): Promise<JoinClusterResponse>;
  updateNode(req: UpdateNodeRequest): Promise<UpdateNodeResponse>;
  listNodeTasks(req: ListNodeTasksRequest): Promise<ListNodeTasksResponse>;
  removeNode(req: RemoveNodeRequest): Promise<RemoveNodeResponse>;
  setNodeRole(req: SetNodeRoleRequest): Promise<SetNodeRoleResponse>;
  leaveCluster(req: LeaveClusterRequest): Promise<LeaveClusterResponse>;
  updateCluster(req: UpdateClusterRequest): Promise<UpdateClusterResponse>;
  getRootCa(req: GetRootCaRequest): Promise<GetRootCaResponse>;
  createService(req: CreateServiceRequest): Promise<ServiceResponse>;
  listServices(): Promise<ListServicesResponse>;
  getService(req: GetServiceRequest): Promise<ServiceSummary>;
  updateService(req: UpdateServiceRequest): Promise<ServiceResponse>;
  scaleService(req: ScaleServiceRequest): Promise<ServiceResponse>;
  rollbackService(req: GetServiceRequest): Promise<ServiceResponse>;
  removeServices(req: RemoveServicesRequest): Promise<RemoveServicesResponse>;
  listTasks(req: ListTasksRequest): Promise<ListTasksResponse>;
  /** `service logs`: ends when every node delivered its part (or, with follow, when `signal` aborts). */
  serviceLogs(req: ServiceLogsRequest, signal: AbortSignal): AsyncIterable<ServiceLogLine>;
  createNetwork(req: CreateNetworkRequest): Promise<NetworkResponse>;
  listNetworks(req: ListNetworksRequest): Promise<ListNetworksResponse>;
  getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse>;
  removeNetworks(req: RemoveNetworksRequest): Promise<RemoveNetworksResponse>;
}

// ---- services (proto/control.proto's service messages) ----

export interface CreateServiceRequest {
  spec: DeepPartial<ServiceSpec>;
}

export interface ServiceResponse {
  service: Service;
}

export interface ServiceSummary {
  service: Service;
  running: number;
  desired: number;
}

export interface ListServicesResponse {
  services: ServiceSummary[];
}

export interface GetServiceRequest {
  ref: string;
}

export interface UpdateServiceRequest {
  ref: string;
  version: number;
  spec: DeepPartial<ServiceSpec>;
}

export interface ScaleServiceRequest {
  ref: string;
  replicas: number;
}

export interface RemoveServicesRequest {
  refs: string[];
}

export interface RemoveServicesResponse {
  names: string[];
}

export interface ListTasksRequest {
  services: string[];
  nodes: string[];
  desiredState: string;
}

export interface ListTasksResponse {
  tasks: Task[];
  nodes: Node[];
}

export interface ServiceLogsRequest {
  ref: string;
  follow: boolean;
}

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

// ---- networks (proto/control.proto's network messages) ----

export interface CreateNetworkRequest {
  spec: DeepPartial<NetworkSpec>;
}

export interface NetworkResponse {
  network: Network;
}

export type ListNetworksRequest = Record<string, never>;

export interface ListNetworksResponse {
  networks: Network[];
}

export interface GetNetworkRequest {
  /** ID, name, or unique ID prefix. */
  ref: string;
  /** Also this node's gossip view of the network (filled by the local daemon). */
  verbose: boolean;
}

export interface NetworkPeer {
  nodeId: string;
  /** The node's gossip address. */
  addr: string;
}

export interface NetworkEndpointEntry {
  taskId: string;
  taskName: string;
  serviceId: string;
  serviceName: string;
  ip: string;
  mac: string;
  /** The data-path address of the node running it. */
  vtep: string;
  /** The entry's owner. */
  nodeId: string;
}

export interface GetNetworkResponse {
  network: Network;
  /** Verbose only: the node that answered, the peers it sees in the network, its table's endpoints. */
  localNodeId: string;
  peers: NetworkPeer[];
  endpoints: NetworkEndpointEntry[];
  /** The names of the services attached to the network. */
  services: string[];
}

export interface RemoveNetworksRequest {
  refs: string[];
}

export interface RemoveNetworksResponse {
  names: string[];
}
