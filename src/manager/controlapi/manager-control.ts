import { X509Certificate } from 'node:crypto';
import { TsswarmError } from '../../errors/index.js';
import { rotateJoinToken } from '../ca/index.js';
import type { RaftNodeStatus } from '../raft/node/index.js';
import type { Cluster, MemoryStore } from '../store/index.js';
import { updateWithRetry } from '../store/index.js';
import type {
  ControlBackend, GetInfoResponse, GetJoinTokenRequest, GetJoinTokenResponse, GetNodeRequest, GetNodeResponse,
  InitClusterResponse, JoinClusterResponse, JoinRole, ListNodesResponse,
  GetRootCaRequest, GetRootCaResponse, LeaveClusterResponse, ListNodeTasksRequest, ListNodeTasksResponse, RemoveNodeRequest,
  RemoveNodeResponse, SetNodeRoleRequest, SetNodeRoleResponse, UpdateClusterRequest, UpdateClusterResponse, UpdateNodeRequest,
  UpdateNodeResponse,
  CreateServiceRequest, GetServiceRequest, ListServicesResponse, ListTasksRequest, ListTasksResponse, RemoveServicesRequest,
  RemoveServicesResponse, ScaleServiceRequest, ServiceLogLine, ServiceLogsRequest, ServiceResponse, ServiceSummary, UpdateServiceRequest,
  CreateNetworkRequest, GetNetworkRequest, GetNetworkResponse, ListNetworksResponse, NetworkResponse, RemoveNetworksRequest,
  RemoveNetworksResponse,
} from './messages.js';
import { NetworkControl } from './network-control.js';
import { rotationInProgress, startRootRotation } from './ca-rotation.js';
import { updatedClusterSpec } from './cluster-changes.js';
import { checkRemovable, checkRemovalKeepsQuorum, parseNodeRole, updatedNodeSpec } from './node-changes.js';
import { serviceLogs, type LogSubscriber } from './service-logs.js';
import { ServiceControl, type ServiceLifecycle } from './service-control.js';
import { resolveNode, withLiveManagerStatus } from './node-lookup.js';

/** What this manager knows about itself that is not in the store. */
export interface ManagerSelf {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly hostname: string;
  readonly engineVersion: string;
  /** The address workers and managers use for this node (its advertise address, no port). */
  readonly nodeAddr: string;
  readonly dataPathAddr: string;
  readonly nodeCertNotAfterMs: number;
}

/** What demote needs of Raft beyond its status (the leader's side of membership). */
export interface MembershipOps {
  removeMember(id: string): Promise<void>;
  transferLeadership(to: string): Promise<void>;
  /** Whether the member at addr answers now (a short-deadline call over mTLS). */
  probe(addr: string): Promise<boolean>;
  /** The Control API of the leader now, for a call this manager can no longer serve itself. */
  leaderBackend(): Promise<{ backend: ControlBackend; close(): void }>;
}

export interface ManagerControlDeps {
  readonly store: MemoryStore;
  readonly raft: { status(): RaftNodeStatus };
  readonly self: ManagerSelf;
  readonly membership?: MembershipOps;
  /** Raft members whose last probe went unanswered (node ls shows them Unreachable). */
  readonly unreachableMembers?: () => ReadonlySet<string>;
  /** The orchestrators' decisions the service calls need (placement grammar, removal, rollback). */
  readonly serviceLifecycle: ServiceLifecycle;
  /** The leader's log broker, for `service logs`. */
  readonly subscribeLogs: LogSubscriber;
}

export function parseJoinRole(role: string): JoinRole {
  if (role === 'worker' || role === 'manager') return role;
  throw new TsswarmError('SWARM_INVALID_OPTION', { option: 'the role', value: JSON.stringify(role), reason: 'join tokens exist for "worker" and "manager" only' });
}

/**
 * The Control API as a manager answers it, from the replicated store (read after a Raft read
 * index, so what it says is committed) and from its Raft status. Writes go through the store,
 * i.e. through Raft. Stateless itself: safe to build per leader term.
 */
export class ManagerControl implements ControlBackend {
  private readonly services: ServiceControl;
  private readonly networks: NetworkControl;

  constructor(private readonly deps: ManagerControlDeps) {
    this.networks = new NetworkControl(deps.store);
    this.services = new ServiceControl(deps.store, deps.serviceLifecycle, (fn) => this.networks.serialize(fn));
  }

  // ---- networks: the store's network calls (network-control.ts) ----

