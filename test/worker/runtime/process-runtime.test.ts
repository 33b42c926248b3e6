import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import { readProcStat } from '../../../src/worker/runtime/proc-stat.js';
import { ProcessRuntime } from '../../../src/worker/runtime/process-runtime.js';
import type { LogLine, RunSpec, RuntimeRef } from '../../../src/worker/runtime/runtime.js';
import { killProcsMentioning, makeNetns, removeNetns, runOut } from '../common/helpers.js';

/** The process runtime against the real kernel, in a throwaway network namespace. */
const PREFIX = 'tsw-prt';
const NS = `${PREFIX}-ns`;

describe.sequential('process runtime (real namespaces)', () => {
  let root: string;
  let netnsPath: string;
  const refs: RuntimeRef[] = [];
  const rt = new ProcessRuntime({ pollIntervalMs: 20 });
  let n = 0;

  const spec = (over: Partial<RunSpec> = {}): RunSpec => {
    n++;
    return {
      taskId: `t${n}`,
      image: 'sleep',
      command: [],
      args: ['300'],
      env: ['FOO=bar baz', 'TSSWARM_TASK_ID=t' + n],
      hostname: `web-${n}`,
      dir: '',
      user: '',
      netnsPath,
      taskDir: join(root, `t${n}`),
      ...over,
    };
  };
  const start = async (s: RunSpec) => {
    const ref = await rt.start(s);
    refs.push(ref);
    return ref;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
    netnsPath = await makeNetns(NS);
  });
  afterEach(async () => {
    for (const ref of refs.splice(0)) await rt.stop(ref, 0);
  });
  afterAll(async () => {
    await killProcsMentioning(root);
    await removeNetns(NS);
    await rm(root, { recursive: true, force: true });
  });

  it('rejects a program that is not on the PATH, and a relative path', async () => {
    for (const image of ['no-such-program-tsw', 'bin/sleep']) {
      const err = await rt.prepare(spec({ image })).catch((e: unknown) => e);
      expect(isTsswarmError(err) ? err.code : err).toBe('TASK_PROGRAM_NOT_FOUND');
    }
    await expect(rt.prepare(spec())).resolves.toBeUndefined();
  });

  it('runs the program as PID 1 with its own hostname, hosts, resolv.conf, env and workdir', async () => {
    const s = spec();
    const ref = await start(s);
    if (ref.kind !== 'process') throw new Error('not a process ref');
    expect(ref.pid).toBeGreaterThan(0);
    // The recorded PID is the program itself (what kill must reach), not nsenter or unshare.
    expect(await readFile(`/proc/${ref.pid}/cmdline`, 'utf8')).toBe('/usr/bin/sleep\u0000300\u0000');
    const inside = (cmd: string[]) => runOut(['nsenter', `--target=${ref.pid}`, '--uts', '--mount', '--pid', '--net', '--', ...cmd]);
    expect((await inside(['hostname'])).trim()).toBe(s.hostname);
    expect(await inside(['cat', '/etc/hosts'])).toContain(`127.0.1.1\t${s.hostname}`);
    expect(await inside(['cat', '/etc/resolv.conf'])).not.toMatch(/nameserver 127\./);
    expect((await inside(['cat', '/proc/1/cmdline'])).split('\u0000')[0]).toBe('/usr/bin/sleep');
    // The host's files stay as they were: the bind mounts live only in the task's mount namespace.
    expect(await readFile('/etc/hosts', 'utf8')).not.toContain(s.hostname);
    expect((await runOut(['hostname'])).trim()).not.toBe(s.hostname);
    // Its network namespace is the sandbox's.
    const taskNet = (await runOut(['readlink', `/proc/${ref.pid}/ns/net`])).trim();
    const sbNet = (await runOut(['nsenter', `--net=${netnsPath}`, 'readlink', '/proc/self/ns/net'])).trim();
    expect(taskNet).toBe(sbNet);
    const environ = (await readFile(`/proc/${ref.pid}/environ`, 'utf8')).split('\u0000');
    expect(environ).toContain('FOO=bar baz');
    expect(environ).toContain(`TSSWARM_TASK_ID=${s.taskId}`);
    expect(environ.some((e) => e.startsWith('VITEST'))).toBe(false);
    expect((await runOut(['readlink', `/proc/${ref.pid}/cwd`])).trim()).toBe(join(s.taskDir, 'work'));
    const obs = await rt.inspect(ref);
    expect(obs.state).toBe('running');
  });

  it('passes arguments positionally (no shell), keeps stdout/stderr, and records the exit code', async () => {
    const s = spec({ image: 'sh', command: ['-c'], args: ['echo "out $1"; echo err >&2; exit 3', 'x', '$(touch /tmp/tsw-prt-pwned); `id`'] });
    const ref = await start(s);
    const end = await rt.wait(ref);
    expect(end).toMatchObject({ state: 'exited', exitCode: 3 });
    const lines: LogLine[] = [];
    for await (const l of rt.logs(ref, { follow: false })) lines.push(l);
    expect(lines.map((l) => `${l.stream}:${l.line}`)).toEqual(['stdout:out $(touch /tmp/tsw-prt-pwned); `id`', 'stderr:err']);
    await expect(readFile('/tmp/tsw-prt-pwned')).rejects.toThrow();
  });

  it('follows logs until the task ends', async () => {
    const ref = await start(spec({ image: 'sh', command: ['-c'], args: ['for i in 1 2 3; do echo line$i; sleep 0.1; done'] }));
    const got: string[] = [];
    for await (const l of rt.logs(ref, { follow: true })) got.push(l.line);
    expect(got).toEqual(['line1', 'line2', 'line3']);
  });

  it('runs in the given working directory as the given user', async () => {
    const s = spec({ image: 'sh', command: ['-c'], args: ['pwd; id -u; id -g; echo $TSSWARM_TASK_ID'], dir: '/tmp', user: 'nobody' });
    const ref = await start(s);
    expect(await rt.wait(ref)).toMatchObject({ exitCode: 0 });
    const lines: string[] = [];
    for await (const l of rt.logs(ref, { follow: false })) lines.push(l.line);
    const nobody = (await runOut(['id', '-u', 'nobody'])).trim();
    expect(lines).toEqual(['/tmp', nobody, (await runOut(['id', '-g', 'nobody'])).trim(), s.taskId]);
  });

  it('stops a task that handles SIGTERM at once, and SIGKILLs one that ignores it after the grace period', async () => {
    const polite = await start(spec({ image: 'sh', command: ['-c'], args: ['trap "exit 0" TERM; while :; do sleep 0.05; done'] }));
    await waitForTermHandler(polite);
    await rt.stop(polite, 60_000);
    expect(await rt.inspect(polite)).toMatchObject({ state: 'exited', exitCode: 0 });

    const stubborn = await start(spec());
    const t0 = Date.now();
    await rt.stop(stubborn, 300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    // PID 1 without a TERM handler ignores it; SIGKILL ended it: 128 + 9.
    expect(await rt.inspect(stubborn)).toMatchObject({ state: 'exited', exitCode: 137 });
    if (stubborn.kind === 'process') expect(await readProcStat(stubborn.pid)).toBeUndefined();
  });

  it('adopts a running task from a second runtime instance (JSON ref), and sees its end', async () => {
    const ref = await start(spec({ image: 'sh', command: ['-c'], args: ['read x < /dev/null; sleep 300'] }));
    const persisted = JSON.parse(JSON.stringify(ref)) as RuntimeRef;
    const second = new ProcessRuntime({ pollIntervalMs: 20 });
    expect(await second.inspect(persisted)).toMatchObject({ state: 'running', pid: ref.kind === 'process' ? ref.pid : -1 });
    const ended = second.wait(persisted);
    await second.stop(persisted, 0);
    expect(await ended).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('never mistakes a reused PID for the task', async () => {
    const ref = await start(spec());
    if (ref.kind !== 'process') throw new Error('not a process ref');
    // Same PIDs, other start times: what a PID reused after a reboot or wrap-around looks like.
    const forged: RuntimeRef = { ...ref, supervisorStart: ref.supervisorStart + 1, pidStart: ref.pidStart + 1, taskDir: join(root, 'none') };
    expect(await rt.inspect(forged)).toMatchObject({ state: 'exited', exitCode: undefined });
    await rt.stop(forged, 0);
    expect(await rt.inspect(ref)).toMatchObject({ state: 'running' });
    await expect(rt.exec(forged, spec(), ['true'], 5000)).rejects.toSatisfy((e: unknown) => isTsswarmError(e, 'TASK_EXEC_FAILED'));
  });

  it('execs a command inside the task namespaces, with a timeout', async () => {
    const s = spec();
    const ref = await start(s);
    const r = await rt.exec(ref, s, ['hostname'], 10_000);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.output.trim()).toBe(s.hostname);
    expect((await rt.exec(ref, s, ['sh', '-c', 'exit 4'], 10_000)).exitCode).toBe(4);
    const slow = await rt.exec(ref, s, ['sleep', '30'], 200);
    expect(slow.timedOut).toBe(true);
  });

  /** Until the task's process catches SIGTERM (bit 15 of SigCgt): its trap is installed. */
  async function waitForTermHandler(ref: RuntimeRef): Promise<void> {
    if (ref.kind !== 'process') throw new Error('not a process ref');
    let caught = false;
    while (!caught) {
      const status = await readFile(`/proc/${ref.pid}/status`, 'utf8');
      const mask = BigInt(`0x${/SigCgt:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0'}`);
      caught = (mask & (1n << 14n)) !== 0n;
      if (!caught) await new Promise((r) => setTimeout(r, 10));
    }
  }
});
