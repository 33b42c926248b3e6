/**
 * Overlay networks end to end through the real CLI and daemons of a 5-node cluster on virtual
 * hosts (a test bed: a network namespace per host, one daemon each; h1 manages; h5 is drained
 * and is in no network): `network create`, services with
 * `--network`, each task's sandbox with an address on its networks, the nodes' gossip endpoint
 * tables (`network inspect --verbose` on every node), VXLAN between hosts programmed from those
 * tables, isolation between networks, the overlay MTU, and a node that was cut off from gossip
 * and restarted catching up. Everything is removed by clusterDown, also when a test fails.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestbedCluster, eventually } from '../support/testbed-cli.js';

const execFileP = promisify(execFile);
const tc = new TestbedCluster('t-ovl5', '/run/tsswarm-test');
const SUBNET = '10.84.0.0/24';
/** Each task answers a TCP connection on this port with its hostname (its own UTS namespace). */
const PORT = 7000;

const cli = tc.cli.bind(tc);
const ok = tc.ok.bind(tc);
const hostOf = tc.host.bind(tc);

interface PsRow { ID: string; Name: string; Node: string; CurrentState: string }

async function runningTasks(service: string): Promise<PsRow[]> {
  const out = await ok('h1', 'service', 'ps', '--no-trunc', '--format', 'json', '-f', 'desired-state=running', service);
  const rows = out.trim() === '' ? [] : out.trim().split('\n').map((l) => JSON.parse(l) as PsRow);
  return rows.filter((r) => r.CurrentState.startsWith('Running'));
}

/** The network namespace of a task's sandbox on its host (the host's exec root). */
function sandboxPath(host: string, taskId: string): string {
  return `${hostOf(host).runDir}/netns/sb-${taskId}`;
}

async function inNs(nsPath: string, ...cmd: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileP('nsenter', [`--net=${nsPath}`, ...cmd], { timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** The task's address on its overlay network: the sandbox's address inside the network's subnet. */
async function overlayIp(host: string, taskId: string, subnetPrefix: string): Promise<string> {
  const r = await inNs(sandboxPath(host, taskId), 'ip', '-4', '-o', 'addr', 'show');
  const ip = [...r.out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] ?? '').find((a) => a.startsWith(subnetPrefix));
  if (ip === undefined) throw new Error(`task ${taskId} on ${host} has no address in ${subnetPrefix}*: ${r.out}`);
  return ip;
}

/** Every value of `key` anywhere in a JSON document (the verbose view's nesting is Docker's). */
function valuesOf(doc: unknown, key: string): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === key) out.push(x);
        walk(x);
      }
    }
  };
  walk(doc);
  return out;
}

/** What one node's gossip knows of a network: its endpoints' addresses and its peers' names. */
async function verboseView(host: string, network: string): Promise<{ ips: string[]; peers: string[] }> {
  const doc: unknown = JSON.parse(await ok(host, 'network', 'inspect', '--verbose', network));
  const ips = valuesOf(doc, 'EndpointIP').map(String).map((ip) => ip.split('/')[0] ?? '').sort();
  // Peers by their address, named after the test bed's host that has it.
  const peers = valuesOf(doc, 'Peers')
    .flatMap((p) => (Array.isArray(p) ? p : []))
    .map((p) => String((p as { IP?: unknown }).IP))
    .map((ip) => tc.bed.hosts.find((h) => h.address === ip)?.name ?? ip)
    .sort();
  return { ips, peers };
}

/**
 * What a node outside a network knows of it: a worker does not know the network at all
 * (NETWORK_NOT_FOUND, as Docker's "No such network"), a manager knows it but no endpoints.
 */
async function endpointsKnownOutside(host: string, network: string): Promise<string[]> {
  const r = await cli(host, 'network', 'inspect', '--verbose', network);
  if (r.code !== 0) {
    expect(r.stderr).toMatch(/NETWORK_NOT_FOUND/);
    return [];
  }
  return valuesOf(JSON.parse(r.stdout), 'EndpointIP').map(String);
}

/** A TCP connection from a sandbox to ip:PORT; the task there answers with its hostname. */
async function tcpHostname(fromNs: string, ip: string): Promise<string> {
  const r = await inNs(fromNs, 'busybox', 'nc', '-w', '3', ip, String(PORT));
  return r.code === 0 ? r.out.trim() : `(failed: ${r.out.trim()})`;
}

async function pingOk(fromNs: string, ip: string, ...extra: string[]): Promise<boolean> {
  return (await inNs(fromNs, 'ping', '-c', '1', '-W', '2', ...extra, ip)).code === 0;
}

