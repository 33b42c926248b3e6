import { X509Certificate } from 'node:crypto';
import { TsswarmError } from '../../errors/index.js';
import { rotateJoinToken } from '../ca/index.js';
import type { RaftNodeStatus } from '../raft/node/index.js';
import type { Cluster, MemoryStore } from '../store/index.js';
import type {
  ControlBackend, GetInfoResponse, GetJoinTokenRequest, GetJoinTokenResponse, GetNodeRequest, GetNodeResponse,
  InitClusterResponse, JoinClusterResponse, JoinRole, ListNodesResponse,
} from './messages.js';
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

export interface ManagerControlDeps {
  readonly store: MemoryStore;
  readonly raft: { status(): RaftNodeStatus };
  readonly self: ManagerSelf;
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
  constructor(private readonly deps: ManagerControlDeps) {}

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
    return { nodes: nodes.map((n) => withLiveManagerStatus(n, raft)), selfId: this.deps.self.nodeId };
  }

  async getNode(req: GetNodeRequest): Promise<GetNodeResponse> {
    const ref = req.ref === 'self' ? this.deps.self.nodeId : req.ref;
    const nodes = await this.deps.store.viewLinearizable((tx) => tx.list('node'));
    return { node: withLiveManagerStatus(resolveNode(nodes, ref), this.deps.raft.status()) };
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
