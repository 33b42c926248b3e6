import { describe, expect, it } from 'vitest';
import { TsswarmError, isTsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { PublishLogsMessage } from '../../../src/manager/dispatcher/messages.js';
import {
  LogBroker, LogQueue, SubscriptionProgress, logLinePrefix, planSubscription, serviceLogTargets, subscriptionsForNode, type BrokerLogItem,
  type LogSessionPort,
} from '../../../src/manager/logbroker/index.js';
import type { Task } from '../../../src/objects/index.js';
import { until } from '../../support/wait.js';

/** The dispatcher as the broker sees it: which nodes have sessions, and whom it was told to update. */
class FakePort implements LogSessionPort {
  readonly changed: string[][] = [];
  constructor(readonly sessions: Set<string>) {}
  hasSession(nodeId: string): boolean {
    return this.sessions.has(nodeId);
  }
  subscriptionsChanged(nodeIds: readonly string[]): void {
    this.changed.push([...nodeIds].sort());
  }
}

function makeBroker(sessions: string[], maxBufferedLines = 100): { broker: LogBroker; port: FakePort } {
  let n = 0;
  const broker = new LogBroker({
    logger: silentLogger(),
    notLeader: () => new TsswarmError('DISPATCHER_NOT_LEADER', { nodeId: 'm1', leaderId: '(none yet)', leaderAddr: '' }),
    config: { maxBufferedLines },
    newSubscriptionId: () => `sub${++n}`,
  });
  const port = new FakePort(new Set(sessions));
  broker.attach(port);
  return { broker, port };
}

function msg(part: Partial<PublishLogsMessage> & { subscriptionId: string }): PublishLogsMessage {
  return { sessionId: 's', lines: [], taskErrors: [], close: false, ...part };
}

function line(taskId: string, text: string, stream: 'LOG_STREAM_STDOUT' | 'LOG_STREAM_STDERR' = 'LOG_STREAM_STDOUT') {
  return { taskId, stream, timestampMs: 1000, data: Buffer.from(text) };
}

async function drain(items: AsyncIterable<BrokerLogItem>): Promise<BrokerLogItem[]> {
  const out: BrokerLogItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'nothing thrown', (err: unknown) => (isTsswarmError(err) ? err.code : `not a TsswarmError: ${String(err)}`));
}

describe('planSubscription', () => {
  it('groups tasks by node, once each; tasks on nodes without a session or without a node are unavailable', () => {
    const plan = planSubscription(
      [{ taskId: 't1', nodeId: 'n1' }, { taskId: 't2', nodeId: 'n2' }, { taskId: 't3', nodeId: 'n1' }, { taskId: 't1', nodeId: 'n1' },
        { taskId: 't4', nodeId: 'down' }, { taskId: 't5', nodeId: '' }],
      (n) => n === 'n1' || n === 'n2',
    );
    expect(Object.fromEntries(plan.parts)).toEqual({ n1: ['t1', 't3'], n2: ['t2'] });
    expect(plan.unavailable).toEqual([{ taskId: 't4', nodeId: 'down' }, { taskId: 't5', nodeId: '' }]);
  });

  it('lists a node only the subscriptions with open tasks there, sorted; tail only without follow', () => {
    const view = (id: string, follow: boolean, tasks: Record<string, string[]>) => ({ id, follow, tail: 5, openTasks: (n: string) => tasks[n] ?? [] });
    const subs = [view('b', true, { n1: ['t2', 't1'] }), view('a', false, { n1: ['t3'] }), view('c', false, { n2: ['t9'] })];
    expect(subscriptionsForNode(subs, 'n1')).toEqual([
      { id: 'a', taskIds: ['t3'], follow: false, tail: 5 },
      { id: 'b', taskIds: ['t1', 't2'], follow: true, tail: 0 },
    ]);
    expect(subscriptionsForNode(subs, 'n3')).toEqual([]);
  });
});

describe('SubscriptionProgress', () => {
  it('is complete once every part closed, failed or lost all its tasks', () => {
    const p = new SubscriptionProgress(new Map([['n1', ['t1', 't2']], ['n2', ['t3']], ['n3', ['t4']]]));
    expect(p.owns('n1', 't1')).toBe(true);
    expect(p.owns('n2', 't1')).toBe(false);
    expect(p.endTask('n1', 't1')).toBe(true);
    expect(p.endTask('n1', 't1')).toBe(false);
    expect(p.owns('n1', 't1')).toBe(false);
    p.closeNode('n2');
    expect(p.hasPart('n2')).toBe(false);
    expect(p.failNode('n3')).toEqual(['t4']);
    expect(p.complete()).toBe(false);
    expect(p.endTask('n1', 't2')).toBe(true);
    expect(p.complete()).toBe(true);
  });
});

