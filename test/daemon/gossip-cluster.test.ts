/**
 * Gossip through the daemons: five real daemons (compiled CLI, npm run build first) on
 * 127.0.0.61 .. 127.0.0.65, each gossiping on 7946 of its own address with the keys the
 * leader's key rotation made and the dispatcher session handed out. Everything is observed
 * through `tsswarm info --format json`, as a user would. host1-3 are managers, host4-5 workers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GossipNode } from '../../src/gossip/index.js';
import type { GetInfoResponse } from '../../src/manager/controlapi/messages.js';
import { codeOf } from '../support/errors.js';
import { cleanupAll, freePort, newHome, type DaemonHome } from './daemon-harness.js';

const PREFIX = '127.0.0.6';
const hosts: DaemonHome[] = [];
const ids: string[] = [];
let foreign: GossipNode | undefined;

const host = (i: number): DaemonHome => hosts[i - 1]!;
const ip = (i: number): string => `${PREFIX}${i}`;

async function info(home: DaemonHome): Promise<GetInfoResponse> {
  const res = await home.cli('info', '--format', 'json');
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as GetInfoResponse;
}

/** The state `viewer` sees of node `id` in its gossip, or undefined if not a member. */
async function stateSeen(viewer: number, id: string): Promise<string | undefined> {
  return (await info(host(viewer))).gossipMembers?.find((m) => m.nodeId === id)?.state;
}