  async createNetwork(req: CreateNetworkRequest): Promise<NetworkResponse> {
    return { network: await this.networks.createNetwork(req.spec) };
  }
  async listNetworks(): Promise<ListNetworksResponse> {
    return { networks: await this.networks.listNetworks() };
  }
  /** The local daemon fills the verbose part (this node's gossip view) itself. */
  async getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse> {
    const { network, services } = await this.networks.getNetwork(req.ref);
    return { network, services, localNodeId: '', peers: [], endpoints: [] };
  }
  async removeNetworks(req: RemoveNetworksRequest): Promise<RemoveNetworksResponse> {
    return { names: await this.networks.removeNetworks(req.refs) };
  }

  // ---- services: the store's service calls (service-control.ts) ----

  async createService(req: CreateServiceRequest): Promise<ServiceResponse> {
    return { service: await this.services.createService(req.spec) };
  }
  async listServices(): Promise<ListServicesResponse> {
    return { services: await this.services.listServices() };
  }
  getService(req: GetServiceRequest): Promise<ServiceSummary> {
    return this.services.getService(req.ref);
  }
  async updateService(req: UpdateServiceRequest): Promise<ServiceResponse> {
    return { service: await this.services.updateService(req.ref, req.version, req.spec) };
  }
  async scaleService(req: ScaleServiceRequest): Promise<ServiceResponse> {
    return { service: await this.services.scaleService(req.ref, req.replicas) };
  }
  async rollbackService(req: GetServiceRequest): Promise<ServiceResponse> {
    return { service: await this.services.rollbackService(req.ref) };
  }
  async removeServices(req: RemoveServicesRequest): Promise<RemoveServicesResponse> {
    return { names: await this.services.removeServices(req.refs) };
  }
  listTasks(req: ListTasksRequest): Promise<ListTasksResponse> {
    return this.services.listTasks(req, resolveNode);
  }
  serviceLogs(req: ServiceLogsRequest, signal: AbortSignal): AsyncIterable<ServiceLogLine> {
    return serviceLogs(this.deps.store, this.deps.subscribeLogs, req, signal);
  }

  initCluster(): Promise<InitClusterResponse> {
    return Promise.reject(new TsswarmError('SWARM_ALREADY_INITIALIZED', { clusterId: this.deps.self.clusterId }));
  }

  joinCluster(): Promise<JoinClusterResponse> {
    return Promise.reject(new TsswarmError('SWARM_ALREADY_INITIALIZED', { clusterId: this.deps.self.clusterId }));
  }

  async getInfo(): Promise<GetInfoResponse> {
    const { nodes, cluster } = await this.deps.store.viewLinearizable((tx) => ({ nodes: tx.list('node'), cluster: tx.list('cluster')[0] }));
    const raft = this.deps.raft.status();
    const self = this.deps.self;
    return {
      localNodeState: 'active',
      nodeId: self.nodeId,
      isManager: true,
      clusterId: cluster?.id ?? self.clusterId,
      managers: nodes.filter((n) => n.role === 'MANAGER').length,
      nodes: nodes.length,
      nodeAddr: self.nodeAddr,
      managerAddrs: raft.members.filter((m) => !m.learner).map((m) => m.addr).sort(),
      raftLeaderId: raft.leaderId,
      raftTerm: raft.term,
      raftApplied: raft.applied,
      raftCommit: raft.commit,
      defaultAddrPools: cluster?.defaultAddressPools ?? [],
      subnetSize: cluster?.subnetSize ?? 0,
      dataPathPort: cluster?.dataPathPort ?? 0,
      dataPathAddr: self.dataPathAddr,
      dispatcherHeartbeatPeriodMs: cluster?.spec.dispatcherHeartbeatPeriodMs ?? 0,
      nodeCertExpiryMs: cluster?.spec.nodeCertExpiryMs ?? 0,
      taskHistoryRetentionLimit: cluster?.spec.taskHistoryRetentionLimit ?? 0,
      snapshotInterval: cluster?.spec.snapshotInterval ?? 0,
      autolockManagers: cluster?.spec.autolockManagers ?? false,
      rootCaNotAfterMs: cluster?.rootCa?.caCertPem ? Date.parse(new X509Certificate(cluster.rootCa.caCertPem).validTo) : 0,
      nodeCertNotAfterMs: self.nodeCertNotAfterMs,
      engineVersion: self.engineVersion,
      hostname: self.hostname,
    };
  }

  async listNodes(): Promise<ListNodesResponse> {
    const nodes = await this.deps.store.viewLinearizable((tx) => tx.list('node'));
    const raft = this.deps.raft.status();
    return { nodes: nodes.map((n) => withLiveManagerStatus(n, raft, this.unreachable())), selfId: this.deps.self.nodeId };
  }