describe('LogQueue', () => {
  it('makes pushers wait above its bound, hands out what was queued before failing, and calls onLeave once', async () => {
    let left = 0;
    const q = new LogQueue<number>(2, () => left++);
    await q.push([1, 2]);
    let released = false;
    const waiting = q.push([3]).then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: 1 });
    await waiting;
    expect(released).toBe(true);
    q.fail(new TsswarmError('INTERNAL', { detail: 'x' }));
    expect((await it.next()).value).toBe(2);
    expect((await it.next()).value).toBe(3);
    expect(await codeOfAsync(it.next())).toBe('INTERNAL');
    await it.return!();
    await it.return!();
    expect(left).toBe(1);
  });
});

describe('LogBroker', () => {
  it('delivers the lines of every node with task and node, and ends when every node closed (non-follow)', async () => {
    const { broker, port } = makeBroker(['n1', 'n2']);
    const items = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }, { taskId: 't2', nodeId: 'n2' }], follow: false, tail: 3 });
    expect(port.changed).toEqual([['n1', 'n2']]);
    expect(broker.subscriptionsFor('n1')).toEqual([{ id: 'sub1', taskIds: ['t1'], follow: false, tail: 3 }]);
    const all = drain(items);
    await broker.publish('n1', msg({ subscriptionId: 'sub1', lines: [line('t1', 'a'), line('t1', 'b', 'LOG_STREAM_STDERR')], close: true }));
    expect(broker.subscriptionsFor('n1')).toEqual([]);
    await broker.publish('n2', msg({ subscriptionId: 'sub1', lines: [line('t2', 'c')] }));
    await broker.publish('n2', msg({ subscriptionId: 'sub1', close: true }));
    expect(await all).toEqual([
      { kind: 'line', taskId: 't1', nodeId: 'n1', stream: 'stdout', timestampMs: 1000, line: 'a' },
      { kind: 'line', taskId: 't1', nodeId: 'n1', stream: 'stderr', timestampMs: 1000, line: 'b' },
      { kind: 'line', taskId: 't2', nodeId: 'n2', stream: 'stdout', timestampMs: 1000, line: 'c' },
    ]);
    expect(broker.subscriptionCount()).toBe(0);
    // The nodes were told when their part ended, so their session messages drop it.
    expect(port.changed).toContainEqual(['n2']);
  });

  it('refuses a node publishing a part that is not its own, and delivers nothing of that message', async () => {
    const { broker } = makeBroker(['n1', 'n2']);
    const items = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }, { taskId: 't2', nodeId: 'n2' }], follow: false });
    expect(await codeOfAsync(broker.publish('n2', msg({ subscriptionId: 'sub1', lines: [line('t2', 'ok'), line('t1', 'lie')] })))).toBe('DISPATCHER_LOG_SUBSCRIPTION_INVALID');
    expect(await codeOfAsync(broker.publish('n3', msg({ subscriptionId: 'sub1', lines: [] })))).toBe('DISPATCHER_LOG_SUBSCRIPTION_INVALID');
    expect(await codeOfAsync(broker.publish('n1', msg({ subscriptionId: 'nope', close: true })))).toBe('DISPATCHER_LOG_SUBSCRIPTION_INVALID');
    await broker.publish('n1', msg({ subscriptionId: 'sub1', close: true }));
    await broker.publish('n2', msg({ subscriptionId: 'sub1', close: true }));
    expect(await drain(items)).toEqual([]);
    // A closed part cannot publish more.
    expect(await codeOfAsync(broker.publish('n1', msg({ subscriptionId: 'sub1', lines: [line('t1', 'late')] })))).toBe('DISPATCHER_LOG_SUBSCRIPTION_INVALID');
  });

  it('ends the part of a node without a session, or whose session ends, with LOGS_NODE_UNAVAILABLE instead of hanging', async () => {
    const { broker } = makeBroker(['n1', 'n2']);
    const items = broker.subscribe({
      tasks: [{ taskId: 't1', nodeId: 'n1' }, { taskId: 't2', nodeId: 'n2' }, { taskId: 't3', nodeId: 'gone' }], follow: true,
    });
    const all = drain(items);
    broker.sessionEnded('n2', 'no heartbeat for 3 periods');
    broker.streamBroken('n1', 'sub1', 'cancelled');
    const got = await all;
    expect(got.map((i) => (i.kind === 'error' ? [i.taskId, i.nodeId, i.error.code] : i))).toEqual([
      ['t3', 'gone', 'LOGS_NODE_UNAVAILABLE'], ['t2', 'n2', 'LOGS_NODE_UNAVAILABLE'], ['t1', 'n1', 'LOGS_NODE_UNAVAILABLE'],
    ]);
  });

  it('turns a node\'s task error into the same TsswarmError and ends that task only', async () => {
    const { broker } = makeBroker(['n1']);
    const items = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }, { taskId: 't2', nodeId: 'n1' }], follow: false });
    const all = drain(items);
    await broker.publish('n1', msg({ subscriptionId: 'sub1', taskErrors: [{ taskId: 't2', code: 'TASK_NOT_FOUND', detailsJson: '{"taskId":"t2"}' }] }));
    expect(broker.subscriptionsFor('n1')).toEqual([{ id: 'sub1', taskIds: ['t1'], follow: false, tail: 0 }]);
    await broker.publish('n1', msg({ subscriptionId: 'sub1', taskErrors: [{ taskId: 't1', code: 'NO_SUCH_CODE', detailsJson: 'not json' }] }));
    const got = await all;
    expect(got.map((i) => (i.kind === 'error' ? [i.taskId, i.error.code, i.error.details.taskId] : i))).toEqual([
      ['t2', 'TASK_NOT_FOUND', 't2'], ['t1', 'LOGS_TASK_FAILED', 't1'],
    ]);
  });

  it('withdraws a follow subscription from the nodes when the signal aborts or the reader leaves', async () => {
    const { broker, port } = makeBroker(['n1']);
    const ac = new AbortController();
    const items = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }], follow: true, signal: ac.signal });
    const seen: BrokerLogItem[] = [];
    const reading = (async () => {
      for await (const item of items) seen.push(item);
    })();
    await broker.publish('n1', msg({ subscriptionId: 'sub1', lines: [line('t1', 'one')] }));
    await until(() => seen.length === 1, 'the first line');
    port.changed.length = 0;
    ac.abort();
    await reading;
    expect(broker.subscriptionsFor('n1')).toEqual([]);
    expect(port.changed).toEqual([['n1']]);
    expect(await codeOfAsync(broker.publish('n1', msg({ subscriptionId: 'sub1', lines: [line('t1', 'two')] })))).toBe('DISPATCHER_LOG_SUBSCRIPTION_INVALID');

    // A reader that leaves (for-await's break calls return) withdraws it too.
    const again = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }], follow: true });
    expect(broker.subscriptionCount()).toBe(1);
    const it = again[Symbol.asyncIterator]();
    await broker.publish('n1', msg({ subscriptionId: 'sub2', lines: [line('t1', 'x')] }));
    expect((await it.next()).done).toBe(false);
    await it.return!();
    expect(broker.subscriptionCount()).toBe(0);
    expect(broker.subscriptionsFor('n1')).toEqual([]);
  });

  it('holds a fast node back while the reader is slow (nothing dropped)', async () => {
    const { broker } = makeBroker(['n1'], 2);
    const items = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }], follow: false });
    let accepted = false;
    const publishing = broker.publish('n1', msg({ subscriptionId: 'sub1', lines: [line('t1', '1'), line('t1', '2'), line('t1', '3')], close: true }))
      .then(() => (accepted = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(accepted).toBe(false);
    const got = await drain(items);
    await publishing;
    expect(got.map((i) => (i.kind === 'line' ? i.line : '?'))).toEqual(['1', '2', '3']);
  });

  it('refuses to subscribe without a dispatcher, and fails every reader when the dispatcher stops', async () => {
    const { broker } = makeBroker(['n1']);
    const items = broker.subscribe({ tasks: [{ taskId: 't1', nodeId: 'n1' }], follow: true });
    const reading = drain(items);
    broker.detach(new TsswarmError('DISPATCHER_NOT_LEADER', { nodeId: 'm1', leaderId: 'm2', leaderAddr: 'x:2377' }));
    expect(await codeOfAsync(reading)).toBe('DISPATCHER_NOT_LEADER');
    let code = '';
    try {
      broker.subscribe({ tasks: [], follow: false });
    } catch (err) {
      code = isTsswarmError(err) ? err.code : String(err);
    }
    expect(code).toBe('DISPATCHER_NOT_LEADER');
  });
});

