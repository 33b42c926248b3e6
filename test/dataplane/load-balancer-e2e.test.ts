import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataplane } from '../../src/dataplane/dataplane.js';
import { closeScriptSession, runCommand } from '../../src/dataplane/kernel/script-runner.js';
import type { DesiredState, LoadBalancerSpec, SandboxSpec } from '../../src/dataplane/model.js';
import { testbedDown, testbedUp } from '../../src/testbed/testbed.js';
import type { TestbedHost, TestbedState } from '../../src/testbed/state.js';
import { until } from '../support/wait.js';
import { NET_A, NET_B, sandbox } from './fixtures.js';
import { dataplaneFor, desiredStates, inNs, killStarted, sandboxPath, track } from './helpers.js';

/**
 * VIP load balancing and the routing mesh on the real kernel, programmed by the reconciler
 * from desired states: two virtual hosts (a test bed of our own, under a per-run root), tasks
 * that answer their own name over TCP, clients in a sandbox (VIP) and on the underlay (mesh).
 */
const TB = 'lb';
const ROOT = `/run/tsswarm-lbe2e-${process.pid}`;
const PORT = 7000;
const VIP = '10.0.1.100';
const PUBLISHED = 8080;

/** A task: answers its name, then echoes what it gets (so an open connection can be probed). */
const SERVER = `const [name, port] = process.argv.slice(1);
require('net').createServer((s) => { s.write(name + '\\n'); s.pipe(s); }).listen(Number(port), '0.0.0.0');`;

/** N connections one after another; prints one line per connection: the name read, or ERR CODE. */
const CLIENT = `const net = require('net');
const [host, port, n] = process.argv.slice(1);
const one = () => new Promise((resolve) => {
  const s = net.connect(Number(port), host);
  let buf = '';
  s.setTimeout(10000, () => { s.destroy(); resolve('ERR TIMEOUT'); });
  s.on('data', (b) => { buf += b; const i = buf.indexOf('\\n'); if (i >= 0) { s.destroy(); resolve(buf.slice(0, i)); } });
  s.on('error', (e) => resolve('ERR ' + e.code));
  s.on('close', () => resolve(buf === '' ? 'ERR CLOSED' : buf));
});
(async () => { for (let i = 0; i < Number(n); i++) console.log(await one()); })();`;

