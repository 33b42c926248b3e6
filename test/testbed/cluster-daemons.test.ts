import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../src/dataplane/kernel/netns.js';
import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import { runTsswarm } from '../../src/testbed/cli-runner.js';
import { clusterDown, clusterUp, planRoles } from '../../src/testbed/cluster.js';
import { daemonArgv, daemonPaths } from '../../src/testbed/host-daemon.js';
import { parseNsLink } from '../../src/testbed/processes.js';
import { readState } from '../../src/testbed/state.js';
import { testbedUp } from '../../src/testbed/testbed.js';
import { DockerClient } from '../../src/worker/runtime/docker-client.js';
import { TASK_LABEL, containerName } from '../../src/worker/runtime/docker-runtime.js';
import { processAlive } from '../../src/worker/runtime/proc-stat.js';
import { codeOf } from '../support/errors.js';
import { compiledPath, repoRoot } from '../support/compiled.js';

const exec = promisify(execFile);

const ROOT = '/run/tsswarm-test';
const NAME = 't-daemons';
const SUBNET = '10.82.0.0/24';

/** Processes whose command line names this directory (the daemons name their data root in it). */
async function processesMentioning(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) out.push(pid);
  }
  return out;
}

describe('cluster planning (pure)', () => {
  it('puts managers first and refuses impossible counts', () => {
    expect(planRoles(4, 2)).toEqual(['manager', 'manager', 'worker', 'worker']);
    expect(planRoles(1, 1)).toEqual(['manager']);
    expect(codeOf(() => planRoles(3, 0))).toBe('CONFIG_INVALID');
    expect(codeOf(() => planRoles(3, 4))).toBe('CONFIG_INVALID');
  });

  it('gives each host its own socket, data root, log and exec root under the bed', () => {
    const p = daemonPaths({ root: '/r', name: 'b' }, { name: 'h2' });
    expect(p).toEqual({ socket: '/r/b/sock/h2.sock', dataRoot: '/r/b/data/h2', log: '/r/b/logs/h2.log' });
    const argv = daemonArgv({ node: '/bin/node', mainJs: '/m.js' }, { name: 'h2', nsPath: '/r/b/netns/h2', address: '10.0.0.2', runDir: '/r/b/h2' }, p);
    expect(argv.slice(0, 3)).toEqual(['nsenter', '--net=/r/b/netns/h2', '/bin/node']);
    expect(argv.join(' ')).toContain('daemon --data-root /r/b/data/h2 --exec-root /r/b/h2 --node-name h2');
  });

  it('reads namespace links', () => {
    expect(parseNsLink('net:[4026532301]')).toBe(4026532301);
    expect(parseNsLink('mnt:[4026532301]')).toBeUndefined();
    expect(parseNsLink('')).toBeUndefined();
  });
});