describe('logLinePrefix', () => {
  it.each([
    [{ serviceName: 'web', slot: 1, nodeId: 'n1', taskId: 'abc123def456789', hostname: 'host1' }, {}, 'web.1.abc123def456@host1    | '],
    [{ serviceName: 'web', slot: 2, nodeId: 'n1', taskId: 'abc123def456789', hostname: 'host1' }, { noTrunc: true }, 'web.2.abc123def456789@host1    | '],
    [{ serviceName: 'agent', slot: 0, nodeId: 'node7', taskId: 'xyz', hostname: '' }, {}, 'agent.node7.xyz@node7    | '],
  ])('%o %o', (origin, opts, expected) => {
    expect(logLinePrefix(origin, opts)).toBe(expected);
  });
});

describe('serviceLogTargets', () => {
  it('takes the service\'s tasks that reached a node, by slot then ID', () => {
    const task = (id: string, serviceId: string, slot: number, nodeId: string, state: Task['status']['state']): Task =>
      ({ id, serviceId, slot, nodeId, status: { state } }) as Task;
    const tasks = [
      task('b', 's1', 2, 'n1', 'RUNNING'), task('a', 's1', 2, 'n2', 'SHUTDOWN'), task('c', 's1', 1, 'n3', 'ASSIGNED'),
      task('d', 's1', 3, '', 'PENDING'), task('e', 's1', 4, 'n1', 'PENDING'), task('f', 's2', 1, 'n1', 'RUNNING'),
    ];
    expect(serviceLogTargets(tasks, 's1')).toEqual([{ taskId: 'c', nodeId: 'n3' }, { taskId: 'a', nodeId: 'n2' }, { taskId: 'b', nodeId: 'n1' }]);
  });
});