/** Cuts a host off from gossip (TCP and UDP 7946 both ways) with an nft table in its namespace. */
async function blockGossip(host: string, on: boolean): Promise<void> {
  const ns = hostOf(host).nsPath;
  const rules = on
    ? [
        'table inet t_ovl5_block {',
        '  chain in {',
        '    type filter hook input priority -10;',
        '    tcp dport 7946 drop; udp dport 7946 drop; tcp sport 7946 drop; udp sport 7946 drop;',
        '  }',
        '  chain out {',
        '    type filter hook output priority -10;',
        '    tcp dport 7946 drop; udp dport 7946 drop; tcp sport 7946 drop; udp sport 7946 drop;',
        '  }',
        '}',
        '',
      ].join('\n')
    : 'delete table inet t_ovl5_block\n';
  const { stderr } = await execFileP('sh', ['-c', `nsenter --net=${ns} nft -f - <<'EOF'\n${rules}EOF`]);
  if (stderr.trim() !== '') throw new Error(`nft on ${host}: ${stderr}`);
}

beforeAll(async () => {
  await tc.up({ nodes: 5, managers: 1, subnet: SUBNET });
  await eventually('5 ready nodes', () => ok('h1', 'node', 'ls', '--format', 'json'), (o) => o.trim().split('\n').filter((l) => l.includes('"Ready"')).length === 5);
  // h5 stays out of every network: it must learn nothing of them.
  await ok('h1', 'node', 'update', '--availability', 'drain', 'h5');
}, 240_000);

afterAll(async () => {
  await tc.down();
}, 120_000);

