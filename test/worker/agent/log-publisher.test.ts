import { describe, expect, it } from 'vitest';
import { TsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { LogSubscription, PublishLogsMessage } from '../../../src/manager/dispatcher/messages.js';
import { systemClock } from '../../../src/util/clock.js';
import {
  LineBatch, LogPublisher, TailBuffer, diffSubscriptions, missingLogSource, taskErrorOf, type DispatcherConnection, type LogPublishStream, type LogSource,
} from '../../../src/worker/agent/index.js';
import { until } from '../../support/wait.js';
import { FakeLogSource } from './fake-log-source.js';

/** A connection whose PublishLogs streams record what they were sent. */
class RecordingConnection {
  readonly streams: Array<{ messages: PublishLogsMessage[]; finished: boolean; cancelled: boolean }> = [];
  refuse: TsswarmError | undefined;

  readonly conn: DispatcherConnection = this.connection();

  private connection(): DispatcherConnection {
    const unused = (): never => {
      throw new Error('not used here');
    };
    return {
      addr: 'fake:1', session: unused, heartbeat: unused, assignments: unused, updateTaskStatus: unused, close: () => undefined,
      publishLogs: (): LogPublishStream => {
        const record = { messages: [] as PublishLogsMessage[], finished: false, cancelled: false };
        this.streams.push(record);
        return {
          write: async (m) => {
            if (this.refuse !== undefined) throw this.refuse;
            record.messages.push(m);
          },
          finish: async () => {
            record.finished = true;
          },
          cancel: () => {
            record.cancelled = true;
          },
        };
      },
    };
  }
}

function publisher(source: LogSource, maxLines = 100): LogPublisher {
  return new LogPublisher({
    nodeId: 'n1', source, clock: systemClock, logger: silentLogger(), batchMs: 5, maxLinesPerMessage: maxLines, maxBytesPerMessage: 1 << 20,
  });
}

const sub = (id: string, taskIds: string[], follow = false, tail = 0): LogSubscription => ({ id, taskIds, follow, tail });

function linesOf(messages: PublishLogsMessage[]): string[] {
  return messages.flatMap((m) => m.lines.map((l) => `${l.taskId}:${l.stream === 'LOG_STREAM_STDERR' ? 'err' : 'out'}:${Buffer.from(l.data as Uint8Array).toString()}`));
}

describe('the pure parts', () => {
  it('LineBatch is full at its line or byte limit', () => {
    const byLines = new LineBatch(2, 1000);
    expect(byLines.add('t', { stream: 'stdout', timestampMs: 1, line: 'a' })).toBe(false);
    expect(byLines.add('t', { stream: 'stderr', timestampMs: 2, line: 'b' })).toBe(true);
    const taken = byLines.take();
    expect(taken.map((l) => [l.stream, Buffer.from(l.data as Uint8Array).toString(), l.timestampMs])).toEqual([['LOG_STREAM_STDOUT', 'a', 1], ['LOG_STREAM_STDERR', 'b', 2]]);
    expect(byLines.size).toBe(0);
    const byBytes = new LineBatch(100, 4);
    expect(byBytes.add('t', { stream: 'stdout', timestampMs: 1, line: 'abc' })).toBe(false);
    expect(byBytes.add('t', { stream: 'stdout', timestampMs: 1, line: 'é' })).toBe(true);
  });

  it('diffSubscriptions starts the new and stops the vanished', () => {
    expect(diffSubscriptions(['a', 'b'], [sub('b', ['t']), sub('c', ['t'])])).toEqual({ start: [sub('c', ['t'])], stop: ['a'] });
  });

  it('TailBuffer keeps the last lines, or all with 0', () => {
    const t = new TailBuffer(2);
    const all = new TailBuffer(0);
    for (const n of [1, 2, 3]) {
      t.add({ stream: 'stdout', timestampMs: n, line: String(n) });
      all.add({ stream: 'stdout', timestampMs: n, line: String(n) });
    }
    expect(t.take().map((l) => l.line)).toEqual(['2', '3']);
    expect(all.take().map((l) => l.line)).toEqual(['1', '2', '3']);
  });

  it('taskErrorOf carries a TsswarmError\'s code and details, anything else as LOGS_TASK_FAILED', () => {
    expect(taskErrorOf('t1', 'n1', new TsswarmError('TASK_NOT_FOUND', { taskId: 't1' }))).toEqual({ taskId: 't1', code: 'TASK_NOT_FOUND', detailsJson: '{"taskId":"t1"}' });
    expect(taskErrorOf('t1', 'n1', new Error('disk')).code).toBe('LOGS_TASK_FAILED');
  });
});

describe('LogPublisher', () => {
  it('publishes every task of a non-follow subscription, reports an unknown task, then closes and finishes', async () => {
    const source = new FakeLogSource();
    source.add('t1', 'one');
    source.add('t1', 'two', 'stderr');
    source.add('t2', 'three');
    const rec = new RecordingConnection();
    const p = publisher(source);
    p.update(rec.conn, 'sess1', [sub('s1', ['t1', 't2', 'ghost'])]);
    await until(() => rec.streams[0]?.finished === true, 'the stream finished');
    const messages = rec.streams[0]!.messages;
    expect(messages.every((m) => m.sessionId === 'sess1' && m.subscriptionId === 's1')).toBe(true);
    expect(linesOf(messages).sort()).toEqual(['t1:err:two', 't1:out:one', 't2:out:three']);
    expect(messages.flatMap((m) => m.taskErrors)).toEqual([{ taskId: 'ghost', code: 'TASK_NOT_FOUND', detailsJson: '{"taskId":"ghost"}' }]);
    expect(messages.at(-1)?.close).toBe(true);
    expect(messages.filter((m) => m.close)).toHaveLength(1);
    expect(p.activeCount()).toBe(0);
    // Still listed (the manager has not seen the close yet): not started again.
    p.update(rec.conn, 'sess1', [sub('s1', ['t1', 't2', 'ghost'])]);
    expect(rec.streams).toHaveLength(1);
  });

  it('sends only the last lines with a tail, in batches of the configured size', async () => {
    const source = new FakeLogSource();
    for (let i = 1; i <= 5; i++) source.add('t1', `l${i}`);
    const rec = new RecordingConnection();
    publisher(source, 2).update(rec.conn, 's', [sub('s1', ['t1'], false, 3)]);
    await until(() => rec.streams[0]?.finished === true, 'the stream finished');
    expect(linesOf(rec.streams[0]!.messages)).toEqual(['t1:out:l3', 't1:out:l4', 't1:out:l5']);
    expect(Math.max(...rec.streams[0]!.messages.map((m) => m.lines.length))).toBe(2);
  });

  it('follows new lines until the subscription leaves the list, then aborts its readers and cancels its stream', async () => {
    const source = new FakeLogSource();
    source.add('t1', 'old');
    const rec = new RecordingConnection();
    const p = publisher(source);
    p.update(rec.conn, 's', [sub('f1', ['t1'], true)]);
    await until(() => linesOf(rec.streams[0]!.messages).length === 1, 'the old line');
    source.add('t1', 'new');
    await until(() => linesOf(rec.streams[0]!.messages).length === 2, 'the new line');
    expect(rec.streams[0]!.messages.some((m) => m.close)).toBe(false);
    expect(source.active).toBe(1);
    p.update(rec.conn, 's', []);
    await until(() => source.active === 0, 'the reader to stop');
    expect(source.aborted).toBe(1);
    expect(rec.streams[0]!.cancelled).toBe(true);
  });

  it('stops everything when the session changes or ends', async () => {
    const source = new FakeLogSource().known('t1');
    const rec = new RecordingConnection();
    const p = publisher(source);
    p.update(rec.conn, 's', [sub('f1', ['t1'], true)]);
    await until(() => source.active === 1, 'the reader');
    p.update(rec.conn, 'other-session', [sub('f1', ['t1'], true)]);
    await until(() => source.aborted === 1, 'the first reader aborted');
    expect(rec.streams).toHaveLength(2);
    p.stopAll();
    await until(() => source.active === 0 && source.aborted === 2, 'the second reader aborted');
  });

  it('stops a subscription whose stream the manager refused', async () => {
    const source = new FakeLogSource().known('t1');
    const rec = new RecordingConnection();
    rec.refuse = new TsswarmError('DISPATCHER_LOG_SUBSCRIPTION_INVALID', { nodeId: 'n1', subscriptionId: 'f1', reason: 'test' });
    const p = publisher(source);
    p.update(rec.conn, 's', [sub('f1', ['t1'], true)]);
    source.add('t1', 'x');
    await until(() => p.activeCount() === 0 && source.active === 0, 'the subscription to stop');
    expect(rec.streams[0]!.cancelled).toBe(true);
  });

  it('without a log source every task ends with AGENT_NO_LOG_SOURCE', async () => {
    const rec = new RecordingConnection();
    publisher(missingLogSource('n1')).update(rec.conn, 's', [sub('s1', ['t1'])]);
    await until(() => rec.streams[0]?.finished === true, 'the stream finished');
    expect(rec.streams[0]!.messages.flatMap((m) => m.taskErrors.map((e) => e.code))).toEqual(['AGENT_NO_LOG_SOURCE']);
  });
});
