import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeKernel } from '../../src/dataplane/kernel/fake-kernel.js';
import { DEEP_ALL, HOST_NS } from '../../src/dataplane/kernel/types.js';
import { EMPTY_DESIRED, type DesiredState } from '../../src/dataplane/model.js';
import { Reconciler } from '../../src/dataplane/reconciler.js';
import { DESIRED_NODE1, NET_A, config, mac, sandbox } from './fixtures.js';

/** Golden text dumps under testdata/; UPDATE_GOLDEN=1 rewrites them. */
function golden(name: string, actual: string): void {
  const file = new URL(`./testdata/${name}.txt`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual + '\n');
  expect(actual + '\n').toBe(readFileSync(file, 'utf8'));
}

function hostWithUplink(): FakeKernel {
  const k = new FakeKernel();
  k.seedHost((h) => {
    h.links.set('eth0', { name: 'eth0', kind: 'veth', mtu: 1500, up: true, mac: '02:00:00:00:00:01' });
    h.addrs.add('eth0 10.77.0.1/24');
    h.routes.add('10.77.0.0/24 dev eth0');
    h.routes.add('default via 10.77.0.254 dev eth0');
  });
  k.setSysctl('net.ipv4.ip_forward', '0');
  return k;
}

describe('Reconciler against the recording fake kernel', () => {
  it('programs a node from nothing, in stage order (golden plan)', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    const rep = await r.reconcile(DESIRED_NODE1);
    expect(rep.errors).toEqual([]);
    expect(rep.reached).toEqual({ networks: ['neta', 'netb'], sandboxes: ['t1', 't2'], remotes: 2, gwbridge: true, loadBalancers: [] });
    golden('cold-plan', k.log.join('\n'));
    golden('cold-state', k.dump());
  });

  it('makes no change the second time, also when reading everything back', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    const n = k.log.length;
    expect((await r.reconcile(DESIRED_NODE1)).opCount).toBe(0);
    expect((await r.reconcile(DESIRED_NODE1, { fullReadback: true })).opCount).toBe(0);
    // A fresh reconciler (a restarted daemon) reads everything and also finds nothing to do.
    expect((await new Reconciler(k, config('10.77.0.1')).reconcile(DESIRED_NODE1)).opCount).toBe(0);
    expect(k.log.length).toBe(n);
  });

  it('adds one remote endpoint with exactly one neighbour and one FDB entry', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    k.log.length = 0;
    const more: DesiredState = {
      ...DESIRED_NODE1,
      remotes: [...DESIRED_NODE1.remotes, { network: 'neta', ip: '10.0.1.9', mac: mac(1, 9), vtep: '10.77.0.3' }],
    };
    await r.reconcile(more);
    expect(k.log).toEqual([
      '[ov-neta] neigh add 10.0.1.9 lladdr 02:42:0a:00:01:09 dev vxlan4097 nud permanent',
      '[ov-neta] fdb add 02:42:0a:00:01:09 dev vxlan4097 dst 10.77.0.3 self permanent',
    ]);
  });

  it('reads back only what may have changed: the entries of one overlay for a new peer', async () => {
    const k = hostWithUplink();
    const depths: string[] = [];
    const observe = k.observe.bind(k);
    k.observe = (scope) =>
      observe({
        depth: (ns, inode) => {
          const d = scope.depth(ns, inode);
          if (d !== 'none') depths.push(`${ns}:${d}`);
          return d;
        },
      });
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    depths.length = 0;
    await r.reconcile({ ...DESIRED_NODE1, remotes: [...DESIRED_NODE1.remotes, { network: 'neta', ip: '10.0.1.9', mac: mac(1, 9), vtep: '10.77.0.3' }] });
    expect(depths).toEqual(['ov-neta:entries']);
    depths.length = 0;
    await r.reconcile(DESIRED_NODE1, { fullReadback: true });
    expect(depths.sort()).toEqual(['host:full', 'ov-neta:full', 'ov-netb:full', 'sb-t1:full', 'sb-t2:full']);
  });

  it('repairs what was changed behind its back once it reads it back', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    await k.apply([{ op: 'route-del', item: 'x', ns: 'sb-t1', dst: 'default', via: '172.18.0.1', dev: 'eth1' }]);
    await k.apply([{ op: 'fdb-del', item: 'x', ns: 'ov-neta', dev: 'vxlan4097', mac: mac(1, 3), dst: '10.77.0.2' }]);
    k.log.length = 0;
    const rep = await r.reconcile(DESIRED_NODE1, { fullReadback: true });
    expect(rep.errors).toEqual([]);
    expect(k.log).toEqual([
      '[ov-neta] fdb add 02:42:0a:00:01:03 dev vxlan4097 dst 10.77.0.2 self permanent',
      '[sb-t1] route add default via 172.18.0.1 dev eth1',
    ]);
  });

  it('removes one sandbox through its veths and namespace, touching nothing else', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    k.log.length = 0;
    const rep = await r.reconcile({ ...DESIRED_NODE1, sandboxes: DESIRED_NODE1.sandboxes.filter((x) => x.id !== 't1') });
    expect(rep.errors).toEqual([]);
    expect(k.log.map((l) => l.replace(/(ve|gw)[0-9a-z]{8}/, '$1*'))).toEqual([
      '[host] link del gw*',
      '[ov-neta] link del ve*',
      'netns del sb-t1',
    ]);
    expect((await r.reconcile({ ...DESIRED_NODE1, sandboxes: DESIRED_NODE1.sandboxes.filter((x) => x.id !== 't1') }, { fullReadback: true })).opCount).toBe(0);
  });

  it('removing everything leaves the kernel as it was before', async () => {
    const k = hostWithUplink();
    const before = k.dump();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    k.log.length = 0;
    const rep = await r.reconcile(EMPTY_DESIRED);
    expect(rep.errors).toEqual([]);
    golden('teardown-plan', k.log.join('\n'));
    // ip_forward stays on, as Docker leaves it; everything else is gone.
    expect(k.dump().replace('ip_forward=1', 'ip_forward=0')).toBe(before);
  });

  it('collects errors, reports what it reached, and completes on the next call', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    k.failWhen = (op) => (op.op === 'veth-add' && op.item === 'sandbox:t1' ? 'RTNETLINK answers: injected' : undefined);
    const rep = await r.reconcile(DESIRED_NODE1);
    expect(rep.errors.map((e) => e.item)).toContain('sandbox:t1');
    expect(rep.reached.sandboxes).toEqual(['t2']);
    expect(rep.reached.networks).toEqual(['neta', 'netb']);
    k.failWhen = () => undefined;
    const again = await r.reconcile(DESIRED_NODE1);
    expect(again.errors).toEqual([]);
    expect(again.reached.sandboxes).toEqual(['t1', 't2']);
    expect((await r.reconcile(DESIRED_NODE1, { fullReadback: true })).opCount).toBe(0);
  });

  it('turns the bridge netfilter hooks off in overlay namespaces and repairs them once read back', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(DESIRED_NODE1);
    expect(k.dump()).toContain('  sysctl net.bridge.bridge-nf-call-iptables=0');
    // As loading br_netfilter later would do to every namespace.
    await k.apply([{ op: 'sysctl', item: 'x', ns: 'ov-neta', key: 'net.bridge.bridge-nf-call-iptables', value: '1', ifPresent: true }]);
    k.log.length = 0;
    expect((await r.reconcile(DESIRED_NODE1)).opCount).toBe(0); // verified: not read again
    const rep = await r.reconcile(DESIRED_NODE1, { fullReadback: true });
    expect(rep.errors).toEqual([]);
    expect(k.log).toEqual(['[ov-neta] sysctl net.bridge.bridge-nf-call-iptables=0']);
  });

  it('adopts an existing namespace for a sandbox and releases only its own bind mount and interfaces', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    const adopted: DesiredState = { ...DESIRED_NODE1, sandboxes: DESIRED_NODE1.sandboxes.map((x) => (x.id === 't1' ? { ...x, netnsFrom: '/proc/4242/ns/net' } : x)) };
    const rep = await r.reconcile(adopted);
    expect(rep.errors).toEqual([]);
    expect(k.log).toContain('netns add sb-t1 from /proc/4242/ns/net');
    expect(k.log).toContain('netns add sb-t2');
    k.log.length = 0;
    await r.reconcile({ ...adopted, sandboxes: adopted.sandboxes.filter((x) => x.id !== 't1') });
    expect(k.log.map((l) => l.replace(/(ve|gw)[0-9a-z]{8}/, '$1*'))).toEqual(['[host] link del gw*', '[ov-neta] link del ve*', 'netns del sb-t1']);
    const bad = await r.reconcile({ ...DESIRED_NODE1, sandboxes: [{ id: 't9', endpoints: [], netnsFrom: 'proc/1/ns/net' }] });
    expect(bad.errors.map((e) => e.item)).toEqual(['sandbox:t9']);
    expect(bad.reached.sandboxes).toEqual([]);
  });

  it('reports a bad desired item without stopping the others', async () => {
    const k = hostWithUplink();
    const r = new Reconciler(k, config('10.77.0.1'));
    const rep = await r.reconcile({
      ...DESIRED_NODE1,
      sandboxes: [...DESIRED_NODE1.sandboxes, { id: 'bad', endpoints: [{ network: 'nope', ip: '10.9.9.9', mac: mac(9, 9) }] }],
      remotes: [...DESIRED_NODE1.remotes, { network: 'nope', ip: '10.9.9.8', mac: mac(9, 8), vtep: '10.77.0.9' }],
    });
    expect(rep.errors.map((e) => e.item).sort()).toEqual(['remote:nope/10.9.9.8', 'sandbox:bad']);
    expect(rep.reached.sandboxes).toEqual(['t1', 't2']);
  });
});

