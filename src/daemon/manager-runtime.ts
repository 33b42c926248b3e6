import type { ServiceDefinition } from '@grpc/grpc-js';
import { TsswarmError } from '../errors/index.js';
import { componentLogger, type Logger } from '../log/logger.js';
import {
  MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createAuthorizationInterceptor, createCallAuthorizer, createNodeChannelCredentials,
  createNodeServerCredentials, trustBundleFromPem, type MethodAccess, type NodeTlsMaterial,
} from '../manager/ca/index.js';
import { ControlClient } from '../manager/controlapi/control-client.js';
import { controlServiceImplementation } from '../manager/controlapi/control-service.js';
import { loadControlProto } from '../manager/controlapi/load-proto.js';
import { ManagerControl, type ManagerSelf, type MembershipOps } from '../manager/controlapi/manager-control.js';
import { NodeCa, callUnary } from '../manager/controlapi/node-ca.js';
import { clusterSigner } from '../manager/controlapi/cluster-signer.js';
import { RaftNode } from '../manager/raft/node/index.js';
import { loadRaftProto } from '../manager/raft/transport/index.js';
import { MemoryStore } from '../manager/store/index.js';
import { removeService, rollbackServiceSpec } from '../manager/orchestrator/index.js';
import { validatePlacement } from '../manager/scheduler/index.js';
import { LeaderComponents } from './leader-components.js';
import { DISPATCHER_CALLER_ROLES, ManagerDispatcher } from '../manager/dispatcher/index.js';
import { systemClock } from '../util/clock.js';
import { systemRng } from '../util/rng.js';

export interface ManagerRuntimeOptions {
  readonly self: ManagerSelf;
  readonly listenAddr: string;
  readonly advertiseAddr: string;
  readonly raftDir: string;
  readonly tls: Required<NodeTlsMaterial>;
  /**
   * True at init: start a one-member Raft group. False on restart (recover from raftDir) and
   * on join (an empty raftDir: the leader sends the log or a snapshot once it adds this node).
   */
  readonly bootstrap: boolean;
  /** Members known in advance (a joining manager's view of the group it is joining). */
  readonly peerHints?: ReadonlyMap<string, string>;
  readonly logger: Logger;
  /** The Raft node stopped itself (its disk failed): the daemon must not linger half-alive. */
  readonly onFatal: (err: unknown) => void;
}

/** ms between the leader's probes of the other managers (node ls's Reachable/Unreachable). */
const PROBE_EVERY_MS = 2_000;
/** ms a demoted leader waits for its successor to be known. */
const LEADER_WAIT_MS = 10_000;
/** ms a reachability probe of another manager may take: longer means it is not answering. */
const PROBE_DEADLINE_MS = 2_000;

