import { lstat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';
import type { NodeRow } from '../../src/cli/commands/node/node-view.js';

const TOKEN = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

afterEach(cleanupAll);

async function initHome(): Promise<{ home: DaemonHome; port: number; nodeId: string }> {
  const home = await newHome();
  await home.start();
  const port = await freePort();
  const init = await home.cli('init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`);
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
  const m = /^Swarm initialized: current node \(([0-9a-z]{25})\) is now a manager\.$/m.exec(init.stdout);
  expect(m).not.toBeNull();
  expect(init.stdout).toMatch(new RegExp(`^    tsswarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} 127\\.0\\.0\\.1:${port}$`, 'm'));
  return { home, port, nodeId: m![1]! };
}

async function nodeRows(home: DaemonHome): Promise<NodeRow[]> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  expect(ls.code).toBe(0);
  return ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as NodeRow);
}

describe('tsswarm daemon + init on one node', () => {
  it('reports "Swarm: inactive" before init', async () => {
    const home = await newHome();
    await home.start();
    const info = await home.cli('info');
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^Swarm: inactive$/m);
    const json = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { localNodeState: string };
    expect(json.localNodeState).toBe('inactive');
    for (const args of [['node', 'ls'], ['node', 'inspect', 'self'], ['join-token', 'worker']]) {
      const res = await home.cli(...args);
      expect(res.code).not.toBe(0);
      expect(errorCode(res)).toBe('SWARM_NOT_INITIALIZED');
    }
  });

  it('initializes a one-manager swarm that node ls, node inspect and info show', async () => {
    const { home, port, nodeId } = await initHome();

    const rows = await nodeRows(home);
    expect(rows).toEqual([
      { ID: nodeId, Self: true, Hostname: expect.any(String), Status: 'Ready', Availability: 'Active', ManagerStatus: 'Leader', EngineVersion: '0.1.0' },
    ]);

    const table = await home.cli('node', 'ls');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$/);
    expect(lines[1]).toMatch(new RegExp(`^${nodeId} \\*\\s+\\S+\\s+Ready\\s+Active\\s+Leader\\s+0\\.1\\.0$`));
    expect((await home.cli('node', 'ls', '-q')).stdout).toBe(`${nodeId}\n`);

    const inspect = await home.cli('node', 'inspect', 'self');
    const [node] = JSON.parse(inspect.stdout) as Array<{ id: string; role: string; managerStatus: { leader: boolean; addr: string }; status: { state: string } }>;
    expect(node).toMatchObject({ id: nodeId, role: 'MANAGER', managerStatus: { leader: true, addr: `127.0.0.1:${port}` }, status: { state: 'READY' } });
    const byPrefix = JSON.parse((await home.cli('node', 'inspect', nodeId.slice(0, 5))).stdout) as Array<{ id: string }>;
    expect(byPrefix[0]!.id).toBe(nodeId);
    const pretty = await home.cli('node', 'inspect', '--pretty', 'self');
    expect(pretty.stdout).toMatch(new RegExp(`^ID:\\s+${nodeId}$`, 'm'));
    expect(pretty.stdout).toMatch(/^ Leader:\s+Yes$/m);
    const missing = await home.cli('node', 'inspect', 'no-such-node');
    expect(errorCode(missing)).toBe('STORE_NOT_FOUND');

    const info = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      localNodeState: 'active', nodeId, isManager: true, managers: 1, nodes: 1, raftLeaderId: nodeId,
      managerAddrs: [`127.0.0.1:${port}`], nodeAddr: '127.0.0.1', dataPathPort: 4789, defaultAddrPools: ['10.0.0.0/8'], subnetSize: 24,
      dispatcherHeartbeatPeriodMs: 5000, nodeCertExpiryMs: 2160 * 3600 * 1000,
    });
    expect(info.clusterId).toMatch(/^[0-9a-z]{25}$/);
    expect(info.raftTerm as number).toBeGreaterThan(0);
    expect(info.raftApplied as number).toBeGreaterThan(0);
    const text = await home.cli('info');
    expect(text.stdout).toMatch(/^Swarm: active$/m);
    expect(text.stdout).toMatch(new RegExp(`^ NodeID: ${nodeId}$`, 'm'));
  });

  it('refuses a second init and changes nothing', async () => {
    const { home, port } = await initHome();
    const before = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { clusterId: string };
    const tokenBefore = (await home.cli('join-token', '-q', 'worker')).stdout;
    const again = await home.cli('init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port + 1}`);
    expect(again.code).not.toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^Error: /);
    expect(errorCode(again)).toBe('SWARM_ALREADY_INITIALIZED');
    const after = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { clusterId: string };
    expect(after.clusterId).toBe(before.clusterId);
    expect((await home.cli('join-token', '-q', 'worker')).stdout).toBe(tokenBefore);
  });

  it('lets exactly one of two concurrent inits win', async () => {
    const home = await newHome();
    await home.start();
    const [a, b] = await Promise.all([freePort(), freePort()]);
    const results = await Promise.all([a, b].map((p) => home.cli('init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${p}`)));
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(results.map(errorCode).filter((c) => c !== undefined)).toEqual(['SWARM_ALREADY_INITIALIZED']);
    expect(await nodeRows(home)).toHaveLength(1);
  });

  it('serves its local API on a socket only its owner can use (mode 0600)', async () => {
    const home = await newHome();
    await home.start();
    expect((await lstat(home.socket)).mode & 0o777).toBe(0o600);
  });

  it('prints and rotates join tokens in Docker\'s form', async () => {
    const { home, port } = await initHome();
    const worker = (await home.cli('join-token', '-q', 'worker')).stdout.trim();
    const manager = (await home.cli('join-token', '-q', 'manager')).stdout.trim();
    expect(worker).toMatch(TOKEN);
    expect(manager).toMatch(TOKEN);
    expect(worker).not.toBe(manager);
    // Both pin the same root CA digest; the secret decides the role.
    expect(worker.split('-')[2]).toBe(manager.split('-')[2]);

    const full = await home.cli('join-token', 'manager');
    expect(full.stdout).toContain('To add a manager to this swarm, run the following command:');
    expect(full.stdout).toContain(`    tsswarm join --token ${manager} 127.0.0.1:${port}`);

    const rotated = await home.cli('join-token', '--rotate', 'worker');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^Successfully rotated worker join token\.$/m);
    const worker2 = (await home.cli('join-token', '-q', 'worker')).stdout.trim();
    expect(worker2).toMatch(TOKEN);
    expect(worker2).not.toBe(worker);
    expect((await home.cli('join-token', '-q', 'manager')).stdout.trim()).toBe(manager);

    const bad = await home.cli('join-token', 'admin');
    expect(bad.code).not.toBe(0);
    expect(errorCode(bad)).toBe('CLI_USAGE');
  });
});
