import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TsswarmError, isTsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { MemoryStore, Node } from '../../../src/manager/store/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { seededRng } from '../../../src/util/rng.js';
import { Agent, grpcDispatcherConnector, type DispatcherConnector } from '../../../src/worker/agent/index.js';
import { MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, trustBundleFromPem } from '../../../src/manager/ca/index.js';
import { until } from '../../support/wait.js';
import {
  CLUSTER_ID, RecordingExecutor, addNode, addTask, connectorFor, makeStore, makeTestCa, startManager, type TestCa, type TestManager,
} from './dispatcher-harness.js';

/**
 * The dispatcher and the agent over real gRPC with mutual TLS on loopback, a MemoryStore
 * (LocalProposer) behind the dispatcher and a recording executor behind the agent. Periods
 * are short (200 ms); every check waits for a state, never for a time.
 */
const PERIOD_MS = 200;

let ca: TestCa;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ca = await makeTestCa();
}, 60_000);

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function nodeOf(store: MemoryStore, id: string): Node | undefined {
  return store.view((tx) => tx.get('node', id));
}

async function cluster(): Promise<{ store: MemoryStore; manager: TestManager }> {
  const store = await makeStore(ca, PERIOD_MS);
  await addNode(store, 'm1', 'MANAGER');
  const manager = await startManager(ca, store, 'm1', { assignmentBatchMs: 10, statusBatchMs: 10, expiryCheckMs: 20 });
  cleanups.push(() => manager.close());
  await until(() => manager.dispatcher.current() !== undefined, 'the dispatcher to start on the leader');
  return { store, manager };
}

function startAgent(nodeId: string, managers: string[], connect: DispatcherConnector, executor = new RecordingExecutor()): { agent: Agent; executor: RecordingExecutor } {
  const agent = new Agent({
    nodeId, managers, advertiseAddr: '10.9.8.7', description: () => ({ hostname: `real-${nodeId}`, addresses: ['10.9.8.7'], engineVersion: 'test-1' }),
    executor, connect, clock: systemClock, rng: seededRng(3), logger: silentLogger(),
    config: { statusBatchMs: 10, backoffInitialMs: 20, backoffMaxMs: 200 },
  });
  agent.start();
  cleanups.push(() => agent.stop());
  return { agent, executor };
}

/** Counts the agent's heartbeats by wrapping its connector. */
function countingHeartbeats(connect: DispatcherConnector): { connect: DispatcherConnector; count: () => number } {
  let n = 0;
  return {
    connect: (addr) => {
      const conn = connect(addr);
      return { ...conn, heartbeat: async (req, timeoutMs) => { const res = await conn.heartbeat(req, timeoutMs); n++; return res; } };
    },
    count: () => n,
  };
}

describe('dispatcher sessions and heartbeats', () => {
  it('registers the node READY with its description and address, and tells the agent the cluster view', async () => {
    const { store, manager } = await cluster();
    await addNode(store, 'w1');
    const { agent } = startAgent('w1', [manager.addr], await connectorFor(ca, 'w1'));
    const seen: { node?: Node; rootCa?: string; period?: number; managers?: number } = {};
    agent.on('node', (n) => (seen.node = n));
    agent.on('rootCa', (pem) => (seen.rootCa = pem));
    agent.on('heartbeatPeriod', (p) => (seen.period = p));
    agent.on('managers', (m) => (seen.managers = m.length));
    await until(() => nodeOf(store, 'w1')?.status?.state === 'READY', 'w1 READY');
    const node = nodeOf(store, 'w1')!;
    expect(node.status).toMatchObject({ state: 'READY', addr: '10.9.8.7' });
    expect(node.description).toMatchObject({ hostname: 'real-w1', addresses: ['10.9.8.7'], engineVersion: 'test-1' });
    await until(() => seen.node?.status?.state === 'READY', 'the agent to see its own Node READY');
    expect(seen.rootCa).toBe(ca.rootPem.trim() + '\n');
    expect(seen.rootCa).not.toContain('never-sent');
    expect(seen.period).toBe(PERIOD_MS);
    expect(seen.managers).toBe(1);
    expect(agent.status()).toMatchObject({ state: 'connected', managerAddr: manager.addr });
  }, 30_000);

  it('keeps a heartbeating node READY past 3 periods, and marks it DOWN once heartbeats stop', async () => {
    const { store, manager } = await cluster();
    await addNode(store, 'w1');
    const counting = countingHeartbeats(await connectorFor(ca, 'w1'));
    const { agent } = startAgent('w1', [manager.addr], counting.connect);
    await until(() => counting.count() >= 8, '8 heartbeats (more than 3 periods)');
    expect(nodeOf(store, 'w1')?.status?.state).toBe('READY');
    await agent.stop();
    await until(() => nodeOf(store, 'w1')?.status?.state === 'DOWN', 'w1 DOWN after missed heartbeats');
    expect(nodeOf(store, 'w1')?.status?.message).toBe('heartbeat failure');
  }, 30_000);

  it('comes back READY when the agent returns after being marked DOWN', async () => {
    const { store, manager } = await cluster();
    await addNode(store, 'w1');
    const connect = await connectorFor(ca, 'w1');
    const first = startAgent('w1', [manager.addr], connect);
    await until(() => nodeOf(store, 'w1')?.status?.state === 'READY', 'w1 READY');
    await first.agent.stop();
    await until(() => nodeOf(store, 'w1')?.status?.state === 'DOWN', 'w1 DOWN');
    startAgent('w1', [manager.addr], connect);
    await until(() => nodeOf(store, 'w1')?.status?.state === 'READY', 'w1 READY again');
  }, 30_000);

  it('a new leader marks inherited nodes (not itself) UNKNOWN and DOWN after the grace period if they never show up', async () => {
    const store = await makeStore(ca, PERIOD_MS);
    await addNode(store, 'w9');
    await addNode(store, 'm1', 'MANAGER');
    await store.update((tx) => {
      for (const id of ['w9', 'm1']) {
        const n = tx.get('node', id)!;
        tx.update('node', { ...n, status: { state: 'READY', addr: '10.0.0.9' } });
      }
    });
    const manager = await startManager(ca, store, 'm1', { expiryCheckMs: 20 });
    cleanups.push(() => manager.close());
    await until(() => nodeOf(store, 'w9')?.status?.state === 'UNKNOWN', 'w9 UNKNOWN under the new leader');
    // Not the leader's own node: it is evidently alive.
    expect(nodeOf(store, 'm1')?.status?.state).toBe('READY');
    await until(() => nodeOf(store, 'w9')?.status?.state === 'DOWN', 'w9 DOWN after the grace period');
  }, 30_000);
});

