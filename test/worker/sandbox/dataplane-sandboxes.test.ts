import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxDataplane, type Dataplane } from '../../../src/dataplane/dataplane.js';
import { closeScriptSession } from '../../../src/dataplane/kernel/script-runner.js';
import { testbedDown, testbedUp } from '../../../src/testbed/testbed.js';
import type { TestbedState } from '../../../src/testbed/state.js';
import { isTsswarmError } from '../../../src/errors/index.js';
import { ProcessRuntime } from '../../../src/worker/runtime/process-runtime.js';
import type { RuntimeRef } from '../../../src/worker/runtime/runtime.js';
import { DataplaneSandboxes } from '../../../src/worker/sandbox/dataplane-sandboxes.js';
import { collect, killStarted, nsSnapshot, startListener } from '../../dataplane/helpers.js';
import { killProcsMentioning } from '../common/helpers.js';

/**
 * The sandbox adapter with the real dataplane of a throwaway test bed host: a task started by
 * the process runtime in its sandbox reaches "the outside" (an address of the underlay
 * namespace) through docker_gwbridge, masqueraded to the host's address.
 */
const TB = 'tsw-sbx';
const ROOT = '/run/tsswarm-test-worker-sbx';

describe.sequential('task sandboxes on the real dataplane', () => {
  let tb: TestbedState;
  let dp: Dataplane;
  let sandboxes: DataplaneSandboxes;
  let before: string;
  let dir: string;
  const rt = new ProcessRuntime({ pollIntervalMs: 20 });
  const refs: RuntimeRef[] = [];

  beforeAll(async () => {
    await testbedDown(TB, ROOT);
    tb = await testbedUp({ name: TB, nodes: 1, root: ROOT });
    const host = tb.hosts[0] ?? expect.fail('no host');
    before = await nsSnapshot(host.nsPath);
    dp = createLinuxDataplane({ dataPathAddr: host.address, runDir: host.runDir, hostNsPath: host.nsPath });
    sandboxes = new DataplaneSandboxes(dp);
    dir = await mkdtemp(join(tmpdir(), 'tsw-sbx-'));
  }, 120_000);

  afterAll(async () => {
    try {
      for (const r of refs) await rt.stop(r, 0);
      await killProcsMentioning(dir);
      killStarted();
      await testbedDown(TB, ROOT);
      await rm(dir, { recursive: true, force: true });
    } finally {
      closeScriptSession();
    }
  });

  it('gives a task a namespace from which it reaches outside through docker_gwbridge', async () => {
    const host = tb.hosts[0] ?? expect.fail('no host');
    const ns = await sandboxes.ensure('task1');
    expect(ns).toBe(join(host.runDir, 'netns', 'sb-task1'));
    await access(ns);
    const listener = await startListener(tb.underlayNsPath, tb.outsideAddr, 6100);
    const got = collect(listener);
    const ref = await rt.start({
      taskId: 'task1',
      image: 'sh',
      command: ['-c'],
      args: [`echo out | nc -N -w 5 ${tb.outsideAddr} 6100`],
      env: [],
      hostname: 'task1',
      dir: '',
      user: '',
      netnsPath: ns,
      taskDir: join(dir, 'task1'),
    });
    refs.push(ref);
    expect(await rt.wait(ref)).toMatchObject({ state: 'exited', exitCode: 0 });
    const seen = await got;
    expect(seen.stdout).toBe('out\n');
    expect(seen.stderr).toContain(`Connection received on ${host.address} `);
  });

  it('keeps other sandboxes while adding and releasing one; a new adapter restored with them keeps them too', async () => {
    await sandboxes.ensure('task2');
    await sandboxes.release('task1');
    const host = tb.hosts[0] ?? expect.fail('no host');
    expect((await readdir(join(host.runDir, 'netns'))).sort()).toEqual(['sb-task2']);
    // A restarted daemon: a new dataplane and adapter; restore() keeps task2 through its first reconcile.
    const dp2 = createLinuxDataplane({ dataPathAddr: host.address, runDir: host.runDir, hostNsPath: host.nsPath });
    const again = new DataplaneSandboxes(dp2);
    again.restore(['task2']);
    await again.ensure('task3');
    expect((await readdir(join(host.runDir, 'netns'))).sort()).toEqual(['sb-task2', 'sb-task3']);
    await again.release('task2');
    await again.release('task3');
    await again.release('task3');
    expect(await readdir(join(host.runDir, 'netns'))).toEqual([]);
    expect(await nsSnapshot(host.nsPath)).toBe(before);
  });

  it('serializes concurrent ensures and releases (the reconciler is not reentrant)', async () => {
    const host = tb.hosts[0] ?? expect.fail('no host');
    const ids = ['c1', 'c2', 'c3', 'c4'];
    // A fresh adapter: the first one still believes it holds task2 (the restart test dropped it).
    const sb = new DataplaneSandboxes(createLinuxDataplane({ dataPathAddr: host.address, runDir: host.runDir, hostNsPath: host.nsPath }));
    const paths = await Promise.all(ids.map((id) => sb.ensure(id)));
    expect(paths).toEqual(ids.map((id) => join(host.runDir, 'netns', `sb-${id}`)));
    expect((await readdir(join(host.runDir, 'netns'))).sort()).toEqual(ids.map((id) => `sb-${id}`));
    await Promise.all(ids.map((id) => sb.release(id)));
    expect(await readdir(join(host.runDir, 'netns'))).toEqual([]);
  });

  it('refuses a task ID that cannot name a namespace, changing nothing', async () => {
    const err = await sandboxes.ensure('../evil').catch((e: unknown) => e);
    expect(isTsswarmError(err) ? err.code : err).toBe('TASK_SANDBOX_FAILED');
  });
});