describe('docker_gwbridge', () => {
  const one: DesiredState = { networks: [NET_A], sandboxes: [sandbox('t1', [{ net: NET_A, host: 2 }])], remotes: [] };

  it('takes the next free /16 when 172.18.0.0/16 clashes with a host route', async () => {
    const k = hostWithUplink();
    k.seedHost((h) => h.routes.add('172.18.5.0/24 via 10.77.0.254 dev eth0'));
    await new Reconciler(k, config('10.77.0.1')).reconcile(one);
    expect(k.dump()).toContain('addrs docker_gwbridge 172.19.0.1/16');
    expect(k.dump()).toContain('routes default via 172.19.0.1 dev eth1');
  });

  it('uses an existing docker_gwbridge as it is and never removes it', async () => {
    const k = hostWithUplink();
    k.seedHost((h) => {
      h.links.set('docker_gwbridge', { name: 'docker_gwbridge', kind: 'bridge', mtu: 1500, up: true, mac: '02:00:00:00:00:09' });
      h.addrs.add('docker_gwbridge 172.20.0.1/16');
    });
    const before = k.dump();
    const r = new Reconciler(k, config('10.77.0.1'));
    await r.reconcile(one);
    expect(k.log.filter((l) => l.includes('link add docker_gwbridge'))).toEqual([]);
    expect(k.dump()).toContain('addrs eth1 172.20.0.2/16');
    await r.reconcile(EMPTY_DESIRED);
    expect(k.dump().replace('ip_forward=1', 'ip_forward=0')).toBe(before);
  });

  it('keeps a sandbox address on the gwbridge across restarts', async () => {
    const k = hostWithUplink();
    const two: DesiredState = { ...one, sandboxes: [...one.sandboxes, sandbox('t0', [{ net: NET_A, host: 3 }])] };
    await new Reconciler(k, config('10.77.0.1')).reconcile(one); // t1 gets .2
    const rep = await new Reconciler(k, config('10.77.0.1')).reconcile(two); // t0 sorts first, must not take t1's
    expect(rep.errors).toEqual([]);
    const st = await k.observe(DEEP_ALL);
    expect([...(st.ns.get('sb-t1')?.addrs ?? [])]).toContain('eth1 172.18.0.2/16');
    expect([...(st.ns.get('sb-t0')?.addrs ?? [])]).toContain('eth1 172.18.0.3/16');
    expect(st.ns.get(HOST_NS)?.links.get('docker_gwbridge')?.alias).toBe('tsswarm');
  });
});