/** Polls an async condition; the deadline only guards against a hang. */
async function eventually(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function allSee(viewers: readonly number[], id: string, state: string): Promise<void> {
  for (const v of viewers) await eventually(async () => (await stateSeen(v, id)) === state, `host${v} to see ${id} ${state}`);
}

beforeAll(async () => {
  for (let i = 1; i <= 5; i++) hosts.push(await newHome());
  await Promise.all(hosts.map((h, i) => h.start(['--node-name', `gossip${i + 1}`])));
  const raft = [1, 2, 3].map(async (i) => `${ip(i)}:${await freePort()}`);
  const [a1, a2, a3] = await Promise.all(raft);
  const init = await host(1).cli('init', '--advertise-addr', a1!, '--listen-addr', a1!);
  expect(init.code, init.stderr).toBe(0);
  const managerToken = (await host(1).cli('join-token', '-q', 'manager')).stdout.trim();
  const workerToken = (await host(1).cli('join-token', '-q', 'worker')).stdout.trim();
  for (const [i, addr] of [[2, a2!], [3, a3!]] as const) {
    const res = await host(i).cli('join', '--token', managerToken, '--advertise-addr', addr, '--listen-addr', addr, a1!);
    expect(res.code, `${res.stderr}\n${host(i).log}`).toBe(0);
  }
  for (const i of [4, 5]) {
    const res = await host(i).cli('join', '--token', workerToken, '--advertise-addr', ip(i), a1!);
    expect(res.code, res.stderr).toBe(0);
  }
  for (const h of hosts) ids.push((await info(h)).nodeId);
}, 180_000);

afterAll(async () => {
  await foreign?.stop();
  await cleanupAll();
});

describe('gossip in the daemons (127.0.0.61 .. 65)', () => {
  it('forms one gossip group: every node sees all five alive on 7946 of their addresses, with the 3 keys of the session', async () => {
    for (let v = 1; v <= 5; v++) {
      await eventually(async () => (await info(host(v))).gossipMembers?.filter((m) => m.state === 'alive').length === 5, `host${v} to see five alive members`);
      const inf = await info(host(v));
      expect(inf.gossipAddr).toBe(`${ip(v)}:7946`);
      expect(inf.gossipKeys).toBe(3);
      expect(inf.gossipMembers!.map((m) => [m.nodeId, m.addr]).sort()).toEqual(ids.map((id, i) => [id, `${ip(i + 1)}:7946`]).sort());
    }
    // The text form lists the same members, indented under Gossip.
    const text = await host(4).cli('info');
    expect(text.stdout).toMatch(/^ Gossip:\n {2}Address: 127\.0\.0\.64:7946\n/m);
    for (let i = 1; i <= 5; i++) expect(text.stdout).toMatch(new RegExp(`^ {3}${ids[i - 1]} +${ip(i).replace(/\./g, '\\.')}:7946 +alive$`, 'm'));
  }, 120_000);

  it('drops a packet sealed with a key outside the keyring, and a stranger with its own key never becomes a member', async () => {
    const before = (await info(host(1))).gossipDropped?.['unknown-key'] ?? 0;
    const wrongKey = new Uint8Array(randomBytes(32));
    foreign = await GossipNode.start({ nodeId: 'gossip-stranger', bindAddr: ip(6), advertiseAddr: ip(6), port: 0, keys: [wrongKey], profile: 'local' });
    foreign.sendProbeWithKey(`${ip(1)}:7946`, wrongKey);
    await eventually(async () => ((await info(host(1))).gossipDropped?.['unknown-key'] ?? 0) > before, 'host1 to count the packet under unknown-key');
    const joinError = await foreign.join([`${ip(1)}:7946`]).then(() => undefined, (e: unknown) => e);
    expect(codeOf(() => { throw joinError; })).toBe('GOSSIP_JOIN_FAILED');
    const plainBefore = (await info(host(2))).gossipDropped?.['not-encrypted'] ?? 0;
    foreign.sendPlaintext(`${ip(2)}:7946`, new Uint8Array([1, 1, 0, 5, 3, 0, 0, 0, 0]));
    await eventually(async () => ((await info(host(2))).gossipDropped?.['not-encrypted'] ?? 0) > plainBefore, 'host2 to count the plaintext packet');
    for (let v = 1; v <= 5; v++) {
      const members = (await info(host(v))).gossipMembers!;
      expect(members.map((m) => m.nodeId)).not.toContain('gossip-stranger');
      expect(members.filter((m) => m.state === 'alive')).toHaveLength(5);
    }
    expect(foreign.members().map((m) => m.id)).toEqual(['gossip-stranger']);
  }, 120_000);

  it('marks a kill -9\'d worker dead on every other node, and alive again on all once it restarts', async () => {
    const victim = ids[4]!;
    await host(5).stop('SIGKILL');
    await allSee([1, 2, 3, 4], victim, 'dead');
    await host(5).start(['--node-name', 'gossip5']);
    await allSee([1, 2, 3, 4], victim, 'alive');
    // The restarted node itself catches up with the whole group.
    await eventually(async () => (await info(host(5))).gossipMembers?.filter((m) => m.state === 'alive').length === 5, 'host5 to see five alive members again');
  }, 180_000);

  it('marks a kill -9\'d manager dead on the others; restarted, it rejoins through the other managers', async () => {
    const victim = ids[1]!;
    await host(2).stop('SIGKILL');
    await allSee([1, 3, 4, 5], victim, 'dead');
    await host(2).start(['--node-name', 'gossip2']);
    await allSee([1, 3, 4, 5], victim, 'alive');
    await eventually(async () => (await info(host(2))).gossipMembers?.filter((m) => m.state === 'alive').length === 5, 'host2 to see five alive members again');
  }, 180_000);

  it('a stopped daemon (SIGTERM) leaves gossip: the others see it "left", not dead, and alive after its restart', async () => {
    const victim = ids[3]!;
    expect(await host(4).stop('SIGTERM')).toBe(0);
    await allSee([1, 2, 3, 5], victim, 'left');
    await host(4).start(['--node-name', 'gossip4']);
    await allSee([1, 2, 3, 5], victim, 'alive');
  }, 180_000);

  it('`tsswarm leave` on a worker leaves gossip too: the others see it "left" and its info shows no gossip', async () => {
    const victim = ids[4]!;
    const res = await host(5).cli('leave');
    expect(res.code, res.stderr).toBe(0);
    await allSee([1, 2, 3, 4], victim, 'left');
    const inf = await info(host(5));
    expect(inf.localNodeState).toBe('inactive');
    expect(inf.gossipMembers ?? []).toEqual([]);
    expect((await host(5).cli('info')).stdout).not.toContain('Gossip');
  }, 120_000);
});
