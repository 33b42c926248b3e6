import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { TaskStatus } from '../../../src/objects/index.js';
import { createTaskExecutor, type NodeTaskExecutor } from '../../../src/worker/executor/executor.js';
import { DockerClient } from '../../../src/worker/runtime/docker-client.js';
import { DockerRuntime, containerName } from '../../../src/worker/runtime/docker-runtime.js';
import { repoRoot } from '../../support/compiled.js';
import { until } from '../../support/wait.js';
import { RecordingSandboxes, task } from '../common/fixtures.js';
import { makeNetns, removeNetns, runOut } from '../common/helpers.js';

const exec = promisify(execFile);

/** The executor driving the docker runtime against the real engine. */
const PREFIX = 'tswexd';
const NS = `${PREFIX}-ns`;

describe.sequential('task executor with the docker runtime (real engine)', () => {
  let dataDir: string;
  let ex: NodeTaskExecutor;
  const seen: Array<[string, TaskStatus]> = [];
  const client = new DockerClient('/var/run/docker.sock', 30_000);

  beforeAll(async () => {
    await exec(join(repoRoot, 'test/worker/runtime/setup-docker.sh'), [], { timeout: 600_000 });
    dataDir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
    const sandboxes = new RecordingSandboxes(await makeNetns(NS));
    ex = createTaskExecutor({
      nodeId: 'node1',
      nodeHostname: 'host-a',
      dataDir,
      sandboxes,
      runtimes: { DOCKER: new DockerRuntime({ pollIntervalMs: 20 }) },
      logger: silentLogger(),
      config: { defaultStopGracePeriodMs: 200 },
    });
    ex.onStatus((id, s) => seen.push([id, s]));
  }, 600_000);

  afterAll(async () => {
    try {
      ex.setAssignments([]);
      await until(() => ex.currentStatuses().size === 0, 'all forgotten');
      await ex.close();
    } finally {
      const ids = (await runOut(['docker', 'ps', '-aq', '--filter', `name=${containerName(PREFIX)}`])).split('\n').filter((s) => s !== '');
      for (const id of ids) await client.removeContainer(id);
      await removeNetns(NS);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  const last = (id: string) => ex.currentStatuses().get(id);
  const reached = (id: string, state: string) => until(() => seen.some(([t, s]) => t === id && s.state === state), `${id} ${state}`);

  it('runs an image, reports exit codes, rejects a missing image and a node without the runtime', async () => {
    const docker = { runtime: 'DOCKER' as const, image: 'tsswarm-busybox' };
    ex.setAssignments([
      task(`${PREFIX}1`, { ...docker, args: ['sh', '-c', 'echo "$TSSWARM_TASK_NAME on $TSSWARM_NODE_HOSTNAME"'] }),
      task(`${PREFIX}2`, { ...docker, args: ['sh', '-c', 'exit 2'] }),
      task(`${PREFIX}3`, { ...docker, image: 'tsswarm-no-such-image' }),
      task(`${PREFIX}4`, { runtime: 'PROCESS', image: 'sleep' }),
      task(`${PREFIX}5`, { ...docker, args: ['sleep', '300'] }),
    ]);
    await reached(`${PREFIX}1`, 'COMPLETE');
    await reached(`${PREFIX}2`, 'FAILED');
    await reached(`${PREFIX}3`, 'REJECTED');
    await reached(`${PREFIX}4`, 'REJECTED');
    await reached(`${PREFIX}5`, 'RUNNING');
    expect(last(`${PREFIX}2`)?.err).toBe('task: non-zero exit (2)');
    expect(last(`${PREFIX}3`)?.err).toBe(new TsswarmError('TASK_IMAGE_NOT_FOUND', { image: 'tsswarm-no-such-image' }).message);
    expect(last(`${PREFIX}5`)?.container?.containerId).toMatch(/^[0-9a-f]{64}$/);
    const lines: string[] = [];
    for await (const l of ex.readLogs(`${PREFIX}1`, { follow: false })) lines.push(l.line);
    expect(lines).toEqual([`web.1.${PREFIX}1 on host-a`]);
  });

  it('stops an unhealthy container and reports FAILED "task: unhealthy"', async () => {
    const healthcheck = { test: ['CMD-SHELL', 'test -e /never'], intervalMs: 50, timeoutMs: 10_000, retries: 2, startPeriodMs: 0 };
    expect(last(`${PREFIX}5`)?.state).toBe('RUNNING');
    ex.setAssignments([
      task(`${PREFIX}5`, { runtime: 'DOCKER', image: 'tsswarm-busybox', args: ['sleep', '300'] }),
      task(`${PREFIX}6`, { runtime: 'DOCKER', image: 'tsswarm-busybox', args: ['sleep', '300'], healthcheck }),
    ]);
    await reached(`${PREFIX}6`, 'FAILED');
    expect(last(`${PREFIX}6`)?.err).toBe('task: unhealthy');
    const id = last(`${PREFIX}6`)?.container?.containerId ?? '';
    expect((await client.inspectContainer(id))?.State.Running).toBe(false);
  });

  it('stops the container when the task is unassigned and removes it', async () => {
    const id = last(`${PREFIX}5`)?.container?.containerId ?? '';
    ex.setAssignments([]);
    await until(() => ex.currentStatuses().size === 0, 'all forgotten');
    expect(seen.filter(([t]) => t === `${PREFIX}5`).at(-1)?.[1].state).toBe('SHUTDOWN');
    expect(await client.inspectContainer(id)).toBeUndefined();
  });
});