describe('assignments and task status', () => {
  it('sends the complete set first, then changes; only tasks ASSIGNED or later', async () => {
    const { store, manager } = await cluster();
    await addNode(store, 'w1');
    await addNode(store, 'w2');
    await addTask(store, 't1', 'w1');
    await addTask(store, 't2', 'w1', 'PENDING');
    await addTask(store, 't3', 'w2');
    const { executor } = startAgent('w1', [manager.addr], await connectorFor(ca, 'w1'));
    await until(() => executor.sets.length > 0, 'the complete set');
    expect([...executor.current().keys()]).toEqual(['t1']);
    await addTask(store, 't4', 'w1');
    await until(() => executor.current().has('t4'), 't4 added');
    await store.update((tx) => {
      const t = tx.get('task', 't1')!;
      tx.update('task', { ...t, desiredState: 'SHUTDOWN' });
    });
    await until(() => executor.current().get('t1')?.desiredState === 'SHUTDOWN', 't1 desired SHUTDOWN');
    await store.update((tx) => tx.delete('task', 't4'));
    await until(() => !executor.current().has('t4'), 't4 removed');
    expect([...executor.current().keys()].sort()).toEqual(['t1']);
  }, 30_000);

  it('writes reported statuses, ignores a status that would move a task backwards', async () => {
    const { store, manager } = await cluster();
    await addNode(store, 'w1');
    await addTask(store, 't1', 'w1');
    const { executor, agent } = startAgent('w1', [manager.addr], await connectorFor(ca, 'w1'));
    await until(() => executor.current().has('t1'), 't1 assigned');
    executor.report('t1', 'RUNNING', 'started');
    await until(() => store.view((tx) => tx.get('task', 't1'))?.status.state === 'RUNNING', 't1 RUNNING in the store');
    executor.report('t1', 'ACCEPTED');
    await until(() => agent.status().pendingStatuses === 0, 'the backwards report sent');
    expect(store.view((tx) => tx.get('task', 't1'))?.status).toMatchObject({ state: 'RUNNING', message: 'started' });
    // The agent's own report does not echo back as an assignment change.
    const sets = executor.sets.length;
    executor.report('t1', 'COMPLETE');
    await until(() => store.view((tx) => tx.get('task', 't1'))?.status.state === 'COMPLETE', 't1 COMPLETE');
    expect(executor.sets.length).toBe(sets);
  }, 30_000);

  it('refuses a worker certificate reporting another node\'s task, and writes nothing', async () => {
    const { store, manager } = await cluster();
    await addNode(store, 'w1');
    await addNode(store, 'w2');
    await addTask(store, 't1', 'w1');
    await addTask(store, 't2', 'w2');
    const connect = await connectorFor(ca, 'w1');
    const { agent } = startAgent('w1', [manager.addr], connect);
    await until(() => agent.status().state === 'connected', 'w1 session');
    const conn = connect(manager.addr);
    cleanups.push(() => conn.close());
    const status = { timestampMs: 1, state: 'RUNNING' as const, message: 'lie', err: '' };
    const err = await conn.updateTaskStatus({ sessionId: agent.status().sessionId, updates: [{ taskId: 't1', status }, { taskId: 't2', status }] }, 5000)
      .then(() => undefined, (e: unknown) => e);
    expect(isTsswarmError(err) ? err.code : err).toBe('DISPATCHER_TASK_NOT_OWNED');
    expect(store.view((tx) => tx.get('task', 't2'))?.status.state).toBe('ASSIGNED');
    expect(store.view((tx) => tx.get('task', 't1'))?.status.state).toBe('ASSIGNED');
    // Nor with a session ID that is not its own.
    const err2 = await conn.heartbeat({ sessionId: 'not-a-session' }, 5000).then(() => undefined, (e: unknown) => e);
    expect(isTsswarmError(err2) ? err2.code : err2).toBe('DISPATCHER_SESSION_INVALID');
  }, 30_000);
});

