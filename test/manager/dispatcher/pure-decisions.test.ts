import { describe, expect, it } from 'vitest';
import {
  AssignmentTracker, HeartbeatTracker, decideStatusUpdate, jitteredPeriod, notLeaderError, managerPeers, sessionMessage, trustedRootsPem,
  parseDispatcherConfig,
} from '../../../src/manager/dispatcher/index.js';
import type { Cluster, Task, TaskStatus } from '../../../src/objects/index.js';
import { codeOf } from '../../support/errors.js';

function task(id: string, nodeId: string, state: TaskStatus['state'], extra: Partial<Task> = {}): Task {
  return {
    id, meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 }, serviceId: 's', slot: 1, nodeId, desiredState: 'RUNNING', networks: [], specVersion: 0,
    spec: { runtime: 'PROCESS', image: 'sleep', command: [], args: [], env: [], hostname: '', dir: '', user: '', stopGracePeriodMs: 0, networks: [], forceUpdate: 0 },
    status: { timestampMs: 0, state, message: '', err: '' },
    ...extra,
  };
}

const status = (state: TaskStatus['state'], message = ''): TaskStatus => ({ timestampMs: 9, state, message, err: '' });

describe('HeartbeatTracker', () => {
  it('expires a node only after missedHeartbeats periods without a beat', () => {
    const t = new HeartbeatTracker(3);
    t.register('n1', 0, 100);
    expect(t.takeExpired(300)).toEqual([]);
    expect(t.beat('n1', 250, 100)).toBe(true);
    expect(t.takeExpired(549)).toEqual([]);
    expect(t.takeExpired(551)).toEqual(['n1']);
    expect(t.has('n1')).toBe(false);
    expect(t.beat('n1', 600, 100)).toBe(false);
  });

  it('gives inherited nodes the grace multiplier', () => {
    const t = new HeartbeatTracker(3);
    t.register('n1', 0, 100, 2);
    expect(t.takeExpired(599)).toEqual([]);
    expect(t.takeExpired(601)).toEqual(['n1']);
  });

  it('jitter only shortens the period', () => {
    expect(jitteredPeriod(1000, 0.1, 0)).toBe(1000);
    expect(jitteredPeriod(1000, 0.1, 0.999)).toBe(900);
  });
});

describe('AssignmentTracker', () => {
  it('sends the complete set of tasks ASSIGNED or later on this node, then only real changes', () => {
    const a = new AssignmentTracker('n1');
    const first = a.complete([task('t1', 'n1', 'ASSIGNED'), task('t2', 'n1', 'PENDING'), task('t3', 'n2', 'RUNNING')]);
    expect(first).toMatchObject({ type: 'COMPLETE', appliesTo: 0, resultsIn: 1 });
    expect(first.updateTasks.map((t) => t.id)).toEqual(['t1']);
    // A status-only change (the agent's own report) is not sent back.
    a.observe('update', task('t1', 'n1', 'RUNNING', { meta: { version: 5, createdAtMs: 0, updatedAtMs: 1 } }));
    expect(a.takeIncremental(10)).toBeUndefined();
    a.observe('update', task('t2', 'n1', 'ASSIGNED'));
    a.observe('update', task('t1', 'n1', 'RUNNING', { desiredState: 'SHUTDOWN' }));
    const next = a.takeIncremental(10)!;
    expect(next).toMatchObject({ type: 'INCREMENTAL', appliesTo: 1, resultsIn: 2, removeTasks: [] });
    expect(next.updateTasks.map((t) => t.id).sort()).toEqual(['t1', 't2']);
    a.observe('delete', task('t2', 'n1', 'ASSIGNED'));
    a.observe('update', task('t1', 'n9', 'RUNNING', { desiredState: 'SHUTDOWN' }));
    expect(a.takeIncremental(10)).toMatchObject({ appliesTo: 2, resultsIn: 3, updateTasks: [], removeTasks: ['t2', 't1'] });
  });

  it('splits a large change into messages of at most max changes, in sequence', () => {
    const a = new AssignmentTracker('n1');
    a.complete([]);
    for (let i = 0; i < 5; i++) a.observe('create', task(`t${i}`, 'n1', 'ASSIGNED'));
    const m1 = a.takeIncremental(2)!;
    const m2 = a.takeIncremental(2)!;
    const m3 = a.takeIncremental(2)!;
    expect([m1.updateTasks.length, m2.updateTasks.length, m3.updateTasks.length]).toEqual([2, 2, 1]);
    expect([m1.appliesTo, m2.appliesTo, m3.appliesTo]).toEqual([1, 2, 3]);
    expect(a.takeIncremental(2)).toBeUndefined();
  });

  it('never removes a task it did not send', () => {
    const a = new AssignmentTracker('n1');
    a.complete([]);
    a.observe('delete', task('tx', 'n1', 'RUNNING'));
    expect(a.takeIncremental(10)).toBeUndefined();
  });
});

