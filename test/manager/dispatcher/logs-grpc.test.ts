import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { LogSubscription } from '../../../src/manager/dispatcher/messages.js';
import type { BrokerLogItem } from '../../../src/manager/logbroker/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { seededRng } from '../../../src/util/rng.js';
import { Agent, type DispatcherConnector } from '../../../src/worker/agent/index.js';
import { until } from '../../support/wait.js';
import { FakeLogSource } from '../../worker/agent/fake-log-source.js';
import { RecordingExecutor, addNode, addTask, connectorFor, makeStore, makeTestCa, startManager, type TestCa, type TestManager } from './dispatcher-harness.js';

/**
 * `service logs` end to end below the Control API: the leader's log broker and dispatcher,
 * agents with fake log sources, real gRPC with mutual TLS on loopback. Every wait is for a
 * state, never for a time.
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

async function cluster(workers: string[], maxBufferedLines?: number): Promise<TestManager> {
  const store = await makeStore(ca, PERIOD_MS);
  await addNode(store, 'm1', 'MANAGER');
  for (const w of workers) await addNode(store, w);
  await addTask(store, 't1', 'w1');
  await addTask(store, 't2', 'w2');
  await addTask(store, 't3', 'w1');
  const manager = await startManager(
    ca, store, 'm1', { assignmentBatchMs: 10, statusBatchMs: 10, expiryCheckMs: 20 }, undefined,
    maxBufferedLines !== undefined ? { maxBufferedLines } : undefined,
  );
  cleanups.push(() => manager.close());
  await until(() => manager.dispatcher.current() !== undefined, 'the dispatcher to start on the leader');
  return manager;
}

function startAgent(nodeId: string, manager: TestManager, connect: DispatcherConnector, source: FakeLogSource, maxLogLinesPerMessage = 1000): Agent {
  const agent = new Agent({
    nodeId, managers: [manager.addr], advertiseAddr: '', description: () => ({ hostname: `host-${nodeId}` }),
    executor: new RecordingExecutor(), logSource: source, connect, clock: systemClock, rng: seededRng(5), logger: silentLogger(),
    config: { statusBatchMs: 10, backoffInitialMs: 20, backoffMaxMs: 200, logBatchMs: 5, maxLogLinesPerMessage },
  });
  agent.start();
  cleanups.push(() => agent.stop());
  return agent;
}

/** Wraps a connector to record the log subscriptions each session message listed. */
function recordingSubscriptions(connect: DispatcherConnector): { connect: DispatcherConnector; seen: LogSubscription[][] } {
  const seen: LogSubscription[][] = [];
  return {
    seen,
    connect: (addr) => {
      const conn = connect(addr);
      return {
        ...conn,
        session: (req, handlers) => conn.session(req, {
          onMessage: (m) => {
            seen.push(m.logSubscriptions);
            handlers.onMessage(m);
          },
          onError: handlers.onError,
        }),
      };
    },
  };
}

async function connected(...agents: Agent[]): Promise<void> {
  await until(() => agents.every((a) => a.status().state === 'connected'), 'the agents connected');
}

function describeItem(item: BrokerLogItem): string {
  return item.kind === 'line' ? `${item.taskId}@${item.nodeId} ${item.stream} ${item.line}` : `${item.taskId}@${item.nodeId} error ${item.error.code}`;
}

async function collect(items: AsyncIterable<BrokerLogItem>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of items) out.push(describeItem(item));
  return out;
}

