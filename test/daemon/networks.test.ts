/**
 * Overlay networks in the control plane through one real daemon and the real CLI: network
 * create / ls / inspect / rm, refusals that change nothing, a service on a network whose tasks
 * carry attachments with distinct addresses in the network's subnet (the tasks are held
 * PENDING by a constraint no node meets, so nothing runs on this host), and `network rm`
 * refused while the service is attached, then accepted once it is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, errorCode, freePort, newHome, type CliResult, type DaemonHome } from './daemon-harness.js';
import type { NetworkRow, InspectedNetwork } from '../../src/cli/commands/network/network-view.js';
import type { TaskRow } from '../../src/cli/commands/service/service-view.js';
import type { Service } from '../../src/objects/index.js';

let home: DaemonHome;

async function ok(...args: string[]): Promise<string> {
  const r = await home.cli(...args);
  if (r.code !== 0) throw new Error(`tsswarm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function refused(code: string, ...args: string[]): Promise<CliResult> {
  const r = await home.cli(...args);
  expect(r.code, `${args.join(' ')}: ${r.stdout}`).not.toBe(0);
  expect(errorCode(r), r.stderr).toBe(code);
  expect(r.stderr).toMatch(/^Error: /);
  return r;
}

const lines = (out: string): string[] => out.trim() === '' ? [] : out.trim().split('\n');
const networks = async (): Promise<NetworkRow[]> => lines(await ok('network', 'ls', '--format', 'json')).map((l) => JSON.parse(l) as NetworkRow);
const inspect = async (...refs: string[]): Promise<InspectedNetwork[]> => JSON.parse(await ok('network', 'inspect', ...refs)) as InspectedNetwork[];
const psRows = async (service: string): Promise<TaskRow[]> => lines(await ok('service', 'ps', '--no-trunc', '--format', 'json', service)).map((l) => JSON.parse(l) as TaskRow);

/** Polls until `cond` holds; the deadline only guards against a hang. */
async function eventually<T>(what: string, fn: () => Promise<T>, cond: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last = await fn();
  while (!cond(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}

/** An IPv4 address as a number, to test subnet membership. */
const ipNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
function inSubnet(cidr: string, subnet: string): boolean {
  const [base, bits] = subnet.split('/');
  const size = 2 ** (32 - Number(bits));
  const ip = ipNumber(cidr.split('/')[0]!);
  return ip >= ipNumber(base!) && ip < ipNumber(base!) + size;
}

/** Loopback addresses of this file only (gossip binds 7946 on each), so files run in parallel. */
const LEADER_IP = '127.0.44.1';
const FOLLOWER_IP = '127.0.44.2';
let leaderAddr = '';

beforeAll(async () => {
  home = await newHome();
  await home.start();
  leaderAddr = `${LEADER_IP}:${await freePort()}`;
  const init = await home.cli('init', '--advertise-addr', leaderAddr, '--listen-addr', leaderAddr);
  expect(init.code, init.stderr).toBe(0);
}, 60_000);

afterAll(cleanupAll);

describe('tsswarm network on one manager', () => {
  it('creates overlay networks from the pool and as given, lists and inspects them as Docker', async () => {
    const id = (await ok('network', 'create', 'appnet')).trim();
    expect(id).toMatch(/^[0-9a-z]{25}$/);
    await ok('network', 'create', '-d', 'overlay', '--subnet', '10.123.0.0/16', '--gateway', '10.123.0.254', '--ip-range', '10.123.7.0/24', '-o', 'com.docker.network.driver.mtu=1400', '--label', 'team=a', 'given');

    // init made the ingress network (10.0.0.0/24, VNI 4096, as Docker's), so appnet is next.
    const table = lines(await ok('network', 'ls'));
    expect(table[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    expect(table.slice(1).sort((a, b) => a.split(/\s+/)[1]!.localeCompare(b.split(/\s+/)[1]!))).toEqual([
      expect.stringMatching(new RegExp(`^${id.slice(0, 12)}\\s+appnet\\s+overlay\\s+swarm$`)),
      expect.stringMatching(/^[0-9a-z]{12}\s+given\s+overlay\s+swarm$/),
      expect.stringMatching(/^[0-9a-z]{12}\s+ingress\s+overlay\s+swarm$/),
    ]);
    expect((await ok('network', 'ls', '-q')).trim().split('\n')).toHaveLength(3);
    const [ingress] = await inspect('ingress');
    expect(ingress).toMatchObject({
      Name: 'ingress', Driver: 'overlay', Ingress: true, Attachable: false,
      IPAM: { Config: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }] }, Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4096' },
    });

    const [app, given] = await inspect('appnet', 'given');
    expect(app).toMatchObject({
      Name: 'appnet', Id: id, Scope: 'swarm', Driver: 'overlay', EnableIPv6: false, Internal: false, Attachable: false, Ingress: false,
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }] },
      Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' }, Labels: {},
    });
    expect(Date.parse(app!.Created)).toBeGreaterThan(0);
    expect(given).toMatchObject({
      IPAM: { Config: [{ Subnet: '10.123.0.0/16', Gateway: '10.123.0.254', IPRange: '10.123.7.0/24' }] },
      Options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.driver.overlay.vxlanid_list': '4098' }, Labels: { team: 'a' },
    });
    // By ID prefix too; --verbose adds this node's view (empty while no task of it runs here).
    const [verbose] = JSON.parse(await ok('network', 'inspect', '--verbose', id.slice(0, 8))) as InspectedNetwork[];
    expect(verbose).toMatchObject({ Id: id, Peers: expect.any(Array), Services: expect.any(Object) });
  });

  it('refuses bad networks with their own codes and changes nothing', async () => {
    const before = await networks();
    await refused('NETWORK_ENCRYPTION_UNSUPPORTED', 'network', 'create', '-o', 'encrypted', 'sealed');
    await refused('NETWORK_NAME_IN_USE', 'network', 'create', 'APPNET');
    await refused('IPAM_SUBNET_OVERLAP', 'network', 'create', '--subnet', '10.123.5.0/24', 'overlapping');
    await refused('IPAM_INVALID', 'network', 'create', '--subnet', '10.124.0.0/24', '--gateway', '10.125.0.1', 'badgw');
    await refused('NETWORK_INVALID_OPTION', 'network', 'create', '-o', 'com.docker.network.driver.mtu=100', 'tinymtu');
    await refused('NETWORK_INVALID_OPTION', 'network', 'create', '-d', 'bridge', 'bridged');
    await refused('NETWORK_INVALID_OPTION', 'network', 'create', '--internal', 'closed');
    await refused('NETWORK_NOT_FOUND', 'network', 'inspect', 'nope');
    await refused('NETWORK_NOT_FOUND', 'network', 'rm', 'appnet', 'nope');
    expect(await networks()).toEqual(before);
    await refused('SERVICE_NETWORK_NOT_FOUND', 'service', 'create', '--detach', '--name', 'lost', '--network', 'nope', 'sleep', '1000');
    expect(await ok('service', 'ls', '-q')).toBe('');
  });

  it('gives a service on the network a VIP and each task its own address, and keeps the network while it is in use', async () => {
    const [app] = await inspect('appnet');
    const subnet = app!.IPAM.Config[0]!.Subnet;
    // A constraint no node meets: the tasks are allocated (PENDING) but never run here.
    await ok('service', 'create', '--detach', '--name', 'web', '--replicas', '3', '--network', 'appnet', '--constraint', 'node.labels.nowhere==true', 'sleep', '1000');
    await ok('service', 'create', '--detach', '--name', 'rr', '--replicas', '1', '--endpoint-mode', 'dnsrr', '--network', app!.Id, '--constraint', 'node.labels.nowhere==true', 'sleep', '1000');

    const rows = await eventually('3 tasks with addresses', () => psRows('web'), (r) => r.length === 3 && r.every((t) => t.Networks !== ''));
    const addrs = rows.map((r) => {
      const m = /^appnet=(\d+\.\d+\.\d+\.\d+\/24)$/.exec(r.Networks);
      expect(m, r.Networks).not.toBeNull();
      return m![1]!;
    });
    expect(new Set(addrs).size).toBe(3);
    for (const a of addrs) expect(inSubnet(a, subnet)).toBe(true);
    expect(rows.every((r) => r.CurrentState.startsWith('Pending'))).toBe(true);

    const vipOf = async (name: string): Promise<Service['endpoint']> => (JSON.parse(await ok('service', 'inspect', name)) as Service[])[0]!.endpoint;
    const web = await eventually('the VIP of web', () => vipOf('web'), (e) => (e?.virtualIps.length ?? 0) === 1);
    const vip = web!.virtualIps[0]!;
    expect(vip.networkId).toBe(app!.Id);
    expect(inSubnet(vip.addr, subnet)).toBe(true);
    expect(addrs).not.toContain(vip.addr);
    const [spec] = JSON.parse(await ok('service', 'inspect', 'web')) as Service[];
    expect(spec!.spec.task.networks).toEqual([{ target: app!.Id, aliases: [] }]);
    await eventually('rr allocated', () => psRows('rr'), (r) => r.length === 1 && r[0]!.Networks !== '');
    expect((await vipOf('rr'))!.virtualIps).toEqual([]);

    const busy = await refused('NETWORK_IN_USE', 'network', 'rm', 'appnet');
    expect(busy.stderr).toContain('rr, web');
    expect((await networks()).map((n) => n.Name)).toContain('appnet');

    await ok('service', 'rm', 'web', 'rr');
    // The service goes once its tasks are reaped; until then the network stays in use.
    const removed = await eventually('network rm accepted', () => home.cli('network', 'rm', 'appnet'), (r) => r.code === 0);
    expect(removed.stdout).toBe('appnet\n');
    expect((await networks()).map((n) => n.Name).sort()).toEqual(['given', 'ingress']);
    // Its subnet and VXLAN ID are free again.
    await ok('network', 'create', 'again');
    const [again] = await inspect('again');
    expect(again!.IPAM.Config[0]!.Subnet).toBe(subnet);
  }, 120_000);

  it('attaches and detaches a running service with service update --network-add / --network-rm', async () => {
    await ok('service', 'create', '--detach', '--name', 'mover', '--constraint', 'node.labels.nowhere==true', 'sleep', '1000');
    await ok('service', 'update', '--detach', '--network-add', 'again', 'mover');
    const [again] = await inspect('again');
    const attached = (JSON.parse(await ok('service', 'inspect', 'mover')) as Service[])[0]!;
    expect(attached.spec.task.networks.map((n) => n.target)).toEqual([again!.Id]);
    await refused('SERVICE_INVALID_OPTION', 'service', 'update', '--detach', '--network-add', again!.Id, 'mover');
    await ok('service', 'update', '--detach', '--network-rm', 'again', 'mover');
    const detached = (JSON.parse(await ok('service', 'inspect', 'mover')) as Service[])[0]!;
    expect(detached.spec.task.networks).toEqual([]);
    await eventually('the VIP released', async () => (JSON.parse(await ok('service', 'inspect', 'mover')) as Service[])[0]!.endpoint?.virtualIps ?? [], (v) => v.length === 0);
  }, 120_000);

  it('answers from a follower manager: writes go to the leader, inspect --verbose is the follower\'s own view', async () => {
    const follower = await newHome();
    await follower.start();
    const token = (await ok('join-token', '-q', 'manager')).trim();
    const addr = `${FOLLOWER_IP}:${await freePort()}`;
    const joined = await follower.cli('join', '--token', token, '--advertise-addr', addr, '--listen-addr', addr, leaderAddr);
    expect(joined.code, joined.stderr + follower.log).toBe(0);
    const created = await eventually('network create through the follower', () => follower.cli('network', 'create', 'fromfollower'), (r) => r.code === 0);
    const id = created.stdout.trim();
    expect((await networks()).map((n) => n.ID)).toContain(id);
    const [shown] = JSON.parse((await follower.cli('network', 'inspect', '--verbose', 'fromfollower')).stdout) as InspectedNetwork[];
    expect(shown).toMatchObject({ Id: id, Peers: expect.any(Array), Services: {} });
    const rm = await follower.cli('network', 'rm', 'fromfollower');
    expect(rm.stdout).toBe('fromfollower\n');
    expect((await networks()).map((n) => n.ID)).not.toContain(id);
  }, 120_000);
});
