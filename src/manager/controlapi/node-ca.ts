import { randomBytes } from 'node:crypto';
import type {
  ChannelCredentials, Client, ServerUnaryCall, ServiceError, UntypedServiceImplementation, handleUnaryCall, sendUnaryData,
} from '@grpc/grpc-js';
import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { issueNodeCertificate, parseCaConfig, roleForJoinToken, type NodeCertSigner } from '../ca/index.js';
import type { RaftNodeStatus } from '../raft/node/index.js';
import type { Cluster, DeepPartial, MemoryStore, Node } from '../store/index.js';
import { fromServiceError, toGrpcStatus } from './grpc-errors.js';
import { loadControlProto } from './load-proto.js';
import { updateWithRetry } from '../store/index.js';
import type {
  IssueNodeCertificateRequest, IssueNodeCertificateResponse, RaftJoinRequest, RaftJoinResponse, RenewNodeCertificateRequest,
} from './messages.js';

/** Docker's IDs: 128 random bits in base 36, zero-padded to 25 characters. */
function newNodeId(): string {
  return BigInt(`0x${randomBytes(16).toString('hex')}`).toString(36).padStart(25, '0');
}

/** What the CA and membership services need of the manager that serves them. */
export interface NodeCaDeps {
  readonly store: MemoryStore;
  readonly raft: {
    status(): RaftNodeStatus;
    addMember(id: string, addr: string, options?: { timeoutMs?: number }): Promise<void>;
  };
  /** The verified caller of a managers-only call (its certificate's CN). */
  readonly callerNodeId: (call: unknown) => string;
  /** The verified caller of a call any node of the cluster may make (renewal). */
  readonly anyNodeCallerId: (call: unknown) => string;
  /** Who signs node certificates now (the new root during a CA rotation). */
  readonly signer: (cluster: Cluster) => NodeCertSigner;
  /** Clients to the leader for a follower to hand a call on; undefined when this node leads. */
  readonly leaderCredentials: () => { target: string; credentials: ChannelCredentials; options: Record<string, string> } | undefined;
  readonly logger: Logger;
}

/** ms a joining manager may take to catch up and be promoted. */
const ADD_MEMBER_TIMEOUT_MS = 30_000;
const FORWARD_DEADLINE_MS = 40_000;

type Unary = (req: unknown, opts: { deadline: Date }, cb: (err: ServiceError | null, res: unknown) => void) => void;

/** One unary call to a grpc-js client, mapping refusals back to TsswarmErrors. */
export function callUnary<Res>(client: Client, method: string, req: unknown, deadlineMs: number, target: string): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
  return new Promise<Res>((resolve, reject) => {
    fn(req, { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
      if (err === null) resolve(res as Res);
      else reject(fromServiceError(err) ?? new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '(manager)', addr: target, reason: err.details }));
    });
  });
}

/**
 * The manager's side of joining: the two open CA calls and the managers-only Raft Join.
 * Writes go through the store (Raft); a follower hands IssueNodeCertificate and Join to the
 * leader with its own manager certificate.
 */
export class NodeCa {
  constructor(private readonly deps: NodeCaDeps) {}

  async rootCertificate(): Promise<string> {
    const cluster = await this.deps.store.viewLinearizable((tx) => tx.list('cluster')[0]);
    const pem = cluster?.rootCa?.caCertPem ?? '';
    if (pem === '') throw new TsswarmError('INTERNAL', { detail: 'the store holds no root CA' });
    return pem;
  }

  async issue(req: IssueNodeCertificateRequest): Promise<IssueNodeCertificateResponse> {
    const leader = this.deps.leaderCredentials();
    if (leader !== undefined) {
      const { NodeCaClient } = loadControlProto();
      const client = new NodeCaClient(leader.target, leader.credentials, leader.options);
      try {
        return await callUnary(client, 'IssueNodeCertificate', req, FORWARD_DEADLINE_MS, leader.target);
      } finally {
        client.close();
      }
    }
    const nodeId = newNodeId();
    const now = new Date();
    return this.deps.store.update((tx) => {
      const cluster = tx.list('cluster')[0] as Cluster | undefined;
      if (cluster?.rootCa === undefined || cluster.joinTokens === undefined) throw new TsswarmError('INTERNAL', { detail: 'the store holds no Cluster object' });
      const role = roleForJoinToken(req.token, cluster.joinTokens);
      const asked = role === 'swarm-manager' ? 'manager' : 'worker';
      if (req.role !== '' && req.role !== asked) throw new TsswarmError('CA_TOKEN_REJECTED');
      const config = parseCaConfig({ nodeCertLifetimeMs: cluster.spec.nodeCertExpiryMs });
      const issued = issueNodeCertificate(this.deps.signer(cluster), req.csr, { nodeId, role, clusterId: cluster.id }, now, config);
      const host = req.advertiseAddr.replace(/^\[?(.*?)\]?:\d+$/, '$1');
      const node: DeepPartial<Node> = {
        id: nodeId,
        spec: { annotations: { name: '', labels: {} }, desiredRole: role === 'swarm-manager' ? 'MANAGER' : 'WORKER', availability: 'ACTIVE' },
        description: { hostname: req.hostname, addresses: [host], engineVersion: req.engineVersion, engineLabels: {} },
        // A worker is UNKNOWN until its dispatcher session opens (the dispatcher marks it READY).
        status: { state: role === 'swarm-manager' ? 'READY' : 'UNKNOWN', message: '', addr: host },
        ...(role === 'swarm-manager' ? { managerStatus: { raftId: nodeId, addr: req.advertiseAddr, leader: false, reachability: 'UNKNOWN' as const } } : {}),
        certificate: { state: 'ISSUED', err: '', certPem: issued.certPem, csrPem: req.csr, cn: nodeId },
        role: role === 'swarm-manager' ? 'MANAGER' : 'WORKER',
      };
      tx.create('node', node);
      this.deps.logger.info({ nodeId, role, addr: req.advertiseAddr }, 'issued a certificate to a joining node');
      const managers = this.deps.raft.status().members.map((m) => ({ id: m.id, addr: m.addr, learner: m.learner }));
      return { nodeId, certificateChain: issued.chainPem, clusterId: cluster.id, role: asked, managers };
    });
  }

