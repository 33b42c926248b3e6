import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespaces, mountsUnder } from '../../src/dataplane/kernel/netns.js';
import { closeScriptSession } from '../../src/dataplane/kernel/script-runner.js';
import { clusterDown } from '../../src/testbed/cluster.js';
import { namespaceInodes, processesInInodes } from '../../src/testbed/processes.js';
import { readState } from '../../src/testbed/state.js';
import { processAlive, readProcStat } from '../../src/worker/runtime/proc-stat.js';
import { compiledPath } from '../support/compiled.js';
import { until } from '../support/wait.js';
import { eventually } from './eventually.js';

const run = promisify(execFile);
const ROOT = '/run/tsswarm-test';
const NAME = 't-cli';
const SUBNET = '10.81.0.0/24';

/** `tsswarm cluster up|ls|exec|down`, each a separate process, as a user runs them. */
describe('tsswarm cluster (real kernel, real daemons)', () => {
  const cli = { js: compiledPath(new URL('../../src/cli/main.ts', import.meta.url)) };
  const tsswarm = (...args: string[]) =>
    run(process.execPath, [cli.js, '-D', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  const errorCode = (r: { stderr: string }) => /^Error code: (\w+)$/m.exec(r.stderr)?.[1];

  beforeAll(async () => {
    await clusterDown(NAME, ROOT);
  }, 120_000);

  afterAll(async () => {
    try {
      await clusterDown(NAME, ROOT);
    } finally {
      closeScriptSession();
    }
  }, 120_000);

  it('starts a daemon per host, inits and joins them, runs commands in hosts, and down leaves nothing', async () => {
    const up = await tsswarm('cluster', 'up', '--name', NAME, '--nodes', '3', '--managers', '1', '--subnet', SUBNET, '--root', ROOT);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^HOST +ROLE +ADDRESS +SOCKET$/m);
    expect(up.stdout).toMatch(/^h1 +manager +10\.81\.0\.1 +unix:\/\/\S+h1\.sock$/m);
    expect(up.stdout).toMatch(/^h3 +worker +10\.81\.0\.3 +unix:\/\/\S+h3\.sock$/m);
    const st = await readState(ROOT, NAME);
    const daemons = st?.daemons ?? [];
    expect(daemons.map((d) => [d.host, d.role])).toEqual([
      ['h1', 'manager'],
      ['h2', 'worker'],
      ['h3', 'worker'],
    ]);
    const socketOf = (host: string) => daemons.find((d) => d.host === host)?.socket ?? '';
    expect(up.stdout).toContain(`tsswarm -H unix://${socketOf('h1')} node ls`);

    // An occupied name fails and leaves the running cluster as it was.
    const again = await tsswarm('cluster', 'up', '--name', NAME, '--nodes', '1', '--root', ROOT);
    expect(again.code).toBe(1);
    expect(errorCode(again)).toBe('TESTBED_EXISTS');

    const ls = await tsswarm('-H', `unix://${socketOf('h1')}`, 'node', 'ls', '--format', 'json');
    expect(ls.code, ls.stderr).toBe(0);
    const nodes = ls.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Hostname: string; ManagerStatus: string; Self: boolean; Status: string });
    expect(nodes.map((n) => [n.Hostname, n.ManagerStatus, n.Self])).toEqual([
      ['h1', 'Leader', true],
      ['h2', '', false],
      ['h3', '', false],
    ]);
    console.info(`node ls statuses: ${nodes.map((n) => `${n.Hostname}=${n.Status}`).join(' ')}`);

    // Each daemon runs in its own host's namespace and advertises the host's address.
    for (const h of st?.hosts ?? []) {
      const d = daemons.find((x) => x.host === h.name)!;
      expect((await readProcStat(d.pid))?.startTime).toBe(d.startTime);
      const [nsIno] = await namespaceInodes([h.nsPath]);
      expect((await stat(`/proc/${d.pid}/ns/net`)).ino).toBe(nsIno);
      const info = await tsswarm('-H', `unix://${d.socket}`, 'info');
      expect(info.code, info.stderr).toBe(0);
      expect(info.stdout).toContain(` Node Address: ${h.address}\n`);
    }

    const cls = await tsswarm('cluster', 'ls', '--format', 'json', '--root', ROOT);
    const listed = (JSON.parse(cls.stdout) as { name: string; daemons: { host: string; running: boolean }[] }[]).find((s) => s.name === NAME);
    expect(listed?.daemons.map((d) => [d.host, d.running])).toEqual([
      ['h1', true],
      ['h2', true],
      ['h3', true],
    ]);
    expect((await tsswarm('cluster', 'ls', '--root', ROOT)).stdout).toMatch(/h1:manager:running,h2:worker:running,h3:worker:running/);

    const ex = await tsswarm('cluster', 'exec', '--name', NAME, '--root', ROOT, 'h1', '--', 'ping', '-c', '1', '-w', '5', '10.81.0.3');
    expect(ex.code, ex.stdout + ex.stderr).toBe(0);
    const fails = await tsswarm('cluster', 'exec', '--name', NAME, '--root', ROOT, 'h2', '--', 'sh', '-c', 'exit 3');
    expect(fails.code).toBe(3);

    // Stand-ins for task processes, which outlive their daemon: one detached in h2's namespace,
    // one in a namespace under h3's run dir (where a daemon keeps task sandboxes).
    const h2 = st!.hosts[1]!;
    const h3 = st!.hosts[2]!;
    await createNamespaces(`${h3.runDir}/netns`, ['task1']);
    const strays = [h2.nsPath, `${h3.runDir}/netns/task1`].map((ns) => {
      const c = spawn('nsenter', [`--net=${ns}`, 'sleep', '600'], { detached: true, stdio: 'ignore' });
      c.unref();
      return c;
    });
    const allNs = [...new Set([...st!.hosts.map((h) => h.nsPath), ...(await mountsUnder(`${ROOT}/${NAME}`))])];
    const inodes = await namespaceInodes(allNs);
    await until(() => strays.every((c) => c.pid !== undefined), 'strays spawned');
    const expected = [...daemons.map((d) => d.pid), ...strays.map((c) => c.pid!)];
    await eventually(async () => {
      const pids = new Set((await processesInInodes(inodes)).map((p) => p.pid));
      return expected.every((p) => pids.has(p));
    }, 'daemons and strays seen in the namespaces');

    const down = await tsswarm('cluster', 'down', '--name', NAME, '--root', ROOT);
    expect(down.code, down.stderr).toBe(0);
    expect(await processesInInodes(inodes)).toEqual([]);
    for (const d of daemons) expect(await processAlive(d.pid, d.startTime)).toBe(false);
    expect(await mountsUnder(`${ROOT}/${NAME}`)).toEqual([]);
    expect(existsSync(`${ROOT}/${NAME}`)).toBe(false);
    expect((await tsswarm('cluster', 'ls', '-q', '--root', ROOT)).stdout).not.toContain(NAME);
    // Idempotent.
    expect((await tsswarm('cluster', 'down', '--name', NAME, '--root', ROOT)).code).toBe(0);
  }, 300_000);
});
