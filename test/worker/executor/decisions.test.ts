import { describe, expect, it } from 'vitest';
import { decide, exitErr, LOST_ERR, UNHEALTHY_ERR, type TaskFacts } from '../../../src/worker/executor/decide.js';
import { healthPolicy, INITIAL_HEALTH, nextHealth, type HealthPolicy } from '../../../src/worker/executor/health.js';
import { buildRunSpec } from '../../../src/worker/executor/run-spec.js';
import { expandTemplate, taskName, type TemplateContext } from '../../../src/worker/executor/templates.js';
import { parseExecutorConfig } from '../../../src/worker/executor/executor-config.js';
import { codeOf } from '../../support/errors.js';
import { task } from '../common/fixtures.js';

const ctx: TemplateContext = { serviceName: 'web', taskName: 'web.2.abc', taskSlot: '2', taskId: 'abc', nodeId: 'n1', nodeHostname: 'host-a' };

describe('templates', () => {
  it.each([
    ['{{.Service.Name}}-{{.Task.Slot}}', 'web-2'],
    ['{{ .Node.Hostname }}/{{.Node.ID}}', 'host-a/n1'],
    ['{{.Task.Name}} {{.Task.ID}}', 'web.2.abc abc'],
    ['plain', 'plain'],
    ['', ''],
    ['a } b {', 'a } b {'],
  ])('%s -> %s', (tpl, want) => {
    expect(expandTemplate(tpl, ctx)).toBe(want);
  });

  it.each(['{{.Service.Labels}}', '{{.Service.Name', '{{}}', '{{ Service.Name }}'])('refuses %s', (tpl) => {
    expect(codeOf(() => expandTemplate(tpl, ctx))).toBe('TASK_TEMPLATE_INVALID');
  });

  it('names tasks as swarmkit does', () => {
    expect(taskName(task('t1'))).toBe('web.1.t1');
    expect(taskName(task('t1', {}, { slot: 0, nodeId: 'nodeX' }))).toBe('web.nodeX.t1');
    expect(taskName(task('t1', {}, { annotations: { name: 'given', labels: {} } }))).toBe('given');
  });
});

describe('run spec', () => {
  const where = { netnsPath: '/ns', taskDir: '/d' };
  it('expands env, adds TSSWARM_* (which the spec cannot override) and defaults the hostname', () => {
    const s = buildRunSpec(task('abcdefghijklmnop', { env: ['A={{.Node.ID}}', 'TSSWARM_TASK_ID=forged', 'B=x=y'] }), { id: 'n1', hostname: 'h' }, where);
    expect(s.env).toEqual([
      'A=n1',
      'B=x=y',
      'TSSWARM_SERVICE_NAME=web',
      'TSSWARM_TASK_NAME=web.1.abcdefghijklmnop',
      'TSSWARM_TASK_SLOT=1',
      'TSSWARM_TASK_ID=abcdefghijklmnop',
      'TSSWARM_NODE_ID=n1',
      'TSSWARM_NODE_HOSTNAME=h',
    ]);
    expect(s.hostname).toBe('abcdefghijkl');
  });
  it.each([
    [{ env: ['NOEQUALS'] }, 'TASK_SPEC_INVALID'],
    [{ hostname: 'bad host' }, 'TASK_SPEC_INVALID'],
    [{ hostname: '{{.Nope}}' }, 'TASK_TEMPLATE_INVALID'],
    [{ image: '' }, 'TASK_SPEC_INVALID'],
  ])('refuses %j', (spec, code) => {
    expect(codeOf(() => buildRunSpec(task('t1', spec), { id: 'n1', hostname: 'h' }, where))).toBe(code);
  });
});

const base: TaskFacts = { desired: 'run', state: 'ASSIGNED', prepared: false, runtime: 'none', unhealthy: false, holdsSandbox: false };

