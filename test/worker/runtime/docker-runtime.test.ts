import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import { DockerClient } from '../../../src/worker/runtime/docker-client.js';
import { DockerRuntime, TASK_LABEL, containerName } from '../../../src/worker/runtime/docker-runtime.js';
import type { LogLine, RunSpec, RuntimeRef } from '../../../src/worker/runtime/runtime.js';
import { repoRoot } from '../../support/compiled.js';
import { runOut } from '../common/helpers.js';

const exec = promisify(execFile);

/** The docker runtime against the host's real Docker Engine, with the imported busybox image. */
const PREFIX = 'tswdrt';
const IMAGE = 'tsswarm-busybox';

describe.sequential('docker runtime (real engine)', () => {
  const rt = new DockerRuntime({ pollIntervalMs: 20 });
  const client = new DockerClient('/var/run/docker.sock', 30_000);
  const refs: RuntimeRef[] = [];
  let n = 0;
  const spec = (over: Partial<RunSpec> = {}): RunSpec => {
    n++;
    return {
      taskId: `${PREFIX}${n}`,
      image: IMAGE,
      command: [],
      args: ['sleep', '300'],
      env: ['FOO=bar baz', `TSSWARM_TASK_ID=${PREFIX}${n}`],
      hostname: `dweb-${n}`,
      dir: '',
      user: '',
      netnsPath: '',
      taskDir: '/nonexistent',
      ...over,
    };
  };
  const start = async (s: RunSpec) => {
    const ref = await rt.start(s);
    refs.push(ref);
    return ref;
  };

  beforeAll(async () => {
    await exec(join(repoRoot, 'test/worker/runtime/setup-docker.sh'), [], { timeout: 600_000 });
    await removeOurs();
  }, 600_000);
  afterEach(async () => {
    for (const ref of refs.splice(0)) await rt.remove(ref);
  });
  afterAll(removeOurs);

  async function removeOurs(): Promise<void> {
    const ids = (await runOut(['docker', 'ps', '-aq', '--filter', `name=${containerName(PREFIX)}`])).split('\n').filter((s) => s !== '');
    for (const id of ids) await client.removeContainer(id);
  }

  it('rejects an image the engine does not have', async () => {
    const err = await rt.prepare(spec({ image: 'tsswarm-no-such-image:1' })).catch((e: unknown) => e);
    expect(isTsswarmError(err) ? err.code : err).toBe('TASK_IMAGE_NOT_FOUND');
    await expect(rt.prepare(spec())).resolves.toBeUndefined();
  });

  it('says the runtime is unavailable when no engine answers', async () => {
    const off = new DockerRuntime({ socketPath: '/run/tsswarm-no-docker.sock' });
    const err = await off.prepare(spec()).catch((e: unknown) => e);
    expect(isTsswarmError(err) ? err.code : err).toBe('TASK_RUNTIME_UNAVAILABLE');
  });

  it('runs a container without Docker networking, with hostname, env, label; PID 1 is the command', async () => {
    const s = spec();
    const ref = await start(s);
    const obs = await rt.inspect(ref);
    expect(obs.state).toBe('running');
    expect(obs.pid).toBeGreaterThan(0);
    expect(await runOut(['cat', `/proc/${obs.pid}/cmdline`])).toBe('sleep\u0000300\u0000');
    const info = JSON.parse(await runOut(['docker', 'inspect', obs.containerId]))[0];
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.Config.Labels[TASK_LABEL]).toBe(s.taskId);
    expect(info.Config.Hostname).toBe(s.hostname);
    // Only loopback in its network namespace: the dataplane's to plumb.
    const links = await runOut(['nsenter', `--net=/proc/${obs.pid}/ns/net`, 'ip', '-o', 'link']);
    expect(links.trim().split('\n').map((l) => l.split(':')[1]?.trim())).toEqual(['lo']);
    const r = await rt.exec(ref, s, ['sh', '-c', 'hostname; echo $FOO; echo $$'], 10_000);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.output.split('\n').slice(0, 2)).toEqual([s.hostname, 'bar baz']);
    expect((await rt.exec(ref, s, ['sh', '-c', 'exit 5'], 10_000)).exitCode).toBe(5);
    expect((await rt.exec(ref, s, ['sleep', '30'], 300)).timedOut).toBe(true);
  });

  it('reports the exit code and keeps stdout and stderr apart with timestamps', async () => {
    const ref = await start(spec({ args: ['sh', '-c', 'echo hello; echo oops >&2; exit 7'] }));
    expect(await rt.wait(ref)).toMatchObject({ state: 'exited', exitCode: 7 });
    const lines: LogLine[] = [];
    for await (const l of rt.logs(ref, { follow: false })) lines.push(l);
    expect(lines.map((l) => `${l.stream}:${l.line}`).sort()).toEqual(['stderr:oops', 'stdout:hello']);
    for (const l of lines) expect(Math.abs(l.timestampMs - Date.now())).toBeLessThan(600_000);
  });

  it('stops with SIGTERM when handled, SIGKILL after the grace period when not; a second instance adopts by ID', async () => {
    const polite = await start(spec({ args: ['sh', '-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'] }));
    for await (const l of rt.logs(polite, { follow: true })) if (l.line === 'ready') break;
    await rt.stop(polite, 60_000);
    expect(await rt.inspect(polite)).toMatchObject({ state: 'exited', exitCode: 0 });

    const stubborn = await start(spec());
    const adopted = new DockerRuntime({ pollIntervalMs: 20 });
    const persisted = JSON.parse(JSON.stringify(stubborn)) as RuntimeRef;
    expect((await adopted.inspect(persisted)).state).toBe('running');
    const ended = adopted.wait(persisted);
    await adopted.stop(persisted, 200);
    expect(await ended).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('replaces a leftover container of the same task instead of running two', async () => {
    const s = spec();
    await start(s);
    const again = await start(s);
    const ids = (await runOut(['docker', 'ps', '-aq', '--no-trunc', '--filter', `label=${TASK_LABEL}=${s.taskId}`])).trim().split('\n');
    expect(ids).toEqual([again.kind === 'docker' ? again.containerId : '']);
  });

  it('removes the container of a start that was never recorded', async () => {
    const s = spec();
    const ref = await start(s);
    await rt.removeUnrecorded(s.taskId, '');
    expect(await rt.inspect(ref)).toMatchObject({ state: 'exited', exitCode: undefined });
    await rt.removeUnrecorded(s.taskId, '');
  });

  it('removes the container; inspecting it then says exited with no known code', async () => {
    const ref = await start(spec());
    await rt.remove(ref);
    expect(await rt.inspect(ref)).toMatchObject({ state: 'exited', exitCode: undefined });
  });
});
