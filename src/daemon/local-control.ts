import { TsswarmError } from '../errors/index.js';
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
} from '../manager/controlapi/messages.js';
import { resolveNetworkIn } from '../manager/controlapi/network-control.js';
import type { Network } from '../objects/index.js';
import type { SwarmState } from './daemon-state.js';
import type { LocalNetworkView } from './local-network-view.js';
import type { ManagerRuntime } from './manager-runtime.js';
import type { NodeGossipInfo } from './node-gossip.js';

/** What the local API needs of the daemon that owns it. */
export interface LocalDaemon {
  readonly nodeId: string;
  readonly hostname: string;
  readonly engineVersion: string;
  /** The running manager, if this node is one. */
  manager(): ManagerRuntime | undefined;
  /** Cluster ID if this node is in a swarm. */
  clusterId(): string | undefined;
  init(req: InitClusterRequest): Promise<InitClusterResponse>;
  join(req: JoinClusterRequest): Promise<JoinClusterResponse>;
  leave(req: LeaveClusterRequest): Promise<LeaveClusterResponse>;
  /** The swarm this node is in, if any (a worker's view of it). */
  swarm(): SwarmState | undefined;
  /** What this node's gossip sees, once it runs. */
  gossipInfo(): NodeGossipInfo | undefined;
  /** This node's gossip view of an overlay network; undefined when it has not joined it. */
  networkView(networkId: string): LocalNetworkView | undefined;
  /** The overlay networks this node's tasks are attached to (a worker's knowledge of networks). */
  localNetworks(): Network[];
}


/** ms a call handed on to the leader may take. */
const FORWARD_DEADLINE_MS = 10_000;

/**
 * The Control API on the daemon's unix socket. Init is the daemon's own business; the rest
 * needs a manager. A manager that leads answers from its store; a follower hands the call to
 * the leader over mutual TLS on 2377 (one node always leads itself). Answers that are about
 * "this node" (info's node fields, `node inspect self`) are resolved here, not by the leader.
 */
export class LocalControl implements ControlBackend {
  constructor(private readonly daemon: LocalDaemon) {}

  initCluster(req: InitClusterRequest): Promise<InitClusterResponse> {
    return this.daemon.init(req);
  }

  joinCluster(req: JoinClusterRequest): Promise<JoinClusterResponse> {
    return this.daemon.join(req);
  }

  async getInfo(): Promise<GetInfoResponse> {
    const manager = this.daemon.manager();
    const swarm = this.daemon.swarm();
    if (manager === undefined && swarm !== undefined) {
      // A worker: it knows its identity and cluster (the rest is the managers' business).
      return {
        ...this.inactiveInfo(), localNodeState: 'active', nodeId: this.daemon.nodeId, clusterId: swarm.clusterId,
        nodeAddr: swarm.advertiseAddr.replace(/^\[?(.*?)\]?:\d+$/, '$1'), dataPathAddr: swarm.dataPathAddr, ...this.gossipFields(),
      };
    }
    if (manager === undefined) return this.inactiveInfo();
    const info = await this.route(manager, (b) => b.getInfo());
    const local = await manager.control.localFields();
    return { ...info, ...local, isManager: true, ...this.gossipFields() };
  }

  async listNodes(): Promise<ListNodesResponse> {
    const res = await this.route(this.requireManager('node ls'), (b) => b.listNodes());
    return { ...res, selfId: this.daemon.nodeId };
  }

  async getNode(req: GetNodeRequest): Promise<GetNodeResponse> {
    const ref = req.ref === 'self' ? this.daemon.nodeId : req.ref;
    return this.route(this.requireManager('node inspect'), (b) => b.getNode({ ref }));
  }

  async getJoinToken(req: GetJoinTokenRequest): Promise<GetJoinTokenResponse> {
    return this.route(this.requireManager('join-token'), (b) => b.getJoinToken(req));
  }

  leaveCluster(req: LeaveClusterRequest): Promise<LeaveClusterResponse> {
    return this.daemon.leave(req);
  }

