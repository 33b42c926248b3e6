import { describe, expect, it } from 'vitest';
import { TsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { UpdateTaskStatusRequest, UpdateTaskStatusResponse } from '../../../src/manager/dispatcher/messages.js';
import type { TaskStatus } from '../../../src/objects/index.js';
import type { Clock, TimerHandle } from '../../../src/util/clock.js';
import type { DispatcherConnection } from '../../../src/worker/agent/index.js';
import { StatusReporter } from '../../../src/worker/agent/status-reporter.js';

/** Time that moves only when the test says so. */
class ManualClock implements Clock {
  private t = 0;
  private id = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.timers.set(++this.id, { at: this.t + ms, fn });
    return { id: this.id };
  }
  clearTimeout(h: TimerHandle): void {
    this.timers.delete(h.id);
  }
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const [id, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.t) continue;
      this.timers.delete(id);
      timer.fn();
    }
    // Let the fake connection's promises settle.
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

/** A connection whose UpdateTaskStatus calls are recorded and answered by the test. */
function fakeConnection(answer: (req: UpdateTaskStatusRequest) => Promise<UpdateTaskStatusResponse>): { conn: DispatcherConnection; calls: UpdateTaskStatusRequest[] } {
  const calls: UpdateTaskStatusRequest[] = [];
  const unused = (): never => {
    throw new Error('not used here');
  };
  return {
    calls,
    conn: {
      addr: 'fake:1', session: unused, heartbeat: unused, assignments: unused, publishLogs: unused, close: () => undefined,
      updateTaskStatus: (req) => {
        calls.push(req);
        return answer(req);
      },
    },
  };
}

const st = (state: TaskStatus['state']): TaskStatus => ({ timestampMs: 1, state, message: '', err: '' });
const ok = async (): Promise<UpdateTaskStatusResponse> => ({ ignoredTaskIds: [] });
const opts = (clock: Clock) => ({ clock, logger: silentLogger(), batchMs: 50, maxPerCall: 2, retryMs: 1000, rpcTimeoutMs: 5000 });

describe('StatusReporter', () => {
  it('keeps only the latest status per task, batches within batchMs, at most maxPerCall per call', async () => {
    const clock = new ManualClock();
    const r = new StatusReporter(opts(clock));
    const { conn, calls } = fakeConnection(ok);
    r.connected(conn, 's1', new Map());
    r.record('a', st('PREPARING'));
    r.record('a', st('RUNNING'));
    r.record('b', st('RUNNING'));
    r.record('c', st('RUNNING'));
    await clock.advance(49);
    expect(calls).toHaveLength(0);
    await clock.advance(1);
    expect(calls.map((c) => c.updates.map((u) => [u.taskId, u.status?.state]))).toEqual([[['a', 'RUNNING'], ['b', 'RUNNING']]]);
    await clock.advance(0);
    expect(calls[1]?.updates.map((u) => u.taskId)).toEqual(['c']);
    expect(calls.every((c) => c.sessionId === 's1')).toBe(true);
    expect(r.pendingCount()).toBe(0);
  });

  it('waits while disconnected, then sends what waits plus every current status', async () => {
    const clock = new ManualClock();
    const r = new StatusReporter(opts(clock));
    const { conn, calls } = fakeConnection(ok);
    r.record('a', st('RUNNING'));
    await clock.advance(5000);
    expect(calls).toHaveLength(0);
    r.connected(conn, 's2', new Map([['a', st('STARTING')], ['z', st('FAILED')]]));
    await clock.advance(0);
    expect(calls[0]?.updates.map((u) => [u.taskId, u.status?.state])).toEqual([['a', 'RUNNING'], ['z', 'FAILED']]);
  });

  it('drops a task the dispatcher says is not this node\'s, and retries the rest later on other failures', async () => {
    const clock = new ManualClock();
    const r = new StatusReporter(opts(clock));
    let mode: 'not-owned' | 'down' | 'ok' = 'not-owned';
    const { conn, calls } = fakeConnection(async () => {
      if (mode === 'not-owned') throw new TsswarmError('DISPATCHER_TASK_NOT_OWNED', { nodeId: 'n', taskId: 'x', ownerId: 'm' });
      if (mode === 'down') throw new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: 'm', addr: 'fake:1', reason: 'gone' });
      return { ignoredTaskIds: [] };
    });
    r.connected(conn, 's1', new Map());
    r.record('x', st('RUNNING'));
    r.record('y', st('RUNNING'));
    await clock.advance(50);
    expect(r.pendingCount()).toBe(1);
    mode = 'down';
    await clock.advance(0);
    expect(calls).toHaveLength(2);
    await clock.advance(999);
    expect(calls).toHaveLength(2);
    mode = 'ok';
    await clock.advance(1);
    expect(calls).toHaveLength(3);
    expect(calls[2]?.updates.map((u) => u.taskId)).toEqual(['y']);
    expect(r.pendingCount()).toBe(0);
  });

  it('sends on a session that opened while a call to the old one was in flight', async () => {
    const clock = new ManualClock();
    const r = new StatusReporter(opts(clock));
    let release: (() => void) | undefined;
    const old = fakeConnection(() => new Promise((_resolve, reject) => (release = () => reject(new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: 'm', addr: 'a', reason: 'x' })))));
    r.connected(old.conn, 's1', new Map());
    r.record('a', st('RUNNING'));
    await clock.advance(50);
    expect(old.calls).toHaveLength(1);
    r.disconnected();
    const next = fakeConnection(ok);
    r.connected(next.conn, 's2', new Map());
    release!();
    await clock.advance(0);
    await clock.advance(0);
    expect(next.calls.map((c) => [c.sessionId, c.updates.map((u) => u.taskId)])).toEqual([['s2', ['a']]]);
  });
});