describe('overlay networks on 5 hosts', () => {
  const server = ['busybox', 'nc', '-ll', '-p', String(PORT), '-e', 'hostname'];
  /** Task ID -> host, for the services below. */
  const where = new Map<string, string>();

  it('creates two networks, and refuses an overlapping subnet and a duplicate name', async () => {
    await ok('h1', 'network', 'create', '-d', 'overlay', '--subnet', '10.60.1.0/24', 'neta');
    await ok('h1', 'network', 'create', '--subnet', '10.60.2.0/24', 'netb');
    expect((await cli('h1', 'network', 'create', '--subnet', '10.60.1.128/25', 'netc')).code).not.toBe(0);
    expect((await cli('h1', 'network', 'create', '--subnet', '10.60.3.0/24', 'neta')).code).not.toBe(0);
    const ls = await ok('h1', 'network', 'ls');
    expect(ls).toMatch(/neta/);
    expect(ls).toMatch(/netb/);
    expect(ls).not.toMatch(/netc/);
  }, 60_000);

  it('gives tasks addresses on their networks and tells exactly the nodes of each network where they are', async () => {
    // a: one task on each of h1, h2, h3 (spread; h4 excluded, h5 drained). b: on h3 and h4.
    await ok('h1', 'service', 'create', '--detach', '--name', 'a', '--replicas', '3', '--network', 'neta', '--constraint', 'node.hostname!=h4', ...server);
    await ok('h1', 'service', 'create', '--detach', '--name', 'b', '--replicas', '2', '--network', 'netb', '--constraint', 'node.hostname!=h1', '--constraint', 'node.hostname!=h2', ...server);
    const a = await eventually('3 a tasks running', () => runningTasks('a'), (t) => t.length === 3);
    const b = await eventually('2 b tasks running', () => runningTasks('b'), (t) => t.length === 2);
    expect(a.map((t) => t.Node).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(b.map((t) => t.Node).sort()).toEqual(['h3', 'h4']);
    for (const t of [...a, ...b]) where.set(t.ID, t.Node);

    const aIps = (await Promise.all(a.map((t) => overlayIp(t.Node, t.ID, '10.60.1.')))).sort();
    const bIps = (await Promise.all(b.map((t) => overlayIp(t.Node, t.ID, '10.60.2.')))).sort();
    expect(new Set(aIps).size).toBe(3);
    expect(new Set(bIps).size).toBe(2);

    // Every node of a network knows all its endpoints and peers; the others know nothing of it.
    for (const h of ['h1', 'h2', 'h3']) {
      const v = await eventually(`${h} sees a's endpoints`, () => verboseView(h, 'neta'), (x) => x.ips.join() === aIps.join());
      expect(v.peers).toEqual(['h1', 'h2', 'h3']);
    }
    for (const h of ['h4', 'h5']) expect(await endpointsKnownOutside(h, 'neta')).toEqual([]);
    for (const h of ['h3', 'h4']) {
      const v = await eventually(`${h} sees b's endpoints`, () => verboseView(h, 'netb'), (x) => x.ips.join() === bIps.join());
      expect(v.peers).toEqual(['h3', 'h4']);
    }
    for (const h of ['h1', 'h2', 'h5']) expect(await endpointsKnownOutside(h, 'netb')).toEqual([]);
  }, 240_000);

  it('carries TCP and ping between tasks on different hosts, at the overlay MTU, and keeps the networks apart', async () => {
    const a = await runningTasks('a');
    const onHost = (rows: PsRow[], h: string) => rows.find((t) => t.Node === h)!;
    const a1 = onHost(a, 'h1');
    const a2 = onHost(a, 'h2');
    const a3 = onHost(a, 'h3');
    const from = sandboxPath('h1', a1.ID);
    const a2ip = await overlayIp('h2', a2.ID, '10.60.1.');
    const a3ip = await overlayIp('h3', a3.ID, '10.60.1.');
    // The answer is the hostname of the task's own UTS namespace: the task on h2 answered.
    // The nodes program each other's endpoints as gossip brings them: wait for first contact.
    const h2Name = await eventually(`h1's task reaches ${a2ip}`, () => tcpHostname(from, a2ip), (out) => !out.startsWith('(failed'));
    const h3Name = await eventually(`h1's task reaches ${a3ip}`, () => tcpHostname(from, a3ip), (out) => !out.startsWith('(failed'));
    expect(h3Name).not.toBe(h2Name);
    expect(await pingOk(from, a2ip)).toBe(true);
    // 1422 bytes of payload + 8 ICMP + 20 IP = 1450, the overlay MTU (1500 - 50), DF set.
    expect(await pingOk(from, a2ip, '-M', 'do', '-s', '1422')).toBe(true);
    expect(await pingOk(from, a2ip, '-M', 'do', '-s', '1423')).toBe(false);

    // b's task on h3 shares a host with a's, not a network: a's addresses are out of its reach.
    const b = await runningTasks('b');
    const b3 = sandboxPath('h3', onHost(b, 'h3').ID);
    const b4ip = await overlayIp('h4', onHost(b, 'h4').ID, '10.60.2.');
    await eventually(`b's task on h3 reaches ${b4ip}`, () => tcpHostname(b3, b4ip), (out) => !out.startsWith('(failed'));
    expect(await pingOk(b3, a3ip)).toBe(false);
    expect(await pingOk(b3, a2ip)).toBe(false);
  }, 120_000);

  it('keeps an open connection across hosts, and never drops the forwarding entry, while both daemons restart', async () => {
    const a = await runningTasks('a');
    const a1 = a.find((t) => t.Node === 'h1')!;
    const a2 = a.find((t) => t.Node === 'h2')!;
    const a2ip = await overlayIp('h2', a2.ID, '10.60.1.');
    const netaId = (JSON.parse(await ok('h1', 'network', 'inspect', 'neta')) as Array<{ Id: string }>)[0]!.Id;
    const a2mac = `02:42:${a2ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`;
    const overlayOnH1 = `${hostOf('h1').runDir}/netns/ov-${netaId}`;
    expect((await inNs(overlayOnH1, 'bridge', 'fdb', 'show')).out).toMatch(new RegExp(`${a2mac} dev vxlan\\d+ dst `));

    // A long-lived TCP connection from a's task on h1 to a's task on h2 (both outlive daemons).
    let received = '';
    // (Both ends keep their stdin open: busybox nc ends the connection at EOF there.)
    const server = spawn('nsenter', [`--net=${sandboxPath('h2', a2.ID)}`, 'busybox', 'nc', '-l', '-p', '7100'], { stdio: ['pipe', 'pipe', 'ignore'] });
    server.stdout.on('data', (b: Buffer) => (received += b.toString()));
    await eventually('the server listens', () => inNs(sandboxPath('h2', a2.ID), 'ss', '-ltn'), (r) => r.out.includes(':7100'));
    const client = spawn('nsenter', [`--net=${sandboxPath('h1', a1.ID)}`, 'busybox', 'nc', a2ip, '7100'], { stdio: ['pipe', 'ignore', 'ignore'] });
    let watching = true;
    try {
      client.stdin.write('before\n');
      await eventually('a line across the hosts', async () => received, (r) => r.includes('before'));
      // Watch h1's forwarding entry for the task on h2 while both daemons restart.
      let polls = 0;
      let missing = 0;
      const watch = (async () => {
        while (watching) {
          const fdb = await inNs(overlayOnH1, 'bridge', 'fdb', 'show');
          polls++;
          // The VXLAN device's own entry (with the remote VTEP), not what br0 learned of that MAC.
          if (fdb.code === 0 && !fdb.out.split('\n').some((l) => l.includes(a2mac) && l.includes(' dst '))) missing++;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await tc.restartDaemon('h1');
      await tc.restartDaemon('h2');
      // Past the restarted daemons' catch-up: what is programmed now comes from gossip.
      // h1 is the sole manager, so its gossip has no seed: it must learn h3's endpoint (whose
      // daemon never restarted) from the other members, not only h2's, which rejoins through h1.
      const aIps = (await Promise.all(a.map((t) => overlayIp(t.Node, t.ID, '10.60.1.')))).sort();
      await eventually('h1 sees all of a\'s endpoints again', () => verboseView('h1', 'neta'), (x) => aIps.every((ip) => x.ips.includes(ip)));
      await new Promise((r) => setTimeout(r, 5_000));
      client.stdin.write('after\n');
      await eventually('the same connection carries on', async () => received, (r) => r.includes('after'));
      watching = false;
      await watch;
      expect(polls).toBeGreaterThan(10);
      expect(missing).toBe(0);
      expect(client.exitCode).toBeNull();
    } finally {
      watching = false;
      client.kill('SIGKILL');
      server.kill('SIGKILL');
    }
  }, 240_000);

  it('a node cut off from gossip and restarted catches up with what changed meanwhile', async () => {
    await blockGossip('h2', true);
    // While h2 hears nothing, neta gets a task of another service on h3: h2 can learn of it
    // only by gossip.
    await ok('h1', 'service', 'create', '--detach', '--name', 'c', '--network', 'neta', '--constraint', 'node.hostname==h3', ...server);
    const c = await eventually('c running', () => runningTasks('c'), (t) => t.length === 1);
    where.set(c[0]!.ID, 'h3');
    const cIp = await overlayIp('h3', c[0]!.ID, '10.60.1.');
    const a2 = (await runningTasks('a')).find((t) => t.Node === 'h2')!;
    const a2ip = await overlayIp('h2', a2.ID, '10.60.1.');
    // The others learn of c, see h2 dead and withdraw its endpoint; h2 learns nothing.
    await eventually('h1 knows c, not h2\'s task', () => verboseView('h1', 'neta'), (x) => x.ips.includes(cIp) && !x.ips.includes(a2ip));
    expect((await verboseView('h2', 'neta')).ips).not.toContain(cIp);
    await tc.restartDaemon('h2');
    await blockGossip('h2', false);

    const all = [...(await runningTasks('a')), ...c];
    const ips = (await Promise.all(all.map((t) => overlayIp(t.Node, t.ID, '10.60.1.')))).sort();
    for (const h of ['h1', 'h2', 'h3']) {
      await eventually(`${h} sees the 4 endpoints of neta`, () => verboseView(h, 'neta'), (x) => x.ips.join() === ips.join());
    }
    await eventually(`h2's task reaches c at ${cIp}`, () => tcpHostname(sandboxPath('h2', a2.ID), cIp), (out) => !out.startsWith('(failed'));
  }, 300_000);

  it('removes networks only once nothing uses them, and leaves no overlay namespace behind', async () => {
    expect((await cli('h1', 'network', 'rm', 'neta')).code).not.toBe(0);
    for (const svc of ['a', 'b', 'c']) await cli('h1', 'service', 'rm', svc);
    await eventually('neta removable', () => cli('h1', 'network', 'rm', 'neta'), (r) => r.code === 0);
    await ok('h1', 'network', 'rm', 'netb');
    // What every node keeps, as Docker's: its ingress sandbox on the ingress network.
    const ingressId = (JSON.parse(await ok('h1', 'network', 'inspect', 'ingress')) as Array<{ Id: string }>)[0]!.Id;
    const kept = (f: string): boolean => f === `ov-${ingressId}` || f.startsWith('sb-ingress-sbox-');
    for (const h of ['h1', 'h2', 'h3', 'h4', 'h5']) {
      await eventually(`${h} without overlay namespaces`, async () => (await readdir(`${hostOf(h).runDir}/netns`).catch(() => [] as string[])).filter((f) => (f.startsWith('ov-') || f.startsWith('sb-')) && !kept(f)), (left) => left.length === 0);
    }
    expect(where.size).toBe(6);
  }, 180_000);
});
