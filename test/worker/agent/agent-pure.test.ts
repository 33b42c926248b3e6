import { describe, expect, it } from 'vitest';
import type { Task, TaskStatus } from '../../../src/objects/index.js';
import { seededRng } from '../../../src/util/rng.js';
import { AssignmentSet } from '../../../src/worker/agent/assignment-set.js';
import { backoffDelayMs } from '../../../src/worker/agent/backoff.js';
import { ManagerPicker } from '../../../src/worker/agent/manager-picker.js';
import { RejectingExecutor, parseAgentConfig } from '../../../src/worker/agent/index.js';
import { TsswarmError } from '../../../src/errors/index.js';
import { codeOf } from '../../support/errors.js';

function task(id: string, state: TaskStatus['state'] = 'ASSIGNED'): Task {
  return {
    id, meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 }, serviceId: 's', slot: 1, nodeId: 'n1', desiredState: 'RUNNING', networks: [], specVersion: 0,
    spec: { runtime: 'PROCESS', image: 'sleep', command: [], args: [], env: [], hostname: '', dir: '', user: '', stopGracePeriodMs: 0, networks: [], forceUpdate: 0 },
    status: { timestampMs: 0, state, message: '', err: '' },
  };
}

describe('ManagerPicker', () => {
  it('tries the preferred manager first, then every manager once per round in random order', () => {
    const p = new ManagerPicker(['a:1', 'b:1', 'c:1'], seededRng(1));
    expect(p.next()).toBe('a:1');
    const round = [p.next(), p.next(), p.next()];
    expect([...round].sort()).toEqual(['a:1', 'b:1', 'c:1']);
    const second = [p.next(), p.next(), p.next()];
    expect([...second].sort()).toEqual(['a:1', 'b:1', 'c:1']);
  });

  it('goes to a named leader next, and never forgets every manager', () => {
    const p = new ManagerPicker(['a:1'], seededRng(2));
    p.next();
    p.prefer('z:9');
    expect(p.next()).toBe('z:9');
    p.replace([]);
    expect(p.known()).toEqual(['a:1', 'z:9']);
    p.replace(['q:1', 'q:1']);
    expect(p.known()).toEqual(['q:1']);
    expect(p.next()).toBe('q:1');
  });

  it('is deterministic for a seed', () => {
    const run = (): string[] => {
      const p = new ManagerPicker(['a', 'b', 'c', 'd'], seededRng(42));
      return Array.from({ length: 9 }, () => p.next()!);
    };
    expect(run()).toEqual(run());
  });
});

describe('backoffDelayMs', () => {
  const policy = { backoffInitialMs: 100, backoffMaxMs: 8000, backoffJitter: 0.5 };
  it('doubles per failure within [half, full] of the base, capped', () => {
    const rng = seededRng(5);
    expect(backoffDelayMs(0, policy, rng)).toBe(0);
    for (const [failures, base] of [[1, 100], [2, 200], [4, 800], [10, 8000], [60, 8000]] as const) {
      const d = backoffDelayMs(failures, policy, rng);
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
    }
    expect(backoffDelayMs(3, policy, { int: () => 0, float: () => 0 })).toBe(200);
    expect(backoffDelayMs(3, policy, { int: () => 0, float: () => 0.9999999 })).toBe(400);
  });
});

describe('AssignmentSet', () => {
  it('replaces on COMPLETE and applies INCREMENTAL changes in sequence', () => {
    const s = new AssignmentSet();
    expect(s.apply({ type: 'COMPLETE', appliesTo: 0, resultsIn: 1, updateTasks: [task('a'), task('b')], removeTasks: [] })).toEqual({ ok: true });
    expect(s.apply({ type: 'INCREMENTAL', appliesTo: 1, resultsIn: 2, updateTasks: [task('c')], removeTasks: ['a'] })).toEqual({ ok: true });
    expect(s.list().map((t) => t.id).sort()).toEqual(['b', 'c']);
    expect(s.apply({ type: 'INCREMENTAL', appliesTo: 5, resultsIn: 6, updateTasks: [], removeTasks: ['b'] }).ok).toBe(false);
    expect(s.has('b')).toBe(true);
    s.resetSequence();
    expect(s.apply({ type: 'INCREMENTAL', appliesTo: 2, resultsIn: 3, updateTasks: [], removeTasks: [] }).ok).toBe(false);
    expect(s.apply({ type: 'COMPLETE', appliesTo: 0, resultsIn: 1, updateTasks: [task('z')], removeTasks: [] }).ok).toBe(true);
    expect(s.list().map((t) => t.id)).toEqual(['z']);
  });
});

describe('RejectingExecutor', () => {
  it('reports every live assigned task REJECTED with TASK_NO_EXECUTOR, once, and nothing else', () => {
    const e = new RejectingExecutor(() => 1234);
    const seen: Array<[string, TaskStatus]> = [];
    e.onStatus((id, st) => seen.push([id, st]));
    e.setAssignments([task('a'), task('b', 'FAILED')]);
    e.setAssignments([task('a')]);
    expect(seen.map(([id, st]) => [id, st.state])).toEqual([['a', 'REJECTED']]);
    expect(seen[0]![1].err).toBe(new TsswarmError('TASK_NO_EXECUTOR', { taskId: 'a' }).message);
    expect(e.currentStatuses().get('a')?.timestampMs).toBe(1234);
    e.setAssignments([]);
    expect(e.currentStatuses().size).toBe(0);
  });
});

describe('agent config', () => {
  it('refuses a bad setting by name', () => {
    expect(codeOf(() => parseAgentConfig({ rpcTimeoutMs: 0 }))).toBe('CONFIG_INVALID');
  });
});
