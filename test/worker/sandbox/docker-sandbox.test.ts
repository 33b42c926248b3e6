import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxDataplane } from '../../../src/dataplane/dataplane.js';
import { closeScriptSession } from '../../../src/dataplane/kernel/script-runner.js';
import type { TestbedState } from '../../../src/testbed/state.js';
import { testbedDown, testbedUp } from '../../../src/testbed/testbed.js';
import { DockerClient } from '../../../src/worker/runtime/docker-client.js';
import { DockerRuntime, containerName } from '../../../src/worker/runtime/docker-runtime.js';
import type { RunSpec } from '../../../src/worker/runtime/runtime.js';
import { DataplaneSandboxes } from '../../../src/worker/sandbox/dataplane-sandboxes.js';
import { repoRoot } from '../../support/compiled.js';
import { collect, killStarted, nsSnapshot, startListener } from '../../dataplane/helpers.js';
import { runOut } from '../common/helpers.js';

const exec = promisify(execFile);

/**
 * A docker task's sandbox is the container's own namespace: the container starts with
 * NetworkMode "none", the sandbox adopts /proc/PID/ns/net, and the container then has eth0
 * on docker_gwbridge with a default route, reaching the test bed's outside address. Releasing
 * the sandbox leaves the container and its namespace alone, minus the interfaces added.
 */
const PREFIX = 'tswdsb';
const TB = 'tsw-dsbx';
const ROOT = '/run/tsswarm-test-worker-dsbx';

describe.sequential('docker task sandboxes (real engine, real dataplane)', () => {
  const rt = new DockerRuntime({ pollIntervalMs: 20 });
  const client = new DockerClient('/var/run/docker.sock', 30_000);
  let tb: TestbedState;

  beforeAll(async () => {
    await exec(join(repoRoot, 'test/worker/runtime/setup-docker.sh'), [], { timeout: 600_000 });
    await removeOurs();
    await testbedDown(TB, ROOT);
    tb = await testbedUp({ name: TB, nodes: 1, root: ROOT });
  }, 600_000);

  afterAll(async () => {
    try {
      killStarted();
      await removeOurs();
      await testbedDown(TB, ROOT);
    } finally {
      closeScriptSession();
    }
  }, 120_000);

  async function removeOurs(): Promise<void> {
    const ids = (await runOut(['docker', 'ps', '-aq', '--filter', `name=${containerName(PREFIX)}`])).split('\n').filter((s) => s !== '');
    for (const id of ids) await client.removeContainer(id);
  }

  /** Runs a busybox applet in the container (the image links only a few of them). */
  const docker = (id: string, ...cmd: string[]) => runOut(['docker', 'exec', id, 'busybox', ...cmd]);

  it('adopts the started container namespace: eth0 on docker_gwbridge, default route, reaches outside; release keeps the container', async () => {
    const host = tb.hosts[0] ?? expect.fail('no host');
    const before = await nsSnapshot(host.nsPath);
    const dp = createLinuxDataplane({ dataPathAddr: host.address, runDir: host.runDir, hostNsPath: host.nsPath });
    const sandboxes = new DataplaneSandboxes(dp);
    const taskId = `${PREFIX}1`;
    const spec: RunSpec = {
      taskId,
      image: 'tsswarm-busybox',
      command: [],
      args: ['sleep', '300'],
      env: [],
      hostname: taskId,
      dir: '',
      user: '',
      netnsPath: '',
      taskDir: '/nonexistent',
    };
    const ref = await rt.start(spec);
    const observed = await rt.inspect(ref);
    if (observed.state !== 'running') return expect.fail(`container not running: ${JSON.stringify(observed)}`);
    const netnsFrom = `/proc/${observed.pid}/ns/net`;

    const path = await sandboxes.ensure(taskId, { netnsFrom });
    expect((await stat(path)).ino).toBe((await stat(netnsFrom)).ino); // the very namespace, not a copy
    const id = containerName(taskId);
    expect(await docker(id, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0')).toMatch(/inet 172\.18\.\d+\.\d+\/16/);
    expect(await docker(id, 'ip', 'route', 'show', 'default')).toMatch(/^default via 172\.18\.0\.1 dev eth0/);

    const listener = await startListener(tb.underlayNsPath, tb.outsideAddr, 6110);
    const got = collect(listener);
    await docker(id, 'sh', '-c', `echo from-container | busybox nc -w 5 ${tb.outsideAddr} 6110`);
    const seen = await got;
    expect(seen.stdout).toBe('from-container\n');
    expect(seen.stderr).toContain(`Connection received on ${host.address} `); // masqueraded, as Docker does

    await sandboxes.release(taskId);
    expect(await readdir(join(host.runDir, 'netns'))).toEqual([]);
    expect((await client.inspectContainer(id))?.State.Running).toBe(true);
    // Only what the dataplane added is gone: the container keeps its namespace and loopback.
    expect((await docker(id, 'ip', '-o', 'link', 'show')).trim().split('\n').map((l) => l.split(':')[1]?.trim())).toEqual(['lo']);
    expect(await nsSnapshot(host.nsPath)).toBe(before);
  }, 120_000);
});