  async updateNode(req: UpdateNodeRequest): Promise<UpdateNodeResponse> {
    const ref = this.selfRef(req.ref);
    return this.route(this.requireManager('node update'), (b) => b.updateNode({ ...req, ref }));
  }

  async listNodeTasks(req: ListNodeTasksRequest): Promise<ListNodeTasksResponse> {
    const refs = req.refs.length === 0 ? [this.daemon.nodeId] : req.refs.map((r) => this.selfRef(r));
    return this.route(this.requireManager('node ps'), (b) => b.listNodeTasks({ refs }));
  }

  async removeNode(req: RemoveNodeRequest): Promise<RemoveNodeResponse> {
    const ref = this.selfRef(req.ref);
    return this.route(this.requireManager('node rm'), (b) => b.removeNode({ ...req, ref }));
  }

  async setNodeRole(req: SetNodeRoleRequest): Promise<SetNodeRoleResponse> {
    const ref = this.selfRef(req.ref);
    return this.route(this.requireManager(req.role === 'manager' ? 'node promote' : 'node demote'), (b) => b.setNodeRole({ ...req, ref }));
  }

  async updateCluster(req: UpdateClusterRequest): Promise<UpdateClusterResponse> {
    return this.route(this.requireManager('update'), (b) => b.updateCluster(req));
  }

  async getRootCa(req: GetRootCaRequest): Promise<GetRootCaResponse> {
    return this.route(this.requireManager('ca'), (b) => b.getRootCa(req));
  }

  // ---- services: answered by the leader, like the node calls ----

  createService(req: CreateServiceRequest): Promise<ServiceResponse> {
    return this.route(this.requireManager('service create'), (b) => b.createService(req));
  }
  listServices(): Promise<ListServicesResponse> {
    return this.route(this.requireManager('service ls'), (b) => b.listServices());
  }
  getService(req: GetServiceRequest): Promise<ServiceSummary> {
    return this.route(this.requireManager('service inspect'), (b) => b.getService(req));
  }
  updateService(req: UpdateServiceRequest): Promise<ServiceResponse> {
    return this.route(this.requireManager('service update'), (b) => b.updateService(req));
  }
  scaleService(req: ScaleServiceRequest): Promise<ServiceResponse> {
    return this.route(this.requireManager('service scale'), (b) => b.scaleService(req));
  }
  rollbackService(req: GetServiceRequest): Promise<ServiceResponse> {
    return this.route(this.requireManager('service rollback'), (b) => b.rollbackService(req));
  }
  removeServices(req: RemoveServicesRequest): Promise<RemoveServicesResponse> {
    return this.route(this.requireManager('service rm'), (b) => b.removeServices(req));
  }
  listTasks(req: ListTasksRequest): Promise<ListTasksResponse> {
    const nodes = req.nodes.map((r) => this.selfRef(r));
    return this.route(this.requireManager('service ps'), (b) => b.listTasks({ ...req, nodes }));
  }

  // ---- networks: answered by the leader; the verbose part of inspect by this node ----

  createNetwork(req: CreateNetworkRequest): Promise<NetworkResponse> {
    return this.route(this.requireManager('network create'), (b) => b.createNetwork(req));
  }
  listNetworks(req: ListNetworksRequest): Promise<ListNetworksResponse> {
    // A worker lists the networks its tasks use, as a Docker worker does.
    if (this.isWorkerInSwarm()) return Promise.resolve({ networks: this.daemon.localNetworks() });
    return this.route(this.requireManager('network ls'), (b) => b.listNetworks(req));
  }
  removeNetworks(req: RemoveNetworksRequest): Promise<RemoveNetworksResponse> {
    return this.route(this.requireManager('network rm'), (b) => b.removeNetworks(req));
  }

