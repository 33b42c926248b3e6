import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRow } from '../../src/cli/commands/node/node-view.js';
import { TsswarmError, isTsswarmError } from '../../src/errors/index.js';
import { MemoryCertificateProvider, NODE_CHANNEL_OPTIONS, createNodeChannelCredentials, rootDigest, trustBundleFromPem } from '../../src/manager/ca/index.js';
import { ControlClient } from '../../src/manager/controlapi/control-client.js';
import { cleanupAll, errorCode, freePort, newHome, type DaemonHome } from './daemon-harness.js';

/**
 * The acceptance run: five hosts (127.0.0.1 .. 127.0.0.5, a daemon, data root and
 * socket each) through the real CLI. host1 inits; host2 and host3 join as managers, host4
 * and host5 as workers with the tokens.
 */
const hosts: DaemonHome[] = [];
const addrs: string[] = [];
let workerToken: string;
let managerToken: string;

interface Info { nodeId: string; clusterId: string; localNodeState: string; isManager: boolean; raftLeaderId: string }

async function info(home: DaemonHome): Promise<Info> {
  const res = await home.cli('info', '--format', 'json');
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as Info;
}

async function rows(home: DaemonHome): Promise<NodeRow[]> {
  const ls = await home.cli('node', 'ls', '--format', 'json');
  if (ls.code !== 0) throw new Error(ls.stderr);
  return ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as NodeRow);
}