  /**
   * A node of the cluster renews its certificate (periodic renewal, a role change, a CA
   * rotation). Served by any manager: the write is forwarded through Raft. The role is the one
   * the store gives the node NOW, so promote and demote take effect through renewal.
   */
  async renew(req: RenewNodeCertificateRequest, nodeId: string): Promise<IssueNodeCertificateResponse> {
    const now = new Date();
    return updateWithRetry(this.deps.store, (tx) => {
      const cluster = tx.list('cluster')[0] as Cluster | undefined;
      if (cluster?.rootCa === undefined) throw new TsswarmError('INTERNAL', { detail: 'the store holds no Cluster object' });
      const node = tx.get('node', nodeId);
      if (node === undefined) throw new TsswarmError('CA_CERT_REMOVED', { nodeId });
      const role = node.role === 'MANAGER' ? 'swarm-manager' : 'swarm-worker';
      const config = parseCaConfig({ nodeCertLifetimeMs: cluster.spec.nodeCertExpiryMs });
      const issued = issueNodeCertificate(this.deps.signer(cluster), req.csr, { nodeId, role, clusterId: cluster.id }, now, config);
      tx.update('node', { ...node, certificate: { state: 'ISSUED', err: '', certPem: issued.certPem, csrPem: req.csr, cn: nodeId } });
      this.deps.logger.info({ nodeId, role }, 'renewed a node certificate');
      const managers = this.deps.raft.status().members.map((m) => ({ id: m.id, addr: m.addr, learner: m.learner }));
      return { nodeId, certificateChain: issued.chainPem, clusterId: cluster.id, role: role === 'swarm-manager' ? 'manager' : 'worker', managers };
    });
  }

  async join(req: RaftJoinRequest, callerId: string): Promise<RaftJoinResponse> {
    const leader = this.deps.leaderCredentials();
    if (leader !== undefined) {
      // Handed on, the leader would see this follower as the caller: the joiner redials the leader.
      throw new TsswarmError('RAFT_NOT_LEADER', { nodeId: this.deps.raft.status().id, leaderAddr: leader.target });
    }
    await this.deps.raft.addMember(callerId, req.addr, { timeoutMs: ADD_MEMBER_TIMEOUT_MS });
    // A promoted worker joins here without a token: its Node gets its manager status now.
    await updateWithRetry(this.deps.store, (tx) => {
      const node = tx.get('node', callerId);
      if (node === undefined || (node.managerStatus?.raftId === callerId && node.managerStatus.addr === req.addr)) return;
      tx.update('node', { ...node, managerStatus: { raftId: callerId, addr: req.addr, leader: false, reachability: 'REACHABLE' } });
    });
    const st = this.deps.raft.status();
    return { raftId: callerId, members: st.members.map((m) => ({ id: m.id, addr: m.addr, learner: m.learner })) };
  }

  /** gRPC handlers of the NodeCA service. */
  caImplementation(): UntypedServiceImplementation {
    return {
      GetRootCACertificate: this.unary('GetRootCACertificate', async () => ({ certificate: await this.rootCertificate() })),
      IssueNodeCertificate: this.unary('IssueNodeCertificate', (req) => this.issue(req as IssueNodeCertificateRequest)),
      RenewNodeCertificate: this.unary('RenewNodeCertificate', (req, call) => this.renew(req as RenewNodeCertificateRequest, this.deps.anyNodeCallerId(call))),
    };
  }

  /** gRPC handlers of the RaftMembership service (the interceptor admits managers only). */
  membershipImplementation(): UntypedServiceImplementation {
    return {
      Join: this.unary('Join', (req, call) => this.join(req as RaftJoinRequest, this.deps.callerNodeId(call))),
    };
  }

  private unary(name: string, fn: (req: unknown, call: unknown) => Promise<unknown>): handleUnaryCall<unknown, unknown> {
    return (call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>): void => {
      Promise.resolve().then(() => fn(call.request, call)).then(
        (res) => done(null, res),
        (err: unknown) => {
          if (isTsswarmError(err) && err.code !== 'INTERNAL') this.deps.logger.info({ method: name, code: err.code }, 'CA call refused');
          else this.deps.logger.error({ method: name, err: errorMessage(err) }, 'CA call failed');
          done(toGrpcStatus(err));
        },
      );
    };
  }
}
