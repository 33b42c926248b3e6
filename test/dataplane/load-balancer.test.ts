import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeKernel } from '../../src/dataplane/kernel/fake-kernel.js';
import { nftTableScript } from '../../src/dataplane/kernel/linux-kernel.js';
import type { KernelOp, ReadExtras } from '../../src/dataplane/kernel/types.js';
import { EMPTY_DESIRED, type DesiredState, type LoadBalancerSpec, type SandboxSpec } from '../../src/dataplane/model.js';
import { Reconciler } from '../../src/dataplane/reconciler.js';
import { NET_A, NET_B, config, sandbox } from './fixtures.js';

/** Load balancers (VIPs, the routing mesh) planned and applied against the recording fake. */

function golden(name: string, actual: string): void {
  const file = new URL(`./testdata/${name}.txt`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual + '\n');
  expect(actual + '\n').toBe(readFileSync(file, 'utf8'));
}

/** A fake host with an uplink, recording every op applied and every namespace read. */
function node(): { k: FakeKernel; ops: KernelOp[]; reads: string[] } {
  const k = new FakeKernel();
  k.seedHost((h) => {
    h.links.set('eth0', { name: 'eth0', kind: 'veth', mtu: 1500, up: true, mac: '02:00:00:00:00:01' });
    h.addrs.add('eth0 10.77.0.1/24');
    h.routes.add('10.77.0.0/24 dev eth0');
    h.routes.add('default via 10.77.0.254 dev eth0');
  });
  k.setSysctl('net.ipv4.ip_forward', '0');
  const ops: KernelOp[] = [];
  const reads: string[] = [];
  const apply = k.apply.bind(k);
  k.apply = (o) => {
    ops.push(...o);
    return apply(o);
  };
  const observe = k.observe.bind(k);
  k.observe = (scope) =>
    observe({
      depth: (ns, inode) => {
        const d = scope.depth(ns, inode);
        if (d !== 'none') reads.push(`${ns}:${d}${d === 'full' && scope.extras?.(ns, inode).nft === true ? '+nft' : ''}`);
        return d;
      },
      extras: (ns, inode): ReadExtras => scope.extras?.(ns, inode) ?? {},
    });
  return { k, ops, reads };
}