/** Polls an async condition; the deadline only guards against a hang. */
async function eventually(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const host = (i: number): DaemonHome => hosts[i - 1]!;
const managers = (): DaemonHome[] => [host(1), host(2), host(3)];

async function leaderIndex(among: readonly number[]): Promise<number> {
  for (const i of among) {
    const inf = await info(host(i)).catch(() => undefined);
    if (inf === undefined || inf.raftLeaderId === '') continue;
    for (const j of among) if ((await info(host(j)).catch(() => undefined))?.nodeId === inf.raftLeaderId) return j;
  }
  return 0;
}

beforeAll(async () => {
  for (let i = 1; i <= 5; i++) hosts.push(await newHome());
  await Promise.all(hosts.map((h, i) => h.start(['--node-name', `host${i + 1}`])));
  for (let i = 1; i <= 5; i++) addrs.push(`127.0.0.${i}:${await freePort()}`);
  const init = await host(1).cli('init', '--advertise-addr', addrs[0]!, '--listen-addr', addrs[0]!);
  expect(init.code, init.stderr).toBe(0);
  workerToken = (await host(1).cli('join-token', '-q', 'worker')).stdout.trim();
  managerToken = (await host(1).cli('join-token', '-q', 'manager')).stdout.trim();
}, 60_000);

afterAll(cleanupAll);

describe('five hosts on 127.0.0.1 .. 127.0.0.5', () => {
  it('joins two managers and a worker with the tokens', async () => {
    for (const i of [2, 3]) {
      const res = await host(i).cli('join', '--token', managerToken, '--advertise-addr', addrs[i - 1]!, '--listen-addr', addrs[i - 1]!, addrs[0]!);
      expect(res.code, `${res.stderr}\n${host(i).log}`).toBe(0);
    }
    const res = await host(4).cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.4', addrs[0]!);
    expect(res.code, res.stderr).toBe(0);
  }, 120_000);

  it('refuses a wrong token, a token for another CA and an old token after a rotation, changing nothing', async () => {
    const h5 = host(5);
    const secret = workerToken.split('-')[3]!;
    const wrong = await h5.cli('join', '--token', workerToken.replace(secret, secret.replace(/.$/, secret.endsWith('0') ? '1' : '0')), addrs[0]!);
    expect(errorCode(wrong), wrong.stderr).toBe('CA_TOKEN_REJECTED');
    const digest = workerToken.split('-')[2]!;
    const mismatch = await h5.cli('join', '--token', workerToken.replace(digest, digest.replace(/.$/, digest.endsWith('0') ? '1' : '0')), addrs[0]!);
    expect(errorCode(mismatch), mismatch.stderr).toBe('CA_TOKEN_DIGEST_MISMATCH');
    expect((await host(2).cli('join-token', '--rotate', 'worker')).code).toBe(0);
    const old = await h5.cli('join', '--token', workerToken, addrs[0]!);
    expect(errorCode(old), old.stderr).toBe('CA_TOKEN_REJECTED');
    expect((await info(h5)).localNodeState).toBe('inactive');
    expect(await rows(host(1))).toHaveLength(4);
    workerToken = (await host(3).cli('join-token', '-q', 'worker')).stdout.trim();
    const res = await h5.cli('join', '--token', workerToken, '--advertise-addr', '127.0.0.5', addrs[1]!);
    expect(res.code, res.stderr).toBe(0);
  }, 120_000);

  it('shows 5 Ready nodes with their roles and the leader on every manager', async () => {
    const leaderId = (await info(host(1))).nodeId;
    for (const m of managers()) {
      await eventually(async () => (await rows(m)).filter((r) => r.Status === 'Ready').length === 5, 'all five nodes Ready');
      const list = await rows(m);
      expect(list.map((r) => r.Hostname).sort()).toEqual(['host1', 'host2', 'host3', 'host4', 'host5']);
      const byName = Object.fromEntries(list.map((r) => [r.Hostname, r]));
      expect(byName.host1).toMatchObject({ ID: leaderId, ManagerStatus: 'Leader' });
      expect(byName.host2!.ManagerStatus).toBe('Reachable');
      expect(byName.host3!.ManagerStatus).toBe('Reachable');
      expect(byName.host4!.ManagerStatus).toBe('');
      expect(byName.host5!.ManagerStatus).toBe('');
    }
  }, 120_000);

  it('refuses a worker\'s certificate on the control API and a second init, changing nothing', async () => {
    const certs = join(host(4).dataRoot, 'certificates');
    const material = {
      rootsPem: await readFile(join(certs, 'swarm-root-ca.crt'), 'utf8'),
      certChainPem: await readFile(join(certs, 'swarm-node.crt'), 'utf8'),
      keyPem: await readFile(join(certs, 'swarm-node.key'), 'utf8'),
    };
    const clusterId = (await info(host(1))).clusterId;
    const provider = new MemoryCertificateProvider(material);
    const trust = trustBundleFromPem(material.rootsPem);
    for (const target of [addrs[0]!, addrs[1]!]) {
      const control = new ControlClient({
        target, credentials: createNodeChannelCredentials(provider, { clusterId, trust: () => trust }, provider), channelOptions: NODE_CHANNEL_OPTIONS,
        deadlineMs: 20_000, transportError: (err) => new TsswarmError('INTERNAL', { detail: err.message }),
      });
      try {
        const code = await control.updateNode({ ref: 'host4', availability: 'drain', labelAdd: [], labelRm: [] }).then(() => 'accepted', (e: unknown) => (isTsswarmError(e) ? e.code : String(e)));
        expect(code).toBe('CA_ROLE_DENIED');
      } finally {
        control.close();
      }
    }
    expect((await rows(host(1))).find((r) => r.Hostname === 'host4')!.Availability).toBe('Active');
    const before = await info(host(2));
    const again = await host(2).cli('init', '--advertise-addr', '127.0.0.2', '--listen-addr', `127.0.0.2:${await freePort()}`);
    expect(errorCode(again), again.stderr).toBe('SWARM_ALREADY_INITIALIZED');
    expect(await info(host(2))).toMatchObject({ nodeId: before.nodeId, clusterId: before.clusterId, isManager: true });
  }, 60_000);

  it('survives kill -9 of the leader: another manager leads, node ls works on every survivor, the killed one rejoins as a follower', async () => {
    const oldLeader = await leaderIndex([1, 2, 3]);
    expect(oldLeader).toBeGreaterThan(0);
    const oldLeaderId = (await info(host(oldLeader))).nodeId;
    const survivors = [1, 2, 3].filter((i) => i !== oldLeader);
    const t0 = Date.now();
    await host(oldLeader).stop('SIGKILL');
    await eventually(async () => {
      const inf = await info(host(survivors[0]!));
      return inf.raftLeaderId !== '' && inf.raftLeaderId !== oldLeaderId;
    }, 'a new leader');
    // Measured through the CLI (a process start per look), so an upper bound of the failover.
    console.log(`five-hosts: a new leader after kill -9 of host${oldLeader}: ${Date.now() - t0} ms (measured through the CLI)`);
    for (const i of survivors) {
      const list = await rows(host(i));
      expect(list).toHaveLength(5);
      expect(list.filter((r) => r.ManagerStatus === 'Leader')).toHaveLength(1);
      expect(list.find((r) => r.ID === oldLeaderId)!.ManagerStatus).not.toBe('Leader');
      await eventually(async () => (await rows(host(i))).find((r) => r.ID === oldLeaderId)!.ManagerStatus === 'Unreachable', 'the killed manager listed Unreachable');
    }
    await host(oldLeader).start(['--node-name', `host${oldLeader}`]);
    await eventually(async () => {
      const inf = await info(host(oldLeader));
      return inf.isManager && inf.raftLeaderId !== '' && inf.raftLeaderId !== oldLeaderId;
    }, 'the restarted manager to follow the new leader');
    expect(await rows(host(oldLeader))).toHaveLength(5);
    await eventually(async () => (await rows(host(survivors[0]!))).find((r) => r.ID === oldLeaderId)!.ManagerStatus === 'Reachable', 'the restarted manager listed Reachable');
  }, 180_000);

  it('refuses a demote that would lose the quorum, with the numbers, changing nothing', async () => {
    const leader = await leaderIndex([1, 2, 3]);
    const [target, victim] = [1, 2, 3].filter((i) => i !== leader) as [number, number];
    await host(victim).stop('SIGKILL');
    try {
      const res = await host(leader).cli('node', 'demote', `host${target}`);
      expect(errorCode(res), res.stderr).toBe('DEMOTE_WOULD_LOSE_QUORUM');
      expect(res.stderr).toContain('1 of the remaining 2 managers');
      const list = await rows(host(leader));
      expect(list.find((r) => r.Hostname === `host${target}`)!.ManagerStatus).toBe('Reachable');
      expect((await info(host(target))).isManager).toBe(true);
    } finally {
      await host(victim).start(['--node-name', `host${victim}`]);
    }
    await eventually(async () => (await info(host(victim))).raftLeaderId !== '', 'the restarted manager to see a leader');
  }, 120_000);

  it('rotates the CA: every node holds a certificate from the new root and the cluster keeps working', async () => {
    const oldRoot = new X509Certificate(await readFile(join(host(1).dataRoot, 'certificates', 'swarm-root-ca.crt'), 'utf8'));
    const res = await host(2).cli('ca', '--rotate', '-q');
    expect(res.code, res.stderr).toBe(0);
    const newRoot = new X509Certificate(res.stdout);
    expect(newRoot.fingerprint256).not.toBe(oldRoot.fingerprint256);
    for (const h of hosts) {
      await eventually(async () => {
        const cert = new X509Certificate(await readFile(join(h.dataRoot, 'certificates', 'swarm-node.crt'), 'utf8'));
        return cert.verify(newRoot.publicKey);
      }, 'every node to hold a certificate from the new root', 120_000);
    }
    // Finished: the tokens pin the new root's digest.
    await eventually(async () => (await host(1).cli('join-token', '-q', 'worker')).stdout.split('-')[2] === rootDigest(newRoot), 'the rotation to finish', 120_000);
    for (const h of hosts) {
      await eventually(async () => {
        const roots = await readFile(join(h.dataRoot, 'certificates', 'swarm-root-ca.crt'), 'utf8');
        return new X509Certificate(roots).fingerprint256 === newRoot.fingerprint256 && roots.match(/BEGIN CERTIFICATE/g)!.length === 1;
      }, 'every node to trust only the new root', 120_000);
    }
    const newToken = (await host(1).cli('join-token', '-q', 'worker')).stdout.trim();
    expect(newToken).not.toBe(workerToken);
    for (const m of managers()) {
      const list = await rows(m);
      expect(list).toHaveLength(5);
    }
    expect((await host(3).cli('node', 'update', '--label-add', 'rotated=yes', 'host5')).code).toBe(0);
  }, 300_000);

  it('lets the leader leave only with --force; it hands leadership over, leaves Raft, and the other two keep working', async () => {
    // The leader itself: it hands leadership over before it leaves Raft.
    const leaver = await leaderIndex([1, 2, 3]);
    expect(leaver).toBeGreaterThan(0);
    const refused = await host(leaver).cli('leave');
    expect(errorCode(refused), refused.stderr).toBe('LEAVE_MANAGER_REFUSED');
    expect((await info(host(leaver))).isManager).toBe(true);
    const res = await host(leaver).cli('leave', '--force');
    expect(res.code, `${res.stderr}\n${host(leaver).log.slice(-3000)}`).toBe(0);
    expect((await info(host(leaver))).localNodeState).toBe('inactive');
    const rest = [1, 2, 3].filter((i) => i !== leaver);
    for (const i of rest) {
      await eventually(async () => {
        const list = await rows(host(i));
        return list.filter((r) => r.ManagerStatus !== '').length === 2 && list.find((r) => r.Hostname === `host${leaver}`)!.ManagerStatus === '';
      }, 'two managers left');
    }
    expect((await host(rest[0]!).cli('node', 'update', '--label-add', 'after-leave=yes', 'host4')).code).toBe(0);
  }, 120_000);
});