/** Whether the manager at addr answers Raft's Status call now (demote's quorum check). */
async function probeMember(addr: string, credentials: ReturnType<typeof createNodeChannelCredentials>): Promise<boolean> {
  const { RaftClient } = loadRaftProto();
  const client = new RaftClient(addr, credentials, { ...NODE_CHANNEL_OPTIONS });
  try {
    const st = await callUnary<{ role?: string }>(client, 'Status', {}, PROBE_DEADLINE_MS, addr);
    return st.role !== 'stopped';
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Every method of these services may be called by managers only (fail closed for the rest). */
function managersOnly(...services: ServiceDefinition[]): Record<string, MethodAccess> {
  const access: Record<string, MethodAccess> = {};
  for (const service of services) for (const method of Object.values(service)) access[method.path] = ['swarm-manager'];
  return access;
}

/**
 * What a manager runs: the RaftNode on its listen address (mutual TLS with its node
 * certificate, Raft and the Control API on the same 2377 server, managers only), and the
 * replicated store as its state machine. The dispatcher, CA server and orchestrators join
 * here later.
 */
export class ManagerRuntime {
  private constructor(
    readonly raft: RaftNode,
    readonly store: MemoryStore,
    readonly control: ManagerControl,
    private readonly provider: MemoryCertificateProvider,
    private readonly opts: ManagerRuntimeOptions,
    /** The Dispatcher service on 2377; dispatches only while this manager leads. */
    readonly dispatcher: ManagerDispatcher,
  ) {}

  static async start(opts: ManagerRuntimeOptions): Promise<ManagerRuntime> {
    const logger = componentLogger(opts.logger, 'manager');
    const clusterId = opts.self.clusterId;
    const provider = new MemoryCertificateProvider(opts.tls);
    // Read from the provider on each call: a renewal or a CA rotation replaces its roots.
    const trustNow = (): ReturnType<typeof trustBundleFromPem> => trustBundleFromPem(provider.current()?.rootsPem ?? opts.tls.rootsPem);
    const store = new MemoryStore({ logger });
    // `node rm` puts the node's ID on the cluster's removed list: refused from the commit on.
    const removedNodeIds = { has: (id: string): boolean => store.view((tx) => tx.list('cluster')[0]?.removedNodeIds?.includes(id) ?? false) };
    const authorize = createCallAuthorizer({ clusterId, trust: trustNow, removedNodeIds, now: () => new Date() });
    const { controlService, nodeCaService, membershipService } = loadControlProto();
    const access: Record<string, MethodAccess> = managersOnly(loadRaftProto().raftService, controlService, membershipService);
    // The only two calls a node without a certificate may make: how it joins.
    for (const method of Object.values(nodeCaService)) access[method.path] = 'open';
    // Renewal is made with the node's current certificate, whatever its role.
    access[nodeCaService.RenewNodeCertificate!.path] = ['swarm-manager', 'swarm-worker'];
    // The Control service needs the RaftNode, which needs the service at start: bind late.
    const raftRef: { node?: RaftNode } = {};
    const requireRaft = (): RaftNode => {
      if (raftRef.node === undefined) throw new TsswarmError('RAFT_STOPPED');
      return raftRef.node;
    };
    const channelCredentials = (): ReturnType<typeof createNodeChannelCredentials> => createNodeChannelCredentials(provider, { clusterId, trust: trustNow });
    const membership: MembershipOps = {
      removeMember: (id) => requireRaft().removeMember(id),
      transferLeadership: (to) => requireRaft().transferLeadership(to),
      probe: (addr) => probeMember(addr, channelCredentials()),
      leaderBackend: async () => {
        const deadline = Date.now() + LEADER_WAIT_MS;
        for (;;) {
          const st = requireRaft().status();
          if (st.role !== 'leader' && st.leaderAddr !== '' && st.leaderAddr !== 'unknown') {
            const client = new ControlClient({
              target: st.leaderAddr, credentials: channelCredentials(), channelOptions: NODE_CHANNEL_OPTIONS, deadlineMs: LEADER_WAIT_MS,
              transportError: (err) => new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: st.leaderId, addr: st.leaderAddr, reason: err.details }),
            });
            return { backend: client, close: () => client.close() };
          }
          if (Date.now() > deadline) throw new TsswarmError('RAFT_NO_QUORUM', { voters: st.members.length });
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    };
    const unreachable = new Set<string>();
    // The dispatcher (made below) owns the log broker; bound late like the Raft node.
    const dispatcherRef: { current?: ManagerDispatcher } = {};
    const control = new ManagerControl({
      store, raft: { status: () => requireRaft().status() }, self: opts.self, membership, unreachableMembers: () => unreachable,
      serviceLifecycle: { checkPlacement: validatePlacement, removeService, rollbackSpec: rollbackServiceSpec },
      subscribeLogs: (request) => {
        if (dispatcherRef.current === undefined) throw new TsswarmError('RAFT_STOPPED');
        return dispatcherRef.current.subscribeLogs(request);
      },
    });
    const nodeCa = new NodeCa({
      store,
      raft: {
        status: () => {
          if (raftRef.node === undefined) throw new TsswarmError('RAFT_STOPPED');
          return raftRef.node.status();
        },
        addMember: (id, addr, o) => {
          if (raftRef.node === undefined) return Promise.reject(new TsswarmError('RAFT_STOPPED'));
          return raftRef.node.addMember(id, addr, o);
        },
      },
      callerNodeId: (call) => authorize(call as Parameters<typeof authorize>[0], ['swarm-manager'], 'RaftMembership/Join').nodeId,
      anyNodeCallerId: (call) => authorize(call as Parameters<typeof authorize>[0], ['swarm-manager', 'swarm-worker'], 'NodeCA/RenewNodeCertificate').nodeId,
      signer: clusterSigner,
      leaderCredentials: () => {
        const st = raftRef.node?.status();
        if (st === undefined || st.role === 'leader' || st.leaderAddr === '' || st.leaderAddr === 'unknown') return undefined;
        return {
          target: st.leaderAddr,
          credentials: createNodeChannelCredentials(provider, { clusterId, trust: trustNow }),
          options: { ...NODE_CHANNEL_OPTIONS },
        };
      },
      logger: componentLogger(logger, 'ca'),
    });
    const dispatcher = new ManagerDispatcher({
      store, raftStatus: () => requireRaft().status(), catchUp: async () => void (await requireRaft().readIndex({ timeoutMs: 10_000 })),
      callerNodeId: (call) => authorize(call as Parameters<typeof authorize>[0], DISPATCHER_CALLER_ROLES, 'Dispatcher').nodeId,
      clock: systemClock, rng: systemRng, logger,
    });
    dispatcherRef.current = dispatcher;
    Object.assign(access, dispatcher.access());
    const raft = await RaftNode.start({
      id: opts.self.nodeId,
      listen: opts.listenAddr,
      advertiseAddr: opts.advertiseAddr,
      dataDir: opts.raftDir,
      ...(opts.bootstrap ? { initialMembers: new Map([[opts.self.nodeId, opts.advertiseAddr]]) } : {}),
      ...(opts.peerHints !== undefined ? { peerHints: opts.peerHints } : {}),
      stateMachine: store,
      logger,
      serverCredentials: createNodeServerCredentials(provider, [createAuthorizationInterceptor(authorize, access)]),
      channelCredentials: createNodeChannelCredentials(provider, { clusterId, trust: trustNow }),
      extraServices: [
        { definition: controlService, implementation: controlServiceImplementation(control, componentLogger(logger, 'controlapi')) },
        { definition: nodeCaService, implementation: nodeCa.caImplementation() },
        { definition: membershipService, implementation: nodeCa.membershipImplementation() },
        dispatcher.service(),
      ],
      onFatal: opts.onFatal,
    });
    raftRef.node = raft;
    store.attach(raft);
    dispatcher.run();
    const runtime = new ManagerRuntime(raft, store, control, provider, opts, dispatcher);
    runtime.leaderComponents = new LeaderComponents(store, () => raft.status().role === 'leader', logger);
    runtime.probeTimer = setInterval(() => void runtime.probeMembers(unreachable, membership), PROBE_EVERY_MS);
    runtime.probeTimer.unref();
    return runtime;
  }

  private probeTimer: NodeJS.Timeout | undefined;
  /** Orchestrators, allocator and scheduler: running while this manager leads. */
  private leaderComponents: LeaderComponents | undefined;
  private probing = false;

  /** The leader looks at each other member, so `node ls` can say which ones do not answer. */
  private async probeMembers(unreachable: Set<string>, membership: MembershipOps): Promise<void> {
    const st = this.raft.status();
    if (st.role !== 'leader' || this.probing) {
      if (st.role !== 'leader') unreachable.clear();
      return;
    }
    this.probing = true;
    try {
      await Promise.all(st.members.filter((m) => m.id !== st.id).map(async (m) => {
        if (await membership.probe(m.addr)) unreachable.delete(m.id);
        else unreachable.add(m.id);
      }));
      for (const id of unreachable) if (!st.members.some((m) => m.id === id)) unreachable.delete(id);
    } finally {
      this.probing = false;
    }
  }

  /**
   * Resolves once some member leads (on one node: this one, after an election timeout) and
   * this node has applied everything committed so far, so reads see the latest state and
   * writes are accepted. The read index matters: the core knows of its election a moment
   * before the driver has processed it, and a write in that moment would be refused.
   */
  async waitForLeader(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.raft.status().leaderId === '') {
      if (Date.now() > deadline) throw new TsswarmError('RAFT_NO_QUORUM', { voters: this.raft.status().members.length });
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.raft.readIndex({ timeoutMs: Math.max(1, deadline - Date.now()) });
  }

  isLeader(): boolean {
    return this.raft.status().role === 'leader';
  }

  /**
   * A Control client to the current leader over mutual TLS, for a follower's local socket to
   * hand calls on; undefined when this manager leads or no leader is known.
   */
  leaderClient(deadlineMs: number): ControlClient | undefined {
    const st = this.raft.status();
    if (st.role === 'leader' || st.leaderAddr === '' || st.leaderAddr === 'unknown') return undefined;
    const provider = this.provider;
    const trust = (): ReturnType<typeof trustBundleFromPem> => trustBundleFromPem(provider.current()?.rootsPem ?? this.opts.tls.rootsPem);
    return new ControlClient({
      target: st.leaderAddr,
      credentials: createNodeChannelCredentials(this.provider, { clusterId: this.opts.self.clusterId, trust }),
      channelOptions: NODE_CHANNEL_OPTIONS,
      deadlineMs,
      transportError: (err) => new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: st.leaderId, addr: st.leaderAddr, reason: err.details }),
    });
  }

  /** The TLS material this manager presents and trusts now. */
  tlsMaterial(): Required<NodeTlsMaterial> {
    const m = this.provider.current();
    return { rootsPem: m?.rootsPem ?? this.opts.tls.rootsPem, certChainPem: m?.certChainPem ?? this.opts.tls.certChainPem, keyPem: m?.keyPem ?? this.opts.tls.keyPem };
  }

  /** A renewed certificate or new roots: the 2377 server and clients use them from now on. */
  updateTls(material: Required<NodeTlsMaterial>): void {
    this.provider.update(material);
  }

  async stop(): Promise<void> {
    clearInterval(this.probeTimer);
    this.dispatcher.stop();
    await this.leaderComponents?.stop();
    this.store.close();
    await this.raft.stop();
  }
}