const cfg = config('10.77.0.1');
const web = (backends: string[], extra: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec => ({ service: 'web', vip: '10.0.1.100', backends, ...extra });
const withLb = (s: SandboxSpec, ...lbs: LoadBalancerSpec[]): SandboxSpec => ({ ...s, loadBalancers: lbs });

/** Three tasks of "web" on network A, and a client sandbox c1 that reaches them through the VIP. */
const tasks = [sandbox('w1', [{ net: NET_A, host: 3 }]), sandbox('w2', [{ net: NET_A, host: 4 }]), sandbox('w3', [{ net: NET_A, host: 5 }])];
const vipState = (backends: string[]): DesiredState => ({
  networks: [NET_A, NET_B],
  sandboxes: [withLb(sandbox('c1', [{ net: NET_A, host: 2 }]), web(backends)), ...tasks, sandbox('other', [{ net: NET_B, host: 2 }])],
  remotes: [],
});
const ALL = ['10.0.1.5', '10.0.1.3', '10.0.1.4'];

/** An ingress sandbox on network B (playing the ingress network) publishing tcp 8080 -> 80 and udp 5353 -> 53. */
const ingressSb = (backends: string[]): SandboxSpec => ({
  ...sandbox('ingress', [{ net: NET_B, host: 250 }]),
  ingress: true,
  loadBalancers: [
    { service: 'web', backends, ports: [{ protocol: 'tcp', published: 8080, target: 80 }] },
    { service: 'dns', backends, ports: [{ protocol: 'udp', published: 5353, target: 53 }] },
  ],
});
const meshState = (backends: string[]): DesiredState => ({
  networks: [NET_B],
  sandboxes: [ingressSb(backends), sandbox('b1', [{ net: NET_B, host: 3 }])],
  remotes: [{ network: 'netb', ip: '10.0.2.4', mac: '02:42:0a:00:02:04', vtep: '10.77.0.2' }],
});

const nftScripts = (ops: readonly KernelOp[]) =>
  ops.map((o) => (o.op === 'nft-table' ? `# [${o.ns}]\n${nftTableScript(o)}` : undefined)).filter((x) => x !== undefined).join('');

describe('load balancers against the recording fake kernel', () => {
  it('gives a VIP client its own table: round robin over the sorted backends (golden rules)', async () => {
    const { k, ops } = node();
    const rep = await new Reconciler(k, cfg).reconcile(vipState(ALL));
    expect(rep.errors).toEqual([]);
    expect(rep.reached.loadBalancers).toEqual(['c1/web']);
    golden('lb-vip-rules', nftScripts(ops));
    // Only the client's namespace has a table: the tasks and the overlay have none.
    expect(k.dump().split('\n').filter((l) => l.includes('nft ip tsswarm-lb'))).toHaveLength(1);
    expect(k.dump()).toMatch(/ns sb-c1\n(?: {2}.*\n)* {2}nft ip tsswarm-lb: vip web 10\.0\.1\.100 [0-9a-f]{8}\n/);
  });

  it('publishes ports through the ingress sandbox and the host (golden rules)', async () => {
    const { k, ops } = node();
    const rep = await new Reconciler(k, cfg).reconcile(meshState(['10.0.2.4', '10.0.2.3']));
    expect(rep.errors).toEqual([]);
    expect(rep.reached.loadBalancers).toEqual(['ingress/web', 'ingress/dns']);
    golden('lb-ingress-rules', nftScripts(ops));
    expect(k.log).toContain('[sb-ingress] sysctl net.ipv4.ip_forward=1');
    expect(k.log).toContain('[host] sysctl net.ipv4.conf.docker_gwbridge.route_localnet=1');
  });

  it('a backend added or removed rewrites only that sandbox table, and a second reconcile is empty', async () => {
    const { k, ops } = node();
    const r = new Reconciler(k, cfg);
    await r.reconcile(vipState(ALL));
    await r.reconcile(meshState(['10.0.2.4', '10.0.2.3'])); // (a separate node's worth of state, same fake)
    await r.reconcile(vipState(ALL));
    k.log.length = 0;
    ops.length = 0;
    await r.reconcile(vipState(['10.0.1.3', '10.0.1.4']));
    expect(k.log).toEqual([expect.stringMatching(/^\[sb-c1\] nft table ip tsswarm-lb \{ lb-vip: vip web 10\.0\.1\.100 [0-9a-f]{8} \}$/)]);
    expect(nftScripts(ops)).toContain('dnat to numgen inc mod 2 map { 0 : 10.0.1.3, 1 : 10.0.1.4 }');
    k.log.length = 0;
    expect((await r.reconcile(vipState(['10.0.1.3', '10.0.1.4']))).opCount).toBe(0);
    expect((await r.reconcile(vipState(['10.0.1.4', '10.0.1.3']))).opCount).toBe(0); // order does not matter
    expect((await r.reconcile(vipState(['10.0.1.4', '10.0.1.3']), { fullReadback: true })).opCount).toBe(0);
    expect((await new Reconciler(k, cfg).reconcile(vipState(['10.0.1.3', '10.0.1.4']))).opCount).toBe(0);
    expect(k.log).toEqual([]);
  });

  it('changes only the ingress sandbox table when its backends change (the host DNAT stays)', async () => {
    const { k } = node();
    const r = new Reconciler(k, cfg);
    await r.reconcile(meshState(['10.0.2.4', '10.0.2.3']));
    k.log.length = 0;
    await r.reconcile(meshState(['10.0.2.4']));
    expect(k.log).toEqual([expect.stringMatching(/^\[sb-ingress\] nft table ip tsswarm-lb \{/)]);
    expect((await r.reconcile(meshState(['10.0.2.4']))).opCount).toBe(0);
    expect((await new Reconciler(k, cfg).reconcile(meshState(['10.0.2.4']))).opCount).toBe(0);
  });

  it('refuses at once when a service has no backends', async () => {
    const { k, ops } = node();
    const r = new Reconciler(k, cfg);
    await r.reconcile({ ...vipState([]), sandboxes: [...vipState([]).sandboxes, ingressSb([])] });
    const text = nftScripts(ops);
    expect(text).toContain('ct state new ip daddr 10.0.1.100 meta l4proto tcp reject with tcp reset');
    expect(text).toContain('ct state new ip daddr 10.0.1.100 meta l4proto udp reject');
    expect(text).toContain('ct state new tcp dport 8080 reject with tcp reset');
    expect(text).toContain('ct state new udp dport 5353 reject');
    expect(text).not.toContain('dnat to numgen');
    expect((await r.reconcile({ ...vipState([]), sandboxes: [...vipState([]).sandboxes, ingressSb([])] })).opCount).toBe(0);
  });

  it('removing the load balancers, then the ingress sandbox, leaves the kernel as before', async () => {
    const { k } = node();
    const r = new Reconciler(k, cfg);
    const plain: DesiredState = { networks: [NET_A, NET_B], sandboxes: [sandbox('c1', [{ net: NET_A, host: 2 }]), ...tasks], remotes: [] };
    await r.reconcile(plain);
    const before = k.dump();
    const both: DesiredState = { ...vipState(ALL), sandboxes: [...vipState(ALL).sandboxes.filter((s) => s.id !== 'other'), ingressSb(ALL)] };
    expect((await r.reconcile(both)).errors).toEqual([]);
    k.log.length = 0;
    const noLb: DesiredState = { ...both, sandboxes: both.sandboxes.map((s) => (s.id === 'c1' ? sandbox('c1', [{ net: NET_A, host: 2 }]) : s)) };
    await r.reconcile(noLb);
    expect(k.log).toEqual(['[sb-c1] nft delete table ip tsswarm-lb']);
    k.log.length = 0;
    await r.reconcile({ ...noLb, sandboxes: noLb.sandboxes.filter((s) => s.id !== 'ingress') });
    expect(k.log.map((l) => l.replace(/(ve|gw)[0-9a-z]{8}/, '$1*'))).toEqual([
      '[host] nft delete table ip tsswarm-ingress',
      '[host] link del gw*',
      '[ov-netb] link del ve*',
      '[sb-ingress] nft delete table ip tsswarm-lb', // an adopted namespace is only unmounted: its table goes first
      'netns del sb-ingress',
    ]);
    // route_localnet stays on, as ip_forward does; everything else is as before.
    expect(k.dump().replace('\nsysctl net.ipv4.conf.docker_gwbridge.route_localnet=1', '')).toBe(before);
    expect((await r.reconcile(plain, { fullReadback: true })).opCount).toBe(0);
    await r.reconcile(EMPTY_DESIRED);
    expect(k.dump()).not.toContain('nft ip tsswarm');
  });

  it('reads nft only in sandboxes that have a table, or that it has not verified', async () => {
    const { k, reads } = node();
    const r = new Reconciler(k, cfg);
    await r.reconcile(vipState(ALL));
    reads.length = 0;
    // One task leaves docker_gwbridge: its namespace is read again, without nft (known clean).
    const moved: DesiredState = { ...vipState(ALL), sandboxes: vipState(ALL).sandboxes.map((s) => (s.id === 'w3' ? { ...s, gateway: false } : s)) };
    expect((await r.reconcile(moved)).errors).toEqual([]);
    expect(reads.filter((x) => x.startsWith('sb-'))).toEqual(['sb-w3:full']);
    reads.length = 0;
    await r.reconcile(vipState(['10.0.1.3']));
    expect(reads.filter((x) => x.startsWith('sb-'))).toEqual(['sb-c1:full+nft', 'sb-w3:full']);
    // A restarted daemon knows nothing: every sandbox is read with its nft tables.
    reads.length = 0;
    await new Reconciler(k, cfg).reconcile(vipState(['10.0.1.3']));
    expect(reads.filter((x) => x.startsWith('sb-')).sort()).toEqual(['sb-c1:full+nft', 'sb-other:full+nft', 'sb-w1:full+nft', 'sb-w2:full+nft', 'sb-w3:full+nft']);
  });

  it('reports bad load balancers against their item and programs the rest', async () => {
    const { k, ops } = node();
    const r = new Reconciler(k, cfg);
    const client = withLb(
      sandbox('c1', [{ net: NET_A, host: 2 }]),
      web(['10.0.1.3']),
      { service: 'badbackend', vip: '10.0.1.101', backends: ['10.0.1.3', 'fe80::1'] },
      { service: 'badvip', vip: 'ten.0.1.102', backends: ['10.0.1.3'] },
      { service: 'notingress', backends: ['10.0.1.3'], ports: [{ protocol: 'tcp', published: 80, target: 80 }] },
      { service: 'web2', vip: '10.0.1.100', backends: [] },
    );
    const ingress: SandboxSpec = {
      ...sandbox('ingress', [{ net: NET_B, host: 250 }]),
      ingress: true,
      loadBalancers: [
        { service: 'a', backends: ['10.0.2.3'], ports: [{ protocol: 'tcp', published: 8080, target: 80 }] },
        { service: 'b', backends: ['10.0.2.3'], ports: [{ protocol: 'tcp', published: 8080, target: 81 }] },
        { service: 'c', backends: ['10.0.2.3'], ports: [{ protocol: 'udp', published: 8080, target: 0 }] },
        { service: 'd', backends: ['10.0.2.3'], ports: [{ protocol: 'tcp', published: 65536, target: 80 }] },
        { service: 'e', backends: ['10.0.2.3'], ports: [{ protocol: 'udp', published: 8080, target: 80 }] },
      ],
    };
    const second: SandboxSpec = { ...sandbox('ingress2', [{ net: NET_B, host: 251 }]), ingress: true };
    const rep = await r.reconcile({ networks: [NET_A, NET_B], sandboxes: [client, ingress, second], remotes: [] });
    expect(rep.errors.map((e) => e.item).sort()).toEqual([
      'ingress:ingress2',
      'loadbalancer:c1/badbackend',
      'loadbalancer:c1/badvip',
      'loadbalancer:c1/notingress',
      'loadbalancer:c1/web2',
      'loadbalancer:ingress/b',
      'loadbalancer:ingress/c',
      'loadbalancer:ingress/d',
    ]);
    expect(rep.errors.every((e) => e.op === undefined)).toBe(true); // problems of the input, not kernel failures
    expect(rep.reached.sandboxes).toEqual(['c1', 'ingress', 'ingress2']);
    expect(rep.reached.loadBalancers).toEqual(['c1/web', 'ingress/a', 'ingress/e']);
    const text = nftScripts(ops);
    expect(text).toContain('ip daddr 10.0.1.100 meta l4proto { tcp, udp } dnat to 10.0.1.3');
    expect(text).not.toMatch(/10\.0\.1\.10[123]|fe80|ten\./);
    expect(text).toContain('fib daddr type local tcp dport 8080 dnat to 172.18.0.3');
    expect(text).toContain('udp dport 8080 dnat to 10.0.2.3:80');
    expect(text).not.toMatch(/dport 65536|:81\b|:0\b/);
    // The second ingress sandbox is an ordinary sandbox: no forwarding, no table, no host rule for it.
    expect(k.log.filter((l) => l.includes('sb-ingress2') && /nft|sysctl/.test(l))).toEqual([]);
    expect((await r.reconcile({ networks: [NET_A, NET_B], sandboxes: [client, ingress, second], remotes: [] })).opCount).toBe(0);
  });

  it('balances one service on two networks through its two VIPs', async () => {
    const { k, ops } = node();
    const c1: SandboxSpec = withLb(
      sandbox('c1', [{ net: NET_A, host: 2 }, { net: NET_B, host: 2 }]),
      web(['10.0.1.3']),
      { service: 'web', vip: '10.0.2.100', backends: ['10.0.2.3'] },
    );
    const rep = await new Reconciler(k, cfg).reconcile({ networks: [NET_A, NET_B], sandboxes: [c1], remotes: [] });
    expect(rep.errors).toEqual([]);
    expect(rep.reached.loadBalancers).toEqual(['c1/web']);
    expect(nftScripts(ops)).toContain('ip daddr 10.0.1.100 meta l4proto { tcp, udp } dnat to 10.0.1.3');
    expect(nftScripts(ops)).toContain('ip daddr 10.0.2.100 meta l4proto { tcp, udp } dnat to 10.0.2.3');
  });

  it('needs a gwbridge address for the ingress sandbox to publish ports', async () => {
    const { k } = node();
    const rep = await new Reconciler(k, cfg).reconcile({ networks: [NET_B], sandboxes: [{ ...ingressSb(['10.0.2.3']), gateway: false }], remotes: [] });
    expect(rep.errors.map((e) => e.item)).toEqual(['ingress:ingress']);
    expect(rep.reached.loadBalancers).toEqual([]);
    expect(k.dump()).not.toContain('tsswarm-ingress');
  });
});
