import { access, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';

afterEach(cleanupAll);

interface State {
  nodeId: string;
  clusterId: string;
  workerToken: string;
  managerToken: string;
}

async function snapshot(home: DaemonHome): Promise<State> {
  const info = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { nodeId: string; clusterId: string; localNodeState: string };
  expect(info.localNodeState).toBe('active');
  return {
    nodeId: info.nodeId,
    clusterId: info.clusterId,
    workerToken: (await home.cli('join-token', '-q', 'worker')).stdout.trim(),
    managerToken: (await home.cli('join-token', '-q', 'manager')).stdout.trim(),
  };
}

async function leaderRow(home: DaemonHome): Promise<{ ID: string; Status: string; ManagerStatus: string; Self: boolean }> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  expect(ls.code).toBe(0);
  const rows = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ID: string; Status: string; ManagerStatus: string; Self: boolean });
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function initialized(): Promise<{ home: DaemonHome; before: State }> {
  const home = await newHome();
  await home.start();
  const port = await freePort();
  expect((await home.cli('init', '--advertise-addr', '127.0.0.1', '--listen-addr', `127.0.0.1:${port}`)).code).toBe(0);
  // A rotation is a Raft write after init: it must survive the restart too.
  expect((await home.cli('join-token', '--rotate', 'worker')).code).toBe(0);
  return { home, before: await snapshot(home) };
}

describe('daemon restart', () => {
  it('stops cleanly on SIGTERM and comes back with the same identity, cluster and Raft state', async () => {
    const { home, before } = await initialized();
    expect(await home.stop('SIGTERM')).toBe(0);
    // A clean stop removes its socket and its PID file.
    await expect(access(home.socket)).rejects.toThrow();
    await expect(access(join(home.dataRoot, 'daemon.pid'))).rejects.toThrow();
    await home.start();
    expect(await leaderRow(home)).toMatchObject({ ID: before.nodeId, Self: true, Status: 'Ready', ManagerStatus: 'Leader' });
    expect(await snapshot(home)).toEqual(before);
  });

  it('recovers after kill -9, replacing the stale socket', async () => {
    const { home, before } = await initialized();
    await home.stop('SIGKILL');
    expect((await lstat(home.socket)).isSocket()).toBe(true);
    await home.start();
    expect(await leaderRow(home)).toMatchObject({ ID: before.nodeId, Self: true, Status: 'Ready', ManagerStatus: 'Leader' });
    expect(await snapshot(home)).toEqual(before);
    const again = await home.cli('init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:1');
    expect(errorCode(again)).toBe('SWARM_ALREADY_INITIALIZED');
  });

  it('keeps a node that never joined a swarm: same node ID, still inactive', async () => {
    const home = await newHome();
    await home.start();
    await home.stop('SIGTERM');
    await home.start();
    const info = JSON.parse((await home.cli('info', '--format', 'json')).stdout) as { localNodeState: string };
    expect(info.localNodeState).toBe('inactive');
  });
});

describe('one daemon per socket and data root', () => {
  it('refuses a second daemon on a live socket or a data root in use', async () => {
    const first = await newHome();
    await first.start();
    const sameSocket = await newHome({ socket: first.socket });
    expect(await sameSocket.startExpectingExit()).toBe(1);
    expect(sameSocket.log).toMatch(/^Error code: DAEMON_ALREADY_RUNNING$/m);
    expect(sameSocket.log).toContain(`socket ${first.socket}`);
    const sameRoot = await newHome({ dataRoot: first.dataRoot });
    expect(await sameRoot.startExpectingExit()).toBe(1);
    expect(sameRoot.log).toMatch(/^Error code: DAEMON_ALREADY_RUNNING$/m);
    expect(sameRoot.log).toContain(`data root ${first.dataRoot}`);
    // The first daemon still serves.
    expect((await first.cli('info')).code).toBe(0);
  });
});
