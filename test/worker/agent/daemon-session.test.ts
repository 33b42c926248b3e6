import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, freePort, newHome, type DaemonHome } from '../../daemon/daemon-harness.js';

/**
 * Dispatcher sessions through the real daemons (compiled CLI, child processes on 127.0.0.x,
 * mutual TLS on their 2377 ports): every node heartbeats to the leader's dispatcher, `node ls`
 * shows it Ready, a killed daemon (SIGKILL: no goodbye) becomes Down after 3 missed periods
 * of `--dispatcher-heartbeat 1s`, a restarted one Ready again, and when the leader's daemon
 * is killed the others' sessions move to the new leader. Needs `npm run build`.
 */
interface NodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  ManagerStatus: string;
}

afterAll(cleanupAll);

async function rows(home: DaemonHome): Promise<NodeRow[]> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  if (ls.code !== 0) return [];
  return ls.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as NodeRow);
}

async function statuses(home: DaemonHome): Promise<Record<string, string>> {
  return Object.fromEntries((await rows(home)).map((r) => [r.Hostname, r.Status]));
}

/** Polls `node ls` on `home` until `cond` holds for the hostname -> status map. */
async function untilStatuses(home: DaemonHome, cond: (s: Record<string, string>) => boolean, what: string, ms = 60_000): Promise<void> {
  let last: Record<string, string> = {};
  const end = Date.now() + ms;
  for (;;) {
    last = await statuses(home);
    if (cond(last)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; node ls says ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function info(home: DaemonHome): Promise<{ nodeId: string; raftLeaderId: string }> {
  const res = await home.cli('info', '--format', 'json');
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as { nodeId: string; raftLeaderId: string };
}

describe('dispatcher sessions through the daemons', () => {
  it('1 manager + 2 workers: all Ready; a SIGKILLed worker goes Down and comes back Ready on restart', async () => {
    const [m, w1, w2] = await Promise.all([newHome(), newHome(), newHome()]);
    await Promise.all([m.start(['--node-name', 'ds-m']), w1.start(['--node-name', 'ds-w1']), w2.start(['--node-name', 'ds-w2'])]);
    const mAddr = `127.0.0.1:${await freePort()}`;
    const init = await m.cli('init', '--advertise-addr', mAddr, '--listen-addr', mAddr, '--dispatcher-heartbeat', '1s');
    expect(init.code, init.stderr).toBe(0);
    const token = (await m.cli('join-token', '-q', 'worker')).stdout.trim();
    for (const [w, ip] of [[w1, '127.0.0.2'], [w2, '127.0.0.3']] as const) {
      const res = await w.cli('join', '--token', token, '--advertise-addr', ip, mAddr);
      expect(res.code, res.stderr).toBe(0);
    }
    await untilStatuses(m, (s) => s['ds-m'] === 'Ready' && s['ds-w1'] === 'Ready' && s['ds-w2'] === 'Ready', 'all three Ready');

    await w1.stop('SIGKILL');
    await untilStatuses(m, (s) => s['ds-w1'] === 'Down', 'the killed worker Down');
    expect((await statuses(m))['ds-w2']).toBe('Ready');

    await w1.start(['--node-name', 'ds-w1']);
    await untilStatuses(m, (s) => s['ds-w1'] === 'Ready' && s['ds-w2'] === 'Ready' && s['ds-m'] === 'Ready', 'the restarted worker Ready');
  }, 180_000);

  it('3 managers + 1 worker: when the leader\'s daemon is killed, the sessions move and the nodes are Ready under the new leader', async () => {
    const homes = await Promise.all([newHome(), newHome(), newHome(), newHome()]);
    const [a, b, c, w] = homes as [DaemonHome, DaemonHome, DaemonHome, DaemonHome];
    const names = ['fo-a', 'fo-b', 'fo-c', 'fo-w'];
    await Promise.all(homes.map((h, i) => h.start(['--node-name', names[i]!])));
    const addrs = [`127.0.0.1:${await freePort()}`, `127.0.0.2:${await freePort()}`, `127.0.0.3:${await freePort()}`];
    const init = await a.cli('init', '--advertise-addr', addrs[0]!, '--listen-addr', addrs[0]!, '--dispatcher-heartbeat', '1s');
    expect(init.code, init.stderr).toBe(0);
    const managerToken = (await a.cli('join-token', '-q', 'manager')).stdout.trim();
    const workerToken = (await a.cli('join-token', '-q', 'worker')).stdout.trim();
    for (const [h, addr] of [[b, addrs[1]!], [c, addrs[2]!]] as const) {
      const res = await h.cli('join', '--token', managerToken, '--advertise-addr', addr, '--listen-addr', addr, addrs[0]!);
      expect(res.code, res.stderr).toBe(0);
    }
    const joined = await w.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.4', addrs[0]!);
    expect(joined.code, joined.stderr).toBe(0);
    const allReady = (s: Record<string, string>): boolean => names.every((n) => s[n] === 'Ready');
    await untilStatuses(a, allReady, 'all four Ready');

    const leaderId = (await info(a)).raftLeaderId;
    const byId = new Map<string, DaemonHome>();
    for (const h of [a, b, c]) byId.set((await info(h)).nodeId, h);
    const leader = byId.get(leaderId)!;
    const leaderName = names[homes.indexOf(leader)]!;
    const survivor = [a, b, c].find((h) => h !== leader)!;
    await leader.stop('SIGKILL');

    let newLeader = '';
    const end = Date.now() + 60_000;
    while (newLeader === '' || newLeader === leaderId) {
      if (Date.now() > end) throw new Error('no new leader');
      newLeader = await info(survivor).then((i) => i.raftLeaderId, () => '');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The new leader marks every node UNKNOWN when it takes over, so Ready below means each
    // node opened a session to the new leader; the dead one goes Down after its grace.
    const others = names.filter((n) => n !== leaderName);
    await untilStatuses(survivor, (s) => others.every((n) => s[n] === 'Ready') && s[leaderName] === 'Down', 'the others Ready and the dead leader Down');
  }, 240_000);
});