describe.sequential('load balancing with nftables (real kernel)', () => {
  let tb: TestbedState;
  let planes: Map<string, Dataplane>;
  const host = (n: string) => tb.hosts.find((h) => h.name === n) ?? expect.fail(`no host ${n}`);

  // Tasks: w* serve the VIP on network A, m* the published port on network B (the ingress network).
  const w = [sandbox('w1', [{ net: NET_A, host: 3 }]), sandbox('w2', [{ net: NET_A, host: 4 }]), sandbox('w3', [{ net: NET_A, host: 5 }])];
  const m = [sandbox('m1', [{ net: NET_B, host: 3 }]), sandbox('m2', [{ net: NET_B, host: 4 }]), sandbox('m3', [{ net: NET_B, host: 5 }])];
  const ipOf = (s: SandboxSpec) => s.endpoints[0]?.ip ?? expect.fail('no endpoint');
  const client = (backends: readonly SandboxSpec[]): SandboxSpec => ({
    ...sandbox('c1', [{ net: NET_A, host: 2 }]),
    loadBalancers: [{ service: 'web', vip: VIP, backends: backends.map(ipOf) }],
  });
  const ingress = (backends: readonly SandboxSpec[]): SandboxSpec => {
    const lb: LoadBalancerSpec = { service: 'mesh', backends: backends.map(ipOf), ports: [{ protocol: 'tcp', published: PUBLISHED, target: PORT }] };
    return { ...sandbox('ing', [{ net: NET_B, host: 250 }]), ingress: true, loadBalancers: [lb] };
  };
  /** h1: the client, the ingress sandbox, w1, w2, m1; h2: w3, m2, m3 (reached over VXLAN). */
  const placement = (c: SandboxSpec, ing: SandboxSpec | undefined) =>
    new Map<string, SandboxSpec[]>([
      ['h1', [c, ...(ing !== undefined ? [ing] : []), w[0] as SandboxSpec, w[1] as SandboxSpec, m[0] as SandboxSpec]],
      ['h2', [w[2] as SandboxSpec, m[1] as SandboxSpec, m[2] as SandboxSpec]],
    ]);

  async function reconcileAll(c: SandboxSpec, ing: SandboxSpec | undefined): Promise<Map<string, number>> {
    const desired = desiredStates(tb, [NET_A, NET_B], placement(c, ing));
    const ops = new Map<string, number>();
    for (const h of tb.hosts) {
      const rep = await (planes.get(h.name) as Dataplane).reconciler.reconcile(desired.get(h.name) as DesiredState);
      expect(rep.errors).toEqual([]);
      ops.set(h.name, rep.opCount);
    }
    return ops;
  }

  async function connectMany(nsPath: string, addr: string, port: number, n: number): Promise<string[]> {
    const res = await runCommand(['nsenter', `--net=${nsPath}`, 'node', '-e', CLIENT, addr, String(port), String(n)]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout.trim().split('\n');
  }

  const counts = (names: readonly string[]) => names.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const hostOf = (id: string): TestbedHost => host([...placement(client(w), ingress(m))].find(([, l]) => l.some((s) => s.id === id))?.[0] ?? 'h1');

  beforeAll(async () => {
    await testbedDown(TB, ROOT);
    tb = await testbedUp({ name: TB, nodes: 2, root: ROOT });
    planes = new Map(tb.hosts.map((h) => [h.name, dataplaneFor(h)]));
    await reconcileAll(client(w), ingress(m));
    for (const s of [...w, ...m]) {
      const ns = sandboxPath(hostOf(s.id), s.id);
      track(spawn('nsenter', [`--net=${ns}`, 'node', '-e', SERVER, s.id, String(PORT)], { stdio: 'ignore' }));
    }
    for (const s of [...w, ...m]) {
      const ns = sandboxPath(hostOf(s.id), s.id);
      const end = Date.now() + 60_000; // a hang guard only
      while ((await inNs(ns, ['ss', '-Htln', `sport = :${PORT}`])).stdout.trim() === '') {
        if (Date.now() > end) throw new Error(`server ${s.id} never listened`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }, 180_000);

  afterAll(async () => {
    try {
      killStarted();
      await testbedDown(TB, ROOT);
    } finally {
      closeScriptSession();
    }
  });

  it('spreads 30 connections to the VIP over all three backends', async () => {
    const c = counts(await connectMany(sandboxPath(host('h1'), 'c1'), VIP, PORT, 30));
    expect([...c.keys()].sort()).toEqual(['w1', 'w2', 'w3']);
    for (const n of c.values()) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('sends no new connection to a removed backend and keeps an open one to another working', async () => {
    const open = track(spawn('nsenter', [`--net=${sandboxPath(host('h1'), 'c1')}`, 'nc', VIP, String(PORT)], { stdio: ['pipe', 'pipe', 'pipe'] })) as ChildProcessWithoutNullStreams;
    let out = '';
    open.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await until(() => out.includes('\n'), 'the first line of the open connection');
    const held = out.trim();
    const removed = w.find((s) => s.id !== held) as SandboxSpec;
    const ops = await reconcileAll(client(w.filter((s) => s !== removed)), ingress(m));
    expect(ops.get('h1')).toBe(1); // only the client's table
    expect(ops.get('h2')).toBe(0);
    const c = counts(await connectMany(sandboxPath(host('h1'), 'c1'), VIP, PORT, 20));
    expect(c.has(removed.id)).toBe(false);
    expect(c.size).toBe(2);
    open.stdin.write('still there\n');
    await until(() => out.includes('still there\n'), 'the echo on the connection opened before the change');

    // No backend at all: refused at once (a reset, not a timeout), and the open connection lives on.
    expect((await reconcileAll(client([]), ingress(m))).get('h1')).toBe(1);
    expect(await connectMany(sandboxPath(host('h1'), 'c1'), VIP, PORT, 2)).toEqual(['ERR ECONNREFUSED', 'ERR ECONNREFUSED']);
    open.stdin.write('and after\n');
    await until(() => out.includes('and after\n'), 'the echo after all backends were removed');
    open.stdin.end();
    expect((await reconcileAll(client([]), ingress(m))).get('h1')).toBe(0);
  });

  it('routes a published port from the host address through the ingress sandbox to all tasks', async () => {
    const c = counts(await connectMany(tb.underlayNsPath, host('h1').address, PUBLISHED, 30));
    expect([...c.keys()].sort()).toEqual(['m1', 'm2', 'm3']);
    for (const n of c.values()) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('routes a published port for connections made on the host itself, to its address and to 127.0.0.1', async () => {
    for (const addr of [host('h1').address, '127.0.0.1']) {
      const c = counts(await connectMany(host('h1').nsPath, addr, PUBLISHED, 9));
      expect([...c.keys()].sort(), addr).toEqual(['m1', 'm2', 'm3']);
    }
  });

  it('removing the ingress sandbox removes the host DNAT', async () => {
    const tables = async () => (await inNs(host('h1').nsPath, ['nft', 'list', 'tables'])).stdout;
    expect(await tables()).toContain('table ip tsswarm-ingress');
    await reconcileAll(client(w), undefined);
    expect(await tables()).not.toContain('tsswarm-ingress');
    expect(await connectMany(tb.underlayNsPath, host('h1').address, PUBLISHED, 1)).toEqual(['ERR ECONNREFUSED']);
    // Everything gone: only the gwbridge's own table remains on the host; no LB table anywhere.
    for (const h of tb.hosts) await (planes.get(h.name) as Dataplane).reconciler.reconcile({ networks: [], sandboxes: [], remotes: [] });
    expect(await tables()).toBe('');
  });
});
