import { Server } from '@grpc/grpc-js';
import {
  MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createAuthorizationInterceptor, createCallAuthorizer, createNodeChannelCredentials,
  createNodeServerCredentials, createNodeKeyAndCsr, createRootCa, issueNodeCertificate, parseCaConfig, rootCaToStored,
  trustBundleFromPem, type NodeRole, type NodeTlsMaterial, type RootCa,
} from '../../../src/manager/ca/index.js';
import { ManagerDispatcher, type DispatcherConfigInput } from '../../../src/manager/dispatcher/index.js';
import type { LogBrokerConfigInput } from '../../../src/manager/logbroker/index.js';
import type { RaftNodeStatus } from '../../../src/manager/raft/node/index.js';
import { LocalProposer, MemoryStore, type DeepPartial, type Task, type TaskStatus } from '../../../src/manager/store/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { seededRng } from '../../../src/util/rng.js';
import { grpcDispatcherConnector, type DispatcherConnector } from '../../../src/worker/agent/index.js';
import type { TaskExecutor } from '../../../src/worker/executor/task-executor.js';

/** Cluster and node IDs of these tests (the CA accepts [a-z0-9]{1,64}). */
export const CLUSTER_ID = 'dispatchcluster1';

/** 2048-bit root: fast; production roots are 3072 bits. */
const caConfig = parseCaConfig({ rootKeyBits: 2048 });

export interface TestCa {
  readonly root: RootCa;
  readonly rootPem: string;
  material(nodeId: string, role: NodeRole): Promise<Required<NodeTlsMaterial>>;
}

export async function makeTestCa(): Promise<TestCa> {
  const root = await createRootCa(new Date(), caConfig);
  const rootPem = rootCaToStored(root).certPem;
  return {
    root,
    rootPem,
    async material(nodeId, role) {
      const { keyPem, csrPem } = await createNodeKeyAndCsr();
      const issued = issueNodeCertificate({ ca: root, intermediatesPem: [] }, csrPem, { nodeId, role, clusterId: CLUSTER_ID }, new Date(), caConfig);
      return { rootsPem: rootPem, certChainPem: issued.chainPem, keyPem };
    },
  };
}

/** A store without a cluster (LocalProposer) holding the Cluster object. */
export async function makeStore(ca: TestCa, heartbeatPeriodMs: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  store.attach(new LocalProposer(store));
  await store.update((tx) => tx.create('cluster', {
    id: CLUSTER_ID,
    spec: { annotations: { name: 'default' }, dispatcherHeartbeatPeriodMs: heartbeatPeriodMs },
    rootCa: { caCertPem: ca.rootPem, caKeyPem: 'never-sent' },
  }));
  return store;
}

export async function addNode(store: MemoryStore, nodeId: string, role: 'WORKER' | 'MANAGER' = 'WORKER'): Promise<void> {
  await store.update((tx) => tx.create('node', {
    id: nodeId, role, spec: { annotations: { name: '' }, desiredRole: role, availability: 'ACTIVE' },
    description: { hostname: `host-${nodeId}` }, status: { state: 'UNKNOWN' },
  }));
}

export async function addTask(store: MemoryStore, id: string, nodeId: string, state: TaskStatus['state'] = 'ASSIGNED'): Promise<void> {
  await store.update((tx) => tx.create('task', {
    id, serviceId: 'svc1', slot: 1, nodeId, desiredState: 'RUNNING',
    spec: { runtime: 'PROCESS', image: 'sleep', args: ['1000'] }, status: { state, message: '' },
  } as DeepPartial<Task>));
}

/** A manager's 2377 as far as the dispatcher goes: mTLS, the fail-closed interceptor, the service. */
export interface TestManager {
  readonly nodeId: string;
  readonly addr: string;
  readonly dispatcher: ManagerDispatcher;
  /** The Raft status the runner sees; tests change it to make this manager lead or follow. */
  status: RaftNodeStatus;
  close(): Promise<void>;
}

export async function startManager(
  ca: TestCa, store: MemoryStore, nodeId: string, config: DispatcherConfigInput = {}, initial?: Partial<RaftNodeStatus>,
  logBrokerConfig?: LogBrokerConfigInput,
): Promise<TestManager> {
  const material = await ca.material(nodeId, 'swarm-manager');
  const provider = new MemoryCertificateProvider(material);
  const trust = trustBundleFromPem(ca.rootPem);
  const authorize = createCallAuthorizer({ clusterId: CLUSTER_ID, trust: () => trust, removedNodeIds: new Set(), now: () => new Date() });
  const holder: { manager?: TestManager } = {};
  const dispatcher = new ManagerDispatcher({
    store,
    raftStatus: () => holder.manager!.status,
    catchUp: async () => undefined,
    callerNodeId: (call) => authorize(call as Parameters<typeof authorize>[0], ['swarm-worker', 'swarm-manager'], 'Dispatcher').nodeId,
    clock: systemClock,
    rng: seededRng(7),
    logger: silentLogger(),
    config,
    pollMs: 20,
    ...(logBrokerConfig !== undefined ? { logBrokerConfig } : {}),
  });
  const server = new Server();
  const { definition, implementation } = dispatcher.service();
  server.addService(definition, implementation);
  const credentials = createNodeServerCredentials(provider, [createAuthorizationInterceptor(authorize, dispatcher.access())]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  const addr = `127.0.0.1:${port}`;
  const manager: TestManager = {
    nodeId,
    addr,
    dispatcher,
    status: {
      id: nodeId, role: 'leader', term: 1, leaderId: nodeId, leaderAddr: addr, commit: 1, applied: 1,
      members: [{ id: nodeId, addr, learner: false }], ...initial,
    },
    close: async () => {
      dispatcher.stop();
      server.forceShutdown();
    },
  };
  holder.manager = manager;
  dispatcher.run();
  return manager;
}

/** The agent's gRPC edge with `nodeId`'s certificate. */
export async function connectorFor(ca: TestCa, nodeId: string, role: NodeRole = 'swarm-worker'): Promise<DispatcherConnector> {
  const material = await ca.material(nodeId, role);
  const provider = new MemoryCertificateProvider(material);
  const trust = trustBundleFromPem(ca.rootPem);
  return grpcDispatcherConnector({
    credentials: createNodeChannelCredentials(provider, { clusterId: CLUSTER_ID, trust: () => trust }),
    channelOptions: NODE_CHANNEL_OPTIONS,
  });
}

/** An executor that runs nothing and records what it is asked; tests emit statuses. */
export class RecordingExecutor implements TaskExecutor {
  readonly sets: Task[][] = [];
  readonly statuses = new Map<string, TaskStatus>();
  private listener: ((taskId: string, status: TaskStatus) => void) | undefined;

  setAssignments(tasks: readonly Task[]): void {
    this.sets.push([...tasks]);
  }
  onStatus(listener: (taskId: string, status: TaskStatus) => void): void {
    this.listener = listener;
  }
  currentStatuses(): ReadonlyMap<string, TaskStatus> {
    return this.statuses;
  }
  async close(): Promise<void> {}

  /** The last complete set handed over, by task ID. */
  current(): Map<string, Task> {
    return new Map((this.sets.at(-1) ?? []).map((t) => [t.id, t]));
  }
  report(taskId: string, state: TaskStatus['state'], message = ''): void {
    const status: TaskStatus = { timestampMs: Date.now(), state, message, err: '' };
    this.statuses.set(taskId, status);
    this.listener?.(taskId, status);
  }
}
