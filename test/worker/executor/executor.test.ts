import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { TaskState, TaskStatus } from '../../../src/objects/index.js';
import { createTaskExecutor, type NodeTaskExecutor } from '../../../src/worker/executor/executor.js';
import { ProcessRuntime } from '../../../src/worker/runtime/process-runtime.js';
import { buildRunSpec } from '../../../src/worker/executor/run-spec.js';
import { TaskStore } from '../../../src/worker/executor/task-store.js';
import { until } from '../../support/wait.js';
import { RecordingSandboxes, task } from '../common/fixtures.js';
import { killProcsMentioning, makeNetns, removeNetns } from '../common/helpers.js';

const exec = promisify(execFile);

/** The executor with the real process runtime and a recording sandbox provider. */
const PREFIX = 'tsw-exe';
const NS = `${PREFIX}-ns`;

describe.sequential('task executor (process runtime, real processes)', () => {
  let netnsPath: string;
  let dataDir: string;
  let sandboxes: RecordingSandboxes;
  const runtime = new ProcessRuntime({ pollIntervalMs: 20 });
  const open: NodeTaskExecutor[] = [];
  let seen: Array<[string, TaskStatus]>;

  const make = () => {
    const ex = createTaskExecutor({
      nodeId: 'node1',
      nodeHostname: 'host-a',
      dataDir,
      sandboxes,
      runtimes: { PROCESS: runtime },
      logger: silentLogger(),
      config: { defaultStopGracePeriodMs: 200 },
    });
    ex.onStatus((id, s) => seen.push([id, s]));
    open.push(ex);
    return ex;
  };
  const states = (id: string) => seen.filter(([t]) => t === id).map(([, s]) => s.state);
  const last = (ex: NodeTaskExecutor, id: string) => ex.currentStatuses().get(id);
  /** Until the executor reported the state (adopted tasks: until it knows it). */
  const reached = (ex: NodeTaskExecutor, id: string, state: TaskState) =>
    until(() => states(id).includes(state) && last(ex, id)?.state === state, `${id} ${state}`);

  beforeAll(async () => {
    netnsPath = await makeNetns(NS);
  });
  afterEach(async () => {
    try {
      await cleanWithExecutor();
    } finally {
      // Whatever the executor failed to stop (a failing test) is killed here.
      expect(await killProcsMentioning(dataDir)).toBe(0);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
  /** Unassign everything so every process is stopped and every directory removed. */
  async function cleanWithExecutor(): Promise<void> {
    for (const ex of open.splice(0)) await ex.close();
    const cleaner = make();
    await cleaner.ready();
    cleaner.setAssignments([]);
    await until(() => cleaner.currentStatuses().size === 0 && (!existsSync(join(dataDir, 'tasks')) || readdirSync(join(dataDir, 'tasks')).length === 0), 'cleanup');
    await cleaner.close();
    open.length = 0;
  }
  afterAll(async () => {
    await removeNetns(NS);
  });
  const fresh = async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
    sandboxes = new RecordingSandboxes(netnsPath);
    seen = [];
  };

  it('runs an assigned task through ACCEPTED..RUNNING, with its env and templated hostname', async () => {
    await fresh();
    const ex = make();
    const t = task('tA1', { hostname: '{{.Service.Name}}-{{.Task.Slot}}', env: ['WHO={{.Node.Hostname}}'] });
    ex.setAssignments([t]);
    await reached(ex, 'tA1', 'RUNNING');
    expect(states('tA1')).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);
    const pid = last(ex, 'tA1')?.container?.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\u0000');
    expect(environ).toEqual(
      expect.arrayContaining([
        'WHO=host-a',
        'TSSWARM_SERVICE_NAME=web',
        'TSSWARM_TASK_NAME=web.1.tA1',
        'TSSWARM_TASK_SLOT=1',
        'TSSWARM_TASK_ID=tA1',
        'TSSWARM_NODE_ID=node1',
        'TSSWARM_NODE_HOSTNAME=host-a',
        'HOSTNAME=web-1',
      ]),
    );
    expect(sandboxes.calls).toContain('ensure tA1');
  });

  it('reports COMPLETE on exit 0, FAILED with the exit code otherwise, REJECTED for a missing program', async () => {
    await fresh();
    const ex = make();
    ex.setAssignments([
      task('tB1', { image: 'true', args: [] }),
      task('tB2', { image: 'sh', args: ['-c', 'exit 3'] }),
      task('tB3', { image: 'no-such-program-tsw', args: [] }),
      task('tB4', { hostname: '{{.Service.Bogus}}' }),
    ]);
    await reached(ex, 'tB1', 'COMPLETE');
    await reached(ex, 'tB2', 'FAILED');
    await reached(ex, 'tB3', 'REJECTED');
    await reached(ex, 'tB4', 'REJECTED');
    expect(last(ex, 'tB1')?.container?.exitCode).toBe(0);
    expect(last(ex, 'tB2')).toMatchObject({ err: 'task: non-zero exit (3)', container: { exitCode: 3 } });
    const missing = new TsswarmError('TASK_PROGRAM_NOT_FOUND', { program: 'no-such-program-tsw', path: new ProcessRuntime().searchPath });
    expect(last(ex, 'tB3')?.err).toBe(missing.message);
    expect(last(ex, 'tB4')?.err).toBe(new TsswarmError('TASK_TEMPLATE_INVALID', { template: '{{.Service.Bogus}}', reason: 'unknown field ".Service.Bogus"' }).message);
    // Finished tasks give their sandboxes back but stay known while assigned.
    await until(() => !sandboxes.held.has('tB1') && !sandboxes.held.has('tB2') && !sandboxes.held.has('tB3'), 'sandboxes released');
    expect(sandboxes.calls.filter((c) => c.endsWith('tB4'))).toEqual([]);
  });

  it('stops a task whose desired state becomes SHUTDOWN, and forgets one that is unassigned', async () => {
    await fresh();
    const ex = make();
    const a = task('tC1');
    const b = task('tC2');
    ex.setAssignments([a, b]);
    await reached(ex, 'tC1', 'RUNNING');
    await reached(ex, 'tC2', 'RUNNING');
    const pidA = last(ex, 'tC1')?.container?.pid ?? 0;
    const pidB = last(ex, 'tC2')?.container?.pid ?? 0;
    ex.setAssignments([{ ...a, desiredState: 'SHUTDOWN' }]);
    await reached(ex, 'tC1', 'SHUTDOWN');
    await until(() => !ex.currentStatuses().has('tC2'), 'tC2 forgotten');
    expect(states('tC2').at(-1)).toBe('SHUTDOWN');
    for (const pid of [pidA, pidB]) await expect(access(`/proc/${pid}`)).rejects.toThrow();
    await expect(access(join(dataDir, 'tasks', 'tC2'))).rejects.toThrow();
    await access(join(dataDir, 'tasks', 'tC1'));
    expect(sandboxes.held.has('tC2')).toBe(false);
  });

  it('a new executor adopts running tasks (same PIDs, no duplicates), then stops the unassigned ones', async () => {
    await fresh();
    const first = make();
    const a = task('tD1', { image: 'sh', args: ['-c', 'while [ ! -e go ]; do sleep 0.05; done; exit 4 # tD1'] });
    const b = task('tD2', { args: ['3002'] });
    first.setAssignments([a, b]);
    await reached(first, 'tD1', 'RUNNING');
    await reached(first, 'tD2', 'RUNNING');
    const pids = [last(first, 'tD1')?.container?.pid, last(first, 'tD2')?.container?.pid];
    await first.close();

    seen = [];
    const second = make();
    await second.ready();
    expect(sandboxes.calls.filter((c) => c.startsWith('restore'))).toEqual(['restore tD1', 'restore tD2']);
    expect([last(second, 'tD1')?.container?.pid, last(second, 'tD2')?.container?.pid]).toEqual(pids);
    expect(last(second, 'tD1')?.state).toBe('RUNNING');
    second.setAssignments([{ ...a, status: last(second, 'tD1') as TaskStatus }]);
    await until(() => !second.currentStatuses().has('tD2'), 'tD2 stopped and forgotten');
    expect(await countProcs('(/usr)?/bin/sh -c while.*exit 4 # tD1')).toBe(1);
    expect(await countProcs('/usr/bin/sleep 3002')).toBe(0);
    // Adopted statuses are reported again, unchanged.
    expect(seen.filter(([id]) => id === 'tD1').map(([, s]) => [s.state, s.container?.pid])).toEqual([['RUNNING', pids[0]]]);
    expect(last(second, 'tD1')?.container?.pid).toBe(pids[0]);
    // A task that ends after the adoption (not our child any more) is still seen ending, with its code.
    await writeFile(join(dataDir, 'tasks', 'tD1', 'work', 'go'), '');
    await reached(second, 'tD1', 'FAILED');
    expect(last(second, 'tD1')).toMatchObject({ err: 'task: non-zero exit (4)', container: { pid: pids[0], exitCode: 4 } });
  });

  it('after a crash between start and recording the ref: ends the unrecorded process, reports FAILED, never starts twice', async () => {
    await fresh();
    const t = task('tG1', { args: ['3003'] });
    const store = new TaskStore(dataDir);
    // What a daemon that died right after runtime.start() leaves: status STARTING, no ref.
    await store.save({ task: t, status: { timestampMs: 1, state: 'STARTING', message: 'starting', err: '' }, prepared: true, sandbox: true, netnsPath });
    const orphan = await runtime.start({ ...buildRunSpec(t, { id: 'node1', hostname: 'host-a' }, { netnsPath, taskDir: store.dir('tG1') }) });
    expect(await countProcs('/usr/bin/sleep 3003')).toBe(1);
    const ex = make();
    await ex.ready();
    expect(await countProcs('/usr/bin/sleep 3003')).toBe(0);
    ex.setAssignments([t]);
    await reached(ex, 'tG1', 'FAILED');
    expect(states('tG1')).toEqual(['STARTING', 'FAILED']); // the adopted status reported again, then the verdict
    expect(await runtime.inspect(orphan)).toMatchObject({ state: 'exited' });
    expect(await countProcs('/usr/bin/sleep 3003')).toBe(0);
  });

  it('stops an unhealthy task and reports it FAILED "task: unhealthy"', async () => {
    await fresh();
    const ex = make();
    const healthcheck = { test: ['CMD-SHELL', 'test -e /tmp/healthy-marker-never'], intervalMs: 30, timeoutMs: 5000, retries: 2, startPeriodMs: 0 };
    const fine = { test: ['CMD', 'true'], intervalMs: 30, timeoutMs: 5000, retries: 1, startPeriodMs: 0 };
    ex.setAssignments([task('tE1', { healthcheck }), task('tE2', { healthcheck: fine })]);
    await reached(ex, 'tE1', 'FAILED');
    expect(last(ex, 'tE1')?.err).toBe('task: unhealthy');
    expect(last(ex, 'tE2')?.state).toBe('RUNNING');
  });

  it('streams a task\'s logs', async () => {
    await fresh();
    const ex = make();
    ex.setAssignments([task('tF1', { image: 'sh', args: ['-c', 'echo one; echo two >&2'] })]);
    await reached(ex, 'tF1', 'COMPLETE');
    const lines: string[] = [];
    for await (const l of ex.readLogs('tF1', { follow: true })) lines.push(`${l.stream} ${l.line}`);
    expect(lines.sort()).toEqual(['stderr two', 'stdout one']);
    await expect(
      (async () => {
        for await (const _ of ex.readLogs('nope', { follow: false })) void _;
      })(),
    ).rejects.toSatisfy((e: unknown) => e instanceof TsswarmError && e.code === 'TASK_NOT_FOUND');
  });

  async function countProcs(cmdline: string): Promise<number> {
    const r = await exec('pgrep', ['-c', '-x', '-f', cmdline]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '0' }));
    return Number(r.stdout.trim());
  }
});