describe('decide', () => {
  it('walks a task from ASSIGNED to RUNNING one step at a time', () => {
    let f: TaskFacts = base;
    const trail: string[] = [];
    for (let i = 0; i < 20; i++) {
      const d = decide(f);
      if (d.status !== undefined) {
        trail.push(d.status.state);
        f = { ...f, state: d.status.state };
      }
      if (d.action === 'prepare') {
        trail.push('(prepare)');
        f = { ...f, prepared: true, holdsSandbox: true };
      }
      if (d.action === 'start') {
        trail.push('(start)');
        f = { ...f, runtime: 'running' };
      }
      if (d.action === 'none' && d.status === undefined) break;
    }
    expect(trail).toEqual(['ACCEPTED', 'PREPARING', '(prepare)', 'READY', 'STARTING', '(start)', 'RUNNING']);
  });

  it.each<[string, Partial<TaskFacts>, ReturnType<typeof decide>]>([
    ['exit 0', { state: 'RUNNING', runtime: 'exited', exitCode: 0 }, { action: 'none', status: { state: 'COMPLETE', message: 'finished', err: '' } }],
    ['exit 3', { state: 'RUNNING', runtime: 'exited', exitCode: 3 }, { action: 'none', status: { state: 'FAILED', message: 'started', err: exitErr(3) } }],
    ['exit unknown', { state: 'RUNNING', runtime: 'exited' }, { action: 'none', status: { state: 'FAILED', message: 'started', err: LOST_ERR } }],
    ['stopped on request', { state: 'RUNNING', runtime: 'exited', exitCode: 137, stopReason: 'shutdown' }, { action: 'none', status: { state: 'SHUTDOWN', message: 'shutdown', err: '' } }],
    ['stopped unhealthy', { state: 'RUNNING', runtime: 'exited', exitCode: 137, stopReason: 'unhealthy' }, { action: 'none', status: { state: 'FAILED', message: 'started', err: UNHEALTHY_ERR } }],
    ['unhealthy -> stop', { state: 'RUNNING', runtime: 'running', unhealthy: true }, { action: 'stop', stopReason: 'unhealthy' }],
    ['desired shutdown -> stop', { state: 'RUNNING', runtime: 'running', desired: 'stop' }, { action: 'stop', stopReason: 'shutdown' }],
    ['unassigned running -> stop', { state: 'RUNNING', runtime: 'running', desired: 'unassigned' }, { action: 'stop', stopReason: 'shutdown' }],
    ['never started, shutdown', { state: 'PREPARING', desired: 'stop' }, { action: 'none', status: { state: 'SHUTDOWN', message: 'shutdown', err: '' } }],
    ['prepare failed', { state: 'PREPARING', prepareError: 'x' }, { action: 'none', status: { state: 'REJECTED', message: 'rejected', err: 'x' } }],
    ['start failed', { state: 'STARTING', startError: 'y' }, { action: 'none', status: { state: 'FAILED', message: 'starting', err: 'y' } }],
    ['terminal holds sandbox', { state: 'FAILED', runtime: 'exited', holdsSandbox: true }, { action: 'release-sandbox' }],
    ['terminal unassigned', { state: 'COMPLETE', desired: 'unassigned', holdsSandbox: true }, { action: 'forget' }],
    ['terminal stays', { state: 'COMPLETE', runtime: 'exited', exitCode: 0 }, { action: 'none' }],
    ['a terminal task is never restarted', { state: 'FAILED', runtime: 'none' }, { action: 'none' }],
    ['running by the record, nothing runs', { state: 'RUNNING' }, { action: 'none', status: { state: 'FAILED', message: 'started', err: LOST_ERR } }],
    ['adopted and running', { state: 'RUNNING', runtime: 'running' }, { action: 'none' }],
  ])('%s', (_name, facts, want) => {
    expect(decide({ ...base, ...facts })).toEqual(want);
  });
});

describe('health', () => {
  const defaults = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 };
  it('reads CMD, CMD-SHELL and NONE with Docker defaults', () => {
    expect(healthPolicy({ test: ['CMD', 'curl', '-f', 'x'], intervalMs: 0, timeoutMs: 0, retries: 0, startPeriodMs: 0 }, defaults)).toEqual({ cmd: ['curl', '-f', 'x'], ...defaults });
    expect(healthPolicy({ test: ['CMD-SHELL', 'curl -f x || exit 1'], intervalMs: 5, timeoutMs: 6, retries: 7, startPeriodMs: 8 }, defaults)).toEqual({
      cmd: ['/bin/sh', '-c', 'curl -f x || exit 1'],
      intervalMs: 5,
      timeoutMs: 6,
      retries: 7,
      startPeriodMs: 8,
    });
    expect(healthPolicy({ test: ['NONE'], intervalMs: 0, timeoutMs: 0, retries: 0, startPeriodMs: 0 }, defaults)).toBeUndefined();
    expect(healthPolicy({ test: [], intervalMs: 0, timeoutMs: 0, retries: 0, startPeriodMs: 0 }, defaults)).toBeUndefined();
    expect(healthPolicy(undefined, defaults)).toBeUndefined();
  });

  const p: HealthPolicy = { cmd: ['x'], intervalMs: 10, timeoutMs: 10, retries: 3, startPeriodMs: 100 };
  it('ignores failures in the start period, then needs `retries` in a row', () => {
    let h = INITIAL_HEALTH;
    for (let i = 0; i < 5; i++) h = nextHealth(h, false, 50, p);
    expect(h).toEqual(INITIAL_HEALTH);
    h = nextHealth(h, false, 150, p);
    h = nextHealth(h, false, 160, p);
    expect(h.status).toBe('starting');
    h = nextHealth(h, true, 170, p);
    expect(h).toEqual({ status: 'healthy', failingStreak: 0 });
    h = nextHealth(h, false, 180, p);
    h = nextHealth(h, false, 190, p);
    expect(h.status).toBe('healthy');
    h = nextHealth(h, false, 200, p);
    expect(h).toEqual({ status: 'unhealthy', failingStreak: 3 });
    expect(nextHealth(h, true, 210, p).status).toBe('unhealthy');
  });
  it('counts failures in the start period once the task was healthy', () => {
    const h = nextHealth(nextHealth(INITIAL_HEALTH, true, 10, p), false, 20, p);
    expect(h).toEqual({ status: 'healthy', failingStreak: 1 });
  });
});

describe('executor config', () => {
  it('fills Docker\'s defaults and names every bad field', () => {
    expect(parseExecutorConfig({})).toEqual({ defaultStopGracePeriodMs: 10_000, healthIntervalMs: 30_000, healthTimeoutMs: 30_000, healthRetries: 3, healthStartPeriodMs: 0 });
    expect(codeOf(() => parseExecutorConfig({ healthRetries: 0, defaultStopGracePeriodMs: -1 }))).toBe('CONFIG_INVALID');
  });
});