  async getNode(req: GetNodeRequest): Promise<GetNodeResponse> {
    const ref = req.ref === 'self' ? this.deps.self.nodeId : req.ref;
    const nodes = await this.deps.store.viewLinearizable((tx) => tx.list('node'));
    return { node: withLiveManagerStatus(resolveNode(nodes, ref), this.deps.raft.status(), this.unreachable()) };
  }

  async getJoinToken(req: GetJoinTokenRequest): Promise<GetJoinTokenResponse> {
    const role = parseJoinRole(req.role);
    const which = role === 'manager' ? 'swarm-manager' : 'swarm-worker';
    let cluster: Cluster;
    if (req.rotate) {
      cluster = await this.deps.store.update((tx) => {
        const current = this.requireCluster(tx.list('cluster')[0]);
        const tokens = rotateJoinToken(current.joinTokens ?? { worker: '', manager: '' }, which);
        const next = { ...current, joinTokens: { ...tokens } };
        tx.update('cluster', next);
        return next;
      });
    } else {
      cluster = this.requireCluster(await this.deps.store.viewLinearizable((tx) => tx.list('cluster')[0]));
    }
    const token = cluster.joinTokens?.[role] ?? '';
    return { token, managerAddr: this.selfManagerAddr(), rotated: req.rotate };
  }

  async updateNode(req: UpdateNodeRequest): Promise<UpdateNodeResponse> {
    const node = await updateWithRetry(this.deps.store, (tx) => {
      const current = resolveNode(tx.list('node'), req.ref);
      const next = { ...current, spec: updatedNodeSpec(current, req) };
      tx.update('node', next);
      return next;
    });
    return { node: withLiveManagerStatus(node, this.deps.raft.status(), this.unreachable()) };
  }

  async listNodeTasks(req: ListNodeTasksRequest): Promise<ListNodeTasksResponse> {
    return this.deps.store.viewLinearizable((tx) => {
      const all = tx.list('node');
      const refs = req.refs.length === 0 ? [this.deps.self.nodeId] : req.refs;
      const nodes = refs.map((r) => resolveNode(all, r === 'self' ? this.deps.self.nodeId : r));
      const ids = new Set(nodes.map((n) => n.id));
      return { tasks: tx.list('task').filter((t) => ids.has(t.nodeId)), nodes };
    });
  }

  /**
   * `node rm`: the Node object goes and its ID joins the cluster's removed list in the same
   * transaction, so from the moment it commits every manager refuses its certificate.
   */
  async removeNode(req: RemoveNodeRequest): Promise<RemoveNodeResponse> {
    const nodeId = await updateWithRetry(this.deps.store, (tx) => {
      const node = resolveNode(tx.list('node'), req.ref);
      checkRemovable(node, req.force);
      const cluster = this.requireCluster(tx.list('cluster')[0]);
      const removed = new Set(cluster.removedNodeIds ?? []);
      removed.add(node.id);
      tx.delete('node', node.id);
      tx.update('cluster', { ...cluster, removedNodeIds: [...removed].sort() });
      return node.id;
    });
    return { nodeId };
  }

