import { afterAll, describe, expect, it } from 'vitest';
import type { NodeRow } from '../../src/cli/commands/node/node-view.js';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';

afterAll(cleanupAll);

async function rows(home: DaemonHome): Promise<NodeRow[]> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  if (ls.code !== 0) throw new Error(ls.stderr);
  return ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as NodeRow);
}

describe('init --force-new-cluster', () => {
  it('brings back a cluster that lost its quorum, from one manager\'s local state', async () => {
    const [a, b, c] = await Promise.all([newHome(), newHome(), newHome()]);
    await Promise.all([a.start(['--node-name', 'fnc-a']), b.start(['--node-name', 'fnc-b']), c.start(['--node-name', 'fnc-c'])]);
    const aAddr = `127.0.0.1:${await freePort()}`;
    expect((await a.cli('init', '--advertise-addr', aAddr, '--listen-addr', aAddr)).code).toBe(0);
    const managerToken = (await a.cli('join-token', '-q', 'manager')).stdout.trim();
    const workerToken = (await a.cli('join-token', '-q', 'worker')).stdout.trim();
    for (const [home, ip] of [[b, '127.0.0.2'], [c, '127.0.0.3']] as const) {
      const addr = `${ip}:${await freePort()}`;
      const res = await home.cli('join', '--token', managerToken, '--advertise-addr', addr, '--listen-addr', addr, aAddr);
      expect(res.code, res.stderr).toBe(0);
    }
    expect((await a.cli('node', 'update', '--label-add', 'kept=yes', 'fnc-a')).code).toBe(0);
    const clusterId = (JSON.parse((await a.cli('info', '--format', 'json')).stdout) as { clusterId: string }).clusterId;

    // Two of three managers gone: no quorum, so no write and no consistent read.
    await b.stop('SIGKILL');
    await c.stop('SIGKILL');
    const stuck = await a.cli('node', 'update', '--label-add', 'x=1', 'fnc-a');
    expect(errorCode(stuck), stuck.stderr).toMatch(/^RAFT_(NO_QUORUM|TIMEOUT|NOT_LEADER)$/);

    const res = await a.cli('init', '--force-new-cluster');
    expect(res.code, `${res.stderr}\n${a.log.slice(-3000)}`).toBe(0);
    expect(res.stdout).toContain(workerToken);
    const list = await rows(a);
    expect(list.map((r) => r.Hostname).sort()).toEqual(['fnc-a', 'fnc-b', 'fnc-c']);
    expect(list.find((r) => r.Hostname === 'fnc-a')).toMatchObject({ ManagerStatus: 'Leader', Self: true });
    for (const name of ['fnc-b', 'fnc-c']) expect(list.find((r) => r.Hostname === name)!.ManagerStatus).toBe('Unreachable');
    const info = JSON.parse((await a.cli('info', '--format', 'json')).stdout) as { clusterId: string; managerAddrs: string[] };
    expect(info).toMatchObject({ clusterId, managerAddrs: [aAddr] });
    const inspect = JSON.parse((await a.cli('node', 'inspect', 'fnc-a')).stdout) as Array<{ spec: { annotations: { labels: Record<string, string> } } }>;
    expect(inspect[0]!.spec.annotations.labels).toEqual({ kept: 'yes' });

    // It works: writes commit, a node joins with the same token, and it all survives a restart.
    expect((await a.cli('node', 'update', '--label-add', 'after=yes', 'fnc-a')).code).toBe(0);
    const d = await newHome();
    await d.start(['--node-name', 'fnc-d']);
    const joined = await d.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.4', aAddr);
    expect(joined.code, joined.stderr).toBe(0);
    expect(await a.stop('SIGTERM')).toBe(0);
    await a.start(['--node-name', 'fnc-a']);
    const after = await rows(a);
    expect(after.map((r) => r.Hostname).sort()).toEqual(['fnc-a', 'fnc-b', 'fnc-c', 'fnc-d']);
  }, 180_000);

  it('is a plain init on a node in no swarm', async () => {
    const e = await newHome();
    await e.start();
    const addr = `127.0.0.5:${await freePort()}`;
    const res = await e.cli('init', '--force-new-cluster', '--advertise-addr', addr, '--listen-addr', addr);
    expect(res.code, res.stderr).toBe(0);
    expect(await rows(e)).toHaveLength(1);
  }, 60_000);
});