describe('decideStatusUpdate', () => {
  const cases: Array<[string, Task | undefined, TaskStatus, string]> = [
    ['forward', task('t', 'n1', 'ASSIGNED'), status('RUNNING'), 'write'],
    ['same state, new details', task('t', 'n1', 'RUNNING'), status('RUNNING', 'healthy'), 'write'],
    ['the stored status again', task('t', 'n1', 'RUNNING'), status('RUNNING'), 'ignore'],
    ['backwards', task('t', 'n1', 'RUNNING'), status('ACCEPTED'), 'ignore'],
    ['unknown task', undefined, status('RUNNING'), 'ignore'],
    ['another node', task('t', 'n2', 'ASSIGNED'), status('RUNNING'), 'refuse'],
    ['unassigned', task('t', '', 'PENDING'), status('RUNNING'), 'refuse'],
  ];
  it.each(cases)('%s', (_name, t, s, kind) => {
    expect(decideStatusUpdate(t, 'n1', s).kind).toBe(kind);
  });
});

describe('session view', () => {
  const cluster = {
    id: 'c', spec: { dispatcherHeartbeatPeriodMs: 0 },
    rootCa: { caCertPem: 'ROOT1', caKeyPem: 'SECRET', caCertDigest: '', crossSignedCaCertPem: 'CROSS', nextCaCertPem: 'ROOT2' },
    networkBootstrapKeys: [{ subsystem: 'g', algorithm: 'AES_256_GCM', key: new Uint8Array([2]), lamportTime: 2 }, { subsystem: 'g', algorithm: 'AES_256_GCM', key: new Uint8Array([1]), lamportTime: 1 }],
  } as unknown as Cluster;

  it('sends the roots (never the key), the keys oldest first and the default period when the cluster has none', () => {
    const m = sessionMessage('s1', undefined, cluster, [{ nodeId: 'a', addr: 'x:1', weight: 1 }, { nodeId: 'b', addr: 'y:1', weight: 10 }], 5000);
    expect(m.rootCaPem).toBe('ROOT1\nROOT2\nCROSS\n');
    expect(JSON.stringify(m)).not.toContain('SECRET');
    expect(m.networkBootstrapKeys.map((k) => k.lamportTime)).toEqual([1, 2]);
    expect(m.heartbeatPeriodMs).toBe(5000);
    expect(m.managers.map((p) => p.nodeId)).toEqual(['b', 'a']);
    expect(trustedRootsPem(undefined)).toBe('');
  });

  it('weights the leader, skips learners, and names the leader when refusing', () => {
    const st = {
      id: 'm2', role: 'follower' as const, term: 1, leaderId: 'm1', leaderAddr: 'h1:2377', commit: 0, applied: 0,
      members: [{ id: 'm1', addr: 'h1:2377', learner: false }, { id: 'm2', addr: 'h2:2377', learner: false }, { id: 'm3', addr: 'h3:2377', learner: true }],
    };
    expect(managerPeers(st)).toEqual([{ nodeId: 'm1', addr: 'h1:2377', weight: 10 }, { nodeId: 'm2', addr: 'h2:2377', weight: 1 }]);
    expect(notLeaderError(st).details).toMatchObject({ leaderId: 'm1', leaderAddr: 'h1:2377' });
    expect(notLeaderError({ ...st, leaderId: '', leaderAddr: 'unknown' }).details.leaderAddr).toBe('');
  });
});

describe('dispatcher config', () => {
  it('refuses a bad setting by name', () => {
    expect(codeOf(() => parseDispatcherConfig({ missedHeartbeats: 0 }))).toBe('CONFIG_INVALID');
    expect(parseDispatcherConfig().defaultHeartbeatPeriodMs).toBe(5000);
  });
});