  /**
   * The network from the leader; with verbose, the peers and endpoints this node's own gossip
   * sees in it (Docker's "Peers" and "Services" are the answering node's view, never the
   * leader's). A node that has not joined the network shows none.
   */
  async getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse> {
    // A worker knows the networks its tasks use (as allocated), and its own gossip view of them.
    const res = this.isWorkerInSwarm()
      ? { network: resolveNetworkIn(this.daemon.localNetworks(), req.ref), localNodeId: '', peers: [], endpoints: [], services: [] }
      : await this.route(this.requireManager('network inspect'), (b) => b.getNetwork({ ref: req.ref, verbose: false }));
    if (!req.verbose) return res;
    const view = this.daemon.networkView(res.network.id);
    return {
      ...res,
      localNodeId: view?.localNodeId ?? this.daemon.nodeId,
      peers: (view?.peers ?? []).map((p) => ({ nodeId: p.nodeId, addr: p.addr })),
      endpoints: (view?.endpoints ?? []).map((e) => ({ ...e })),
    };
  }

  /** A stream: handed to the leader's broker over 2377 when this manager does not lead. */
  async *serviceLogs(req: ServiceLogsRequest, signal: AbortSignal): AsyncIterable<ServiceLogLine> {
    const manager = this.requireManager('service logs');
    await manager.waitForLeader(FORWARD_DEADLINE_MS);
    const client = manager.leaderClient(FORWARD_DEADLINE_MS);
    try {
      yield* (client ?? manager.control).serviceLogs(req, signal);
    } finally {
      client?.close();
    }
  }

  /** Gossip is per node: this daemon's own view, never the leader's. */
  private gossipFields(): Pick<GetInfoResponse, 'gossipAddr' | 'gossipMembers' | 'gossipDropped' | 'gossipPacketsSent' | 'gossipPacketsReceived' | 'gossipKeys'> {
    const g = this.daemon.gossipInfo();
    if (g === undefined) return { gossipAddr: '', gossipMembers: [], gossipDropped: {}, gossipPacketsSent: 0, gossipPacketsReceived: 0, gossipKeys: 0 };
    return {
      gossipAddr: g.addr,
      gossipMembers: g.members.map((m) => ({ nodeId: m.id, addr: m.addr, state: m.state, incarnation: m.incarnation })),
      gossipDropped: { ...g.dropped },
      gossipPacketsSent: g.packetsSent,
      gossipPacketsReceived: g.packetsReceived,
      gossipKeys: g.keys,
    };
  }

  /** "self" is this daemon's node: resolved here, since the leader is another node. */
  private selfRef(ref: string): string {
    return ref === 'self' ? this.daemon.nodeId : ref;
  }

  private isWorkerInSwarm(): boolean {
    return this.daemon.manager() === undefined && this.daemon.clusterId() !== undefined;
  }

  private requireManager(operation: string): ManagerRuntime {
    const manager = this.daemon.manager();
    if (manager !== undefined) return manager;
    if (this.daemon.clusterId() === undefined) throw new TsswarmError('SWARM_NOT_INITIALIZED', { operation });
    throw new TsswarmError('SWARM_NOT_MANAGER', { operation });
  }

  private async route<T>(manager: ManagerRuntime, fn: (backend: ControlBackend) => Promise<T>): Promise<T> {
    // Just after a restart the group has no leader for an election timeout: wait, don't fail.
    await manager.waitForLeader(FORWARD_DEADLINE_MS);
    const client = manager.leaderClient(FORWARD_DEADLINE_MS);
    if (client === undefined) return fn(manager.control);
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  }

  private inactiveInfo(): GetInfoResponse {
    return {
      localNodeState: 'inactive', nodeId: '', isManager: false, clusterId: '', managers: 0, nodes: 0, nodeAddr: '', managerAddrs: [],
      raftLeaderId: '', raftTerm: 0, raftApplied: 0, raftCommit: 0, defaultAddrPools: [], subnetSize: 0, dataPathPort: 0, dataPathAddr: '',
      dispatcherHeartbeatPeriodMs: 0, nodeCertExpiryMs: 0, taskHistoryRetentionLimit: 0, snapshotInterval: 0, autolockManagers: false,
      rootCaNotAfterMs: 0, nodeCertNotAfterMs: 0, engineVersion: this.daemon.engineVersion, hostname: this.daemon.hostname,
    };
  }
}