describe('service logs through the log broker', () => {
  it('a non-follow subscription to tasks on two nodes returns all their lines with task and node, and ends', async () => {
    const manager = await cluster(['w1', 'w2']);
    const s1 = new FakeLogSource();
    s1.add('t1', 'hello from t1');
    s1.add('t1', 'oops', 'stderr');
    const s2 = new FakeLogSource();
    s2.add('t2', 'hello from t2');
    const a1 = startAgent('w1', manager, await connectorFor(ca, 'w1'), s1);
    const a2 = startAgent('w2', manager, await connectorFor(ca, 'w2'), s2);
    await connected(a1, a2);
    const got = await collect(manager.dispatcher.subscribeLogs({
      tasks: [{ taskId: 't1', nodeId: 'w1' }, { taskId: 't2', nodeId: 'w2' }, { taskId: 't3', nodeId: 'w1' }], follow: false,
    }));
    expect(got.sort()).toEqual([
      't1@w1 stderr oops', 't1@w1 stdout hello from t1', 't2@w2 stdout hello from t2',
      // t3 is assigned to w1 but its executor does not know it.
      't3@w1 error TASK_NOT_FOUND',
    ]);
    expect(s1.calls.map((c) => c.follow)).toEqual([false, false]);
    await until(() => a1.status().logSubscriptions === 0 && a2.status().logSubscriptions === 0, 'the agents done');
  }, 30_000);

  it('follow keeps delivering new lines until aborted, after which the agents stop reading', async () => {
    const manager = await cluster(['w1', 'w2']);
    const s1 = new FakeLogSource().known('t1');
    const s2 = new FakeLogSource().known('t2');
    s2.add('t2', 'before');
    const a1 = startAgent('w1', manager, await connectorFor(ca, 'w1'), s1);
    const a2 = startAgent('w2', manager, await connectorFor(ca, 'w2'), s2);
    await connected(a1, a2);
    const ac = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const item of manager.dispatcher.subscribeLogs({
        tasks: [{ taskId: 't1', nodeId: 'w1' }, { taskId: 't2', nodeId: 'w2' }], follow: true, signal: ac.signal,
      })) seen.push(describeItem(item));
    })();
    await until(() => seen.includes('t2@w2 stdout before'), 'the existing line');
    await until(() => s1.active === 1 && s2.active === 1, 'both readers following');
    s1.add('t1', 'later 1');
    s2.add('t2', 'later 2');
    await until(() => seen.includes('t1@w1 stdout later 1') && seen.includes('t2@w2 stdout later 2'), 'the new lines');
    s1.add('t1', 'later 3');
    await until(() => seen.includes('t1@w1 stdout later 3'), 'another new line');
    ac.abort();
    await reading;
    await until(() => s1.active === 0 && s2.active === 0, 'the agents to stop reading');
    expect(s1.aborted).toBe(1);
    expect(s2.aborted).toBe(1);
    expect(seen.filter((l) => l.includes('error'))).toEqual([]);
  }, 30_000);

  it('a node without a session, and a node whose agent goes away, end their part with an error instead of hanging', async () => {
    const manager = await cluster(['w1', 'w2']);
    const s1 = new FakeLogSource();
    s1.add('t1', 'from w1');
    const a1 = startAgent('w1', manager, await connectorFor(ca, 'w1'), s1);
    await connected(a1);
    // w2 never opened a session.
    const got = await collect(manager.dispatcher.subscribeLogs({ tasks: [{ taskId: 't1', nodeId: 'w1' }, { taskId: 't2', nodeId: 'w2' }], follow: false }));
    expect(got.sort()).toEqual(['t1@w1 stdout from w1', 't2@w2 error LOGS_NODE_UNAVAILABLE']);

    // A follower whose node stops: its stream breaks, its part ends, the subscription ends.
    const s2 = new FakeLogSource().known('t2');
    const a2 = startAgent('w2', manager, await connectorFor(ca, 'w2'), s2);
    await connected(a2);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const item of manager.dispatcher.subscribeLogs({ tasks: [{ taskId: 't2', nodeId: 'w2' }], follow: true })) seen.push(describeItem(item));
    })();
    await until(() => s2.active === 1, 'w2 following');
    await a2.stop();
    await reading;
    expect(seen).toEqual(['t2@w2 error LOGS_NODE_UNAVAILABLE']);
  }, 30_000);

  it('a node cannot publish lines for a subscription that is not its own', async () => {
    const manager = await cluster(['w1', 'w2']);
    const s1 = new FakeLogSource().known('t1');
    const w1 = recordingSubscriptions(await connectorFor(ca, 'w1'));
    const a1 = startAgent('w1', manager, w1.connect, s1);
    const w2connect = await connectorFor(ca, 'w2');
    const a2 = startAgent('w2', manager, w2connect, new FakeLogSource());
    await connected(a1, a2);
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    const seen: string[] = [];
    const reading = (async () => {
      for await (const item of manager.dispatcher.subscribeLogs({ tasks: [{ taskId: 't1', nodeId: 'w1' }], follow: true, signal: ac.signal })) {
        seen.push(describeItem(item));
      }
    })();
    await until(() => w1.seen.some((subs) => subs.length === 1), 'w1 told of the subscription');
    const subscriptionId = w1.seen.find((subs) => subs.length === 1)![0]!.id;

    const conn = w2connect(manager.addr);
    cleanups.push(() => conn.close());
    const lie = { taskId: 't1', stream: 'LOG_STREAM_STDOUT' as const, timestampMs: 1, data: Buffer.from('forged') };
    // With its own session: refused, the part is not its own.
    const own = conn.publishLogs();
    const err = await own.write({ sessionId: a2.status().sessionId, subscriptionId, lines: [lie], taskErrors: [], close: true })
      .then(() => own.finish()).then(() => undefined, (e: unknown) => e);
    expect(isTsswarmError(err) ? err.code : err).toBe('DISPATCHER_LOG_SUBSCRIPTION_INVALID');
    // With w1's session ID but w2's certificate: refused, not w2's session.
    const stolen = conn.publishLogs();
    const err2 = await stolen.write({ sessionId: a1.status().sessionId, subscriptionId, lines: [lie], taskErrors: [], close: true })
      .then(() => stolen.finish()).then(() => undefined, (e: unknown) => e);
    expect(isTsswarmError(err2) ? err2.code : err2).toBe('DISPATCHER_SESSION_INVALID');

    // The real owner still delivers, and nothing forged arrived.
    s1.add('t1', 'genuine');
    await until(() => seen.includes('t1@w1 stdout genuine'), 'the genuine line');
    ac.abort();
    await reading;
    expect(seen).toEqual(['t1@w1 stdout genuine']);
  }, 30_000);

  it('a slow reader holds the nodes back and still gets every line, in order per task', async () => {
    const manager = await cluster(['w1', 'w2'], 3);
    const s1 = new FakeLogSource();
    const s2 = new FakeLogSource();
    for (let i = 0; i < 200; i++) {
      s1.add('t1', `a${i}`);
      s2.add('t2', `b${i}`);
    }
    const a1 = startAgent('w1', manager, await connectorFor(ca, 'w1'), s1, 7);
    const a2 = startAgent('w2', manager, await connectorFor(ca, 'w2'), s2, 7);
    await connected(a1, a2);
    const got: string[] = [];
    for await (const item of manager.dispatcher.subscribeLogs({ tasks: [{ taskId: 't1', nodeId: 'w1' }, { taskId: 't2', nodeId: 'w2' }], follow: false })) {
      got.push(describeItem(item));
      // A reader slower than the nodes: the broker's 3-line buffer is full most of the time.
      if (got.length % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const expected = (task: string, node: string, prefix: string): string[] => Array.from({ length: 200 }, (_, i) => `${task}@${node} stdout ${prefix}${i}`);
    expect(got.filter((l) => l.startsWith('t1@'))).toEqual(expected('t1', 'w1', 'a'));
    expect(got.filter((l) => l.startsWith('t2@'))).toEqual(expected('t2', 'w2', 'b'));
    expect(got).toHaveLength(400);
  }, 30_000);
});