describe('clusterUp / clusterDown (real kernel, real daemons)', () => {
  const bin = { node: process.execPath, mainJs: compiledPath(new URL('../../src/cli/main.ts', import.meta.url)) };

  afterAll(async () => {
    try {
      await clusterDown(NAME, ROOT);
    } finally {
      closeScriptSession();
    }
  }, 120_000);

  it('joins hosts 2..M as managers, the rest as workers', async () => {
    await clusterDown(NAME, ROOT);
    const st = await clusterUp({ name: NAME, nodes: 3, managers: 2, subnet: SUBNET, root: ROOT, bin });
    expect(st.daemons.map((d) => d.role)).toEqual(['manager', 'manager', 'worker']);
    // Ask the second manager: it answers for the cluster too.
    const ls = await runTsswarm(bin, st.daemons[1]!.socket, ['node', 'ls', '--format', 'json'], 60_000);
    expect(ls.code, ls.stderr).toBe(0);
    const nodes = ls.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Hostname: string; ManagerStatus: string; Status: string });
    expect(nodes.map((n) => n.Hostname)).toEqual(['h1', 'h2', 'h3']);
    expect(nodes.map((n) => n.ManagerStatus !== '')).toEqual([true, true, false]);
    expect(nodes.filter((n) => n.ManagerStatus === 'Leader')).toHaveLength(1);
    console.info(`node ls statuses: ${nodes.map((n) => `${n.Hostname}=${n.Status}/${n.ManagerStatus}`).join(' ')}`);

    const down = await clusterDown(NAME, ROOT);
    expect(down).toMatchObject({ existed: true, daemonsStopped: 3 });
    for (const d of st.daemons) expect(await processAlive(d.pid, d.startTime)).toBe(false);
    expect(await processesMentioning(`${ROOT}/${NAME}/`)).toEqual([]);
    expect(existsSync(`${ROOT}/${NAME}`)).toBe(false);
    expect(await clusterDown(NAME, ROOT)).toMatchObject({ existed: false });
  }, 300_000);

  it('a failing up (a daemon that refuses to start) removes everything it made, also the daemons that did start', async () => {
    await clusterDown(NAME, ROOT);
    const up = clusterUp({
      name: NAME,
      nodes: 3,
      managers: 1,
      subnet: SUBNET,
      root: ROOT,
      bin,
      // h1 and h3 start fine; h2's daemon exits at once on a flag value it does not know.
      daemonArgs: (h) => (h.name === 'h2' ? ['--log-level', 'bogus'] : []),
    });
    const err = await up.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'TESTBED_UP_FAILED', details: { step: 'starting the daemon of h2' } });
    expect(await readState(ROOT, NAME)).toBeUndefined();
    expect(await mountsUnder(`${ROOT}/${NAME}`)).toEqual([]);
    expect(existsSync(`${ROOT}/${NAME}`)).toBe(false);
    expect(await processesMentioning(`${ROOT}/${NAME}/`)).toEqual([]);
  }, 300_000);

  it('down removes the Docker containers of the tasks its daemons recorded, and only those', async () => {
    // The script starts the engine when none answers (and imports the image); skipping it when one
    // answers avoids waiting on its lock, which a dockerd it started keeps (fd 9 is inherited).
    const engine = new DockerClient('/var/run/docker.sock', 10_000);
    const ready = await engine.ping().then(() => engine.imageExists('tsswarm-busybox'), () => false);
    if (!ready) await exec(join(repoRoot, 'test/worker/runtime/setup-docker.sh'), [], { timeout: 600_000 });
    await clusterDown(NAME, ROOT);
    await testbedUp({ name: NAME, nodes: 1, subnet: SUBNET, root: ROOT });
    const mine = `tdaemons${randomBytes(6).toString('hex')}`;
    const other = `tdaemonsother${randomBytes(6).toString('hex')}`;
    const docker = (...args: string[]) => exec('docker', args, { encoding: 'utf8' });
    const exists = (id: string) => docker('inspect', containerName(id)).then(() => true, () => false);
    try {
      for (const id of [mine, other]) {
        await docker('run', '-d', '--name', containerName(id), '--label', `${TASK_LABEL}=${id}`, '--network', 'none', 'tsswarm-busybox', 'sleep', '600');
      }
      // Where an executor keeps its task directories (DATA/.../tasks/TASKID).
      await mkdir(`${ROOT}/${NAME}/data/h1/worker/tasks/${mine}`, { recursive: true });
      const down = await clusterDown(NAME, ROOT);
      expect(down.containersRemoved).toBe(1);
      expect(await exists(mine)).toBe(false);
      expect(await exists(other)).toBe(true);
    } finally {
      await docker('rm', '-f', containerName(mine), containerName(other)).catch(() => undefined);
    }
  }, 700_000);

  it('refuses bad counts before making anything', async () => {
    await expect(clusterUp({ name: NAME, nodes: 2, managers: 3, root: ROOT, bin })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(existsSync(`${ROOT}/${NAME}`)).toBe(false);
  });
});
