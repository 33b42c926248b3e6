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
import { ManagerControl, type ManagerSelf } from '../manager/controlapi/manager-control.js';
import { NodeCa } from '../manager/controlapi/node-ca.js';
import { RaftNode } from '../manager/raft/node/index.js';
import { loadRaftProto } from '../manager/raft/transport/index.js';
import { MemoryStore } from '../manager/store/index.js';

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
  ) {}

  static async start(opts: ManagerRuntimeOptions): Promise<ManagerRuntime> {
    const logger = componentLogger(opts.logger, 'manager');
    const clusterId = opts.self.clusterId;
    const provider = new MemoryCertificateProvider(opts.tls);
    const trust = trustBundleFromPem(opts.tls.rootsPem);
    const authorize = createCallAuthorizer({ clusterId, trust: () => trust, removedNodeIds: new Set(), now: () => new Date() });
    const { controlService, nodeCaService, membershipService } = loadControlProto();
    const access: Record<string, MethodAccess> = managersOnly(loadRaftProto().raftService, controlService, membershipService);
    // The only two calls a node without a certificate may make: how it joins.
    for (const method of Object.values(nodeCaService)) access[method.path] = 'open';
    const store = new MemoryStore({ logger });
    // The Control service needs the RaftNode, which needs the service at start: bind late.
    const raftRef: { node?: RaftNode } = {};
    const control = new ManagerControl({
      store,
      raft: {
        status: () => {
          if (raftRef.node === undefined) throw new TsswarmError('RAFT_STOPPED');
          return raftRef.node.status();
        },
      },
      self: opts.self,
    });
    const trustNow = (): ReturnType<typeof trustBundleFromPem> => trust;
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
      channelCredentials: createNodeChannelCredentials(provider, { clusterId, trust: () => trust }),
      extraServices: [
        { definition: controlService, implementation: controlServiceImplementation(control, componentLogger(logger, 'controlapi')) },
        { definition: nodeCaService, implementation: nodeCa.caImplementation() },
        { definition: membershipService, implementation: nodeCa.membershipImplementation() },
      ],
      onFatal: opts.onFatal,
    });
    raftRef.node = raft;
    store.attach(raft);
    return new ManagerRuntime(raft, store, control, provider, opts);
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
    const trust = trustBundleFromPem(this.opts.tls.rootsPem);
    return new ControlClient({
      target: st.leaderAddr,
      credentials: createNodeChannelCredentials(this.provider, { clusterId: this.opts.self.clusterId, trust: () => trust }),
      channelOptions: NODE_CHANNEL_OPTIONS,
      deadlineMs,
      transportError: (err) => new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: st.leaderId, addr: st.leaderAddr, reason: err.details }),
    });
  }

  async stop(): Promise<void> {
    this.store.close();
    await this.raft.stop();
  }
}