  /**
   * `node promote|demote` (swarmkit's roleManager, done in the call). Promote records the
   * role; the node renews its certificate as a manager and joins Raft itself. Demote first
   * checks that the voters left keep a reachable quorum, hands leadership away if the leader
   * is being demoted, records the role, then removes the member from Raft (its daemon sees
   * that and becomes a worker).
   */
  async setNodeRole(req: SetNodeRoleRequest): Promise<SetNodeRoleResponse> {
    const role = parseNodeRole(req.role);
    const nodes = await this.deps.store.viewLinearizable((tx) => tx.list('node'));
    const node = resolveNode(nodes, req.ref === 'self' ? this.deps.self.nodeId : req.ref);
    if (node.spec.desiredRole === role && node.role === role) return { nodeId: node.id, changed: false };
    if (role === 'MANAGER') {
      const cluster = this.requireCluster(await this.deps.store.viewLinearizable((tx) => tx.list('cluster')[0]));
      if (cluster.demotedNodeIds?.includes(node.id) === true) throw new TsswarmError('PROMOTE_FORMER_MANAGER', { nodeId: node.id });
      await updateWithRetry(this.deps.store, (tx) => {
        const current = resolveNode(tx.list('node'), node.id);
        tx.update('node', { ...current, role: 'MANAGER', spec: { ...current.spec, desiredRole: 'MANAGER' } });
      });
      return { nodeId: node.id, changed: true };
    }
    const ops = this.requireMembership();
    const raft = this.deps.raft.status();
    const voters = raft.members.filter((m) => !m.learner);
    const isMember = raft.members.some((m) => m.id === node.id);
    if (isMember) {
      const reachable = new Set<string>([raft.id]);
      await Promise.all(voters.filter((m) => m.id !== raft.id).map(async (m) => {
        if (await ops.probe(m.addr)) reachable.add(m.id);
      }));
      checkRemovalKeepsQuorum(node.id, { voters: voters.map((m) => m.id), reachable });
      if (node.id === raft.id) {
        // The leader cannot remove itself and keep leading the change: hand leadership to a
        // reachable voter, and let the new leader do the demotion.
        const heir = voters.find((m) => m.id !== raft.id && reachable.has(m.id))!;
        await ops.transferLeadership(heir.id);
        const leader = await ops.leaderBackend();
        try {
          return await leader.backend.setNodeRole(req);
        } finally {
          leader.close();
        }
      }
    }
    await updateWithRetry(this.deps.store, (tx) => {
      const current = resolveNode(tx.list('node'), node.id);
      const { managerStatus: _dropped, ...rest } = current;
      tx.update('node', { ...rest, role: 'WORKER', spec: { ...current.spec, desiredRole: 'WORKER' } });
      if (isMember) {
        const cluster = this.requireCluster(tx.list('cluster')[0]);
        tx.update('cluster', { ...cluster, demotedNodeIds: [...new Set([...(cluster.demotedNodeIds ?? []), node.id])].sort() });
      }
    });
    if (isMember) {
      try {
        await ops.removeMember(node.id);
      } catch (err) {
        throw new TsswarmError('NODE_ROLE_CHANGE_FAILED', { nodeId: node.id, role: 'worker', reason: `the Raft removal failed: ${err instanceof Error ? err.message : String(err)}` }, { cause: err });
      }
    }
    return { nodeId: node.id, changed: true };
  }

  leaveCluster(): Promise<LeaveClusterResponse> {
    return Promise.reject(new TsswarmError('INTERNAL', { detail: 'LeaveCluster is served on the local socket only' }));
  }

  async updateCluster(req: UpdateClusterRequest): Promise<UpdateClusterResponse> {
    const clusterId = await updateWithRetry(this.deps.store, (tx) => {
      const cluster = this.requireCluster(tx.list('cluster')[0]);
      tx.update('cluster', { ...cluster, spec: updatedClusterSpec(cluster.spec, req) });
      return cluster.id;
    });
    return { clusterId };
  }

  /**
   * `ca`: the root nodes are moving to (the current one outside a rotation). `--rotate`
   * starts a cross-signed rotation (ca-rotation.ts); the daemons drive the rest.
   */
  async getRootCa(req: GetRootCaRequest): Promise<GetRootCaResponse> {
    let cluster = this.requireCluster(await this.deps.store.viewLinearizable((tx) => tx.list('cluster')[0]));
    if (req.rotate) {
      // The new root's key is made outside the transaction (it takes a while); the write
      // then checks that nobody changed the Cluster meanwhile (its version).
      const next = await startRootRotation(cluster, new Date());
      cluster = await this.deps.store.update((tx) => {
        tx.update('cluster', next);
        return next;
      });
    }
    const pem = rotationInProgress(cluster) ? cluster.rootCa!.nextCaCertPem : cluster.rootCa?.caCertPem ?? '';
    return { certificate: pem, rotating: rotationInProgress(cluster) };
  }

  private unreachable(): ReadonlySet<string> {
    return this.deps.unreachableMembers?.() ?? new Set();
  }

  private requireMembership(): MembershipOps {
    if (this.deps.membership === undefined) throw new TsswarmError('INTERNAL', { detail: 'this manager has no membership operations wired' });
    return this.deps.membership;
  }

  /** The fields of an info answer that describe this manager itself (kept when forwarding). */
  localFields(): Promise<Pick<GetInfoResponse, 'nodeId' | 'nodeAddr' | 'dataPathAddr' | 'nodeCertNotAfterMs' | 'engineVersion' | 'hostname'>> {
    const s = this.deps.self;
    return Promise.resolve({
      nodeId: s.nodeId, nodeAddr: s.nodeAddr, dataPathAddr: s.dataPathAddr, nodeCertNotAfterMs: s.nodeCertNotAfterMs,
      engineVersion: s.engineVersion, hostname: s.hostname,
    });
  }

  /** The Raft address of this manager: where a joining node dials. */
  selfManagerAddr(): string {
    const raft = this.deps.raft.status();
    return raft.members.find((m) => m.id === this.deps.self.nodeId)?.addr ?? '';
  }

  private requireCluster(cluster: Cluster | undefined): Cluster {
    if (cluster === undefined) throw new TsswarmError('INTERNAL', { detail: 'the store holds no Cluster object' });
    return cluster;
  }
}