describe('who may call', () => {
  it('refuses a caller without a client certificate (CA code), opening no session', async () => {
    const { manager } = await cluster();
    const provider = new MemoryCertificateProvider({ rootsPem: ca.rootPem });
    const trust = trustBundleFromPem(ca.rootPem);
    const connect = grpcDispatcherConnector({
      credentials: createNodeChannelCredentials(provider, { clusterId: CLUSTER_ID, trust: () => trust }, null),
      channelOptions: NODE_CHANNEL_OPTIONS,
    });
    const conn = connect(manager.addr);
    cleanups.push(() => conn.close());
    const err = await conn.heartbeat({ sessionId: 'x' }, 5000).then(() => undefined, (e: unknown) => e);
    expect(isTsswarmError(err) ? err.code : err).toBe('CA_PEER_CERT_MISSING');
    expect(manager.dispatcher.current()?.sessionCount()).toBe(0);
  }, 30_000);
});

describe('failover', () => {
  it('a follower refuses with DISPATCHER_NOT_LEADER naming the leader, and the agent moves there', async () => {
    const store = await makeStore(ca, PERIOD_MS);
    await addNode(store, 'w1');
    const leader = await startManager(ca, store, 'm1', { expiryCheckMs: 20 });
    cleanups.push(() => leader.close());
    const follower = await startManager(ca, store, 'm2', {}, { role: 'follower', leaderId: 'm1', leaderAddr: leader.addr });
    cleanups.push(() => follower.close());
    const both = [{ id: 'm1', addr: leader.addr, learner: false }, { id: 'm2', addr: follower.addr, learner: false }];
    leader.status = { ...leader.status, members: both };
    follower.status = { ...follower.status, members: both };
    await until(() => leader.dispatcher.current() !== undefined, 'the leader dispatching');

    const connect = await connectorFor(ca, 'w1');
    const conn = connect(follower.addr);
    cleanups.push(() => conn.close());
    const err = await conn.heartbeat({ sessionId: 'x' }, 5000).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TsswarmError);
    expect((err as TsswarmError).code).toBe('DISPATCHER_NOT_LEADER');
    expect((err as TsswarmError).details.leaderAddr).toBe(leader.addr);

    const { agent } = startAgent('w1', [follower.addr], connect);
    await until(() => agent.status().state === 'connected', 'the agent connected');
    expect(agent.status().managerAddr).toBe(leader.addr);
    expect([...agent.knownManagers()].sort()).toEqual([leader.addr, follower.addr].sort());

    // Leadership moves to m2: m1's dispatcher stops, the agent follows and stays READY.
    leader.status = { ...leader.status, role: 'follower', leaderId: 'm2', leaderAddr: follower.addr };
    follower.status = { ...follower.status, role: 'leader', leaderId: 'm2', leaderAddr: follower.addr };
    await until(() => agent.status().state === 'connected' && agent.status().managerAddr === follower.addr, 'the agent on the new leader');
    await until(() => nodeOf(store, 'w1')?.status?.state === 'READY', 'w1 READY under the new leader');
  }, 30_000);

  it('resends every current status after reconnecting', async () => {
    const store = await makeStore(ca, PERIOD_MS);
    await addNode(store, 'w1');
    await addTask(store, 't1', 'w1');
    const executor = new RecordingExecutor();
    // Statuses the executor knew before any session (e.g. after a daemon restart).
    executor.statuses.set('t1', { timestampMs: 5, state: 'RUNNING', message: 'adopted', err: '' });
    const manager = await startManager(ca, store, 'm1', { statusBatchMs: 10 });
    cleanups.push(() => manager.close());
    startAgent('w1', [manager.addr], await connectorFor(ca, 'w1'), executor);
    await until(() => store.view((tx) => tx.get('task', 't1'))?.status.message === 'adopted', 't1 status resent');
  }, 30_000);
});
