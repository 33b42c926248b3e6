import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeScriptSession } from '../../../src/dataplane/kernel/script-runner.js';
import { LinuxKernel } from '../../../src/dataplane/kernel/linux-kernel.js';
import { createNamespaces, mountsUnder, removeNamespaceTree } from '../../../src/dataplane/kernel/netns.js';
import { DEEP_ALL, HOST_NS, SYSCTL_ABSENT, type KernelOp } from '../../../src/dataplane/kernel/types.js';

/**
 * The kernel adapter against the real kernel. A throwaway namespace plays the host; every
 * object lives under a per-run directory that afterAll removes with everything in it.
 */
const DIR = `/run/tsswarm-kernel-${process.pid}`;
const HOSTNS = `${DIR}/host`;
const BRNF = 'net.bridge.bridge-nf-call-iptables';
/** A sysctl whose file never exists: written only if present, read back as absent. */
const NO_SUCH = 'net.bridge.tsswarm-no-such-sysctl';

describe('LinuxKernel (real kernel, throwaway namespaces)', () => {
  let k: LinuxKernel;

  beforeAll(async () => {
    await createNamespaces(DIR, ['host']);
    k = new LinuxKernel({ netnsDir: `${DIR}/netns`, hostNsPath: HOSTNS, sysctls: ['net.ipv4.ip_forward'], overlaySysctls: [BRNF, NO_SUCH] });
  });

  afterAll(async () => {
    try {
      await removeNamespaceTree(DIR);
      expect(await mountsUnder(DIR)).toEqual([]);
    } finally {
      closeScriptSession();
    }
  });

  const item = 'test';
  const program: KernelOp[] = [
    { op: 'netns-add', item, ns: 'ov-x' },
    { op: 'netns-add', item, ns: 'sb-y' },
    { op: 'bridge-add', item, ns: HOST_NS, name: 'gwtest', mtu: 1500, alias: 'tsswarm' },
    { op: 'bridge-add', item, ns: 'ov-x', name: 'br0', mtu: 1450 },
    { op: 'vxlan-add', item, ns: 'ov-x', name: 'vxlan42', vni: 42, port: 4789, local: '10.9.0.1', mtu: 1450 },
    { op: 'veth-add', item, ns: 'ov-x', name: 'vetest', mtu: 1450, peerNs: 'sb-y', peerName: 'eth0', peerMac: '02:42:0a:00:01:07' },
    { op: 'veth-add', item, ns: HOST_NS, name: 'gwtest0', mtu: 1500, peerNs: 'sb-y', peerName: 'eth1' },
    { op: 'link-set', item, ns: 'ov-x', name: 'br0', up: true },
    { op: 'link-set', item, ns: 'ov-x', name: 'vxlan42', master: 'br0', up: true },
    { op: 'link-set', item, ns: 'ov-x', name: 'vetest', master: 'br0', up: true },
    { op: 'link-set', item, ns: HOST_NS, name: 'gwtest', up: true },
    { op: 'link-set', item, ns: HOST_NS, name: 'gwtest0', master: 'gwtest', isolated: true, up: true },
    { op: 'link-set', item, ns: 'sb-y', name: 'eth0', up: true },
    { op: 'link-set', item, ns: 'sb-y', name: 'eth1', up: true },
    { op: 'addr-add', item, ns: 'ov-x', dev: 'br0', cidr: '10.0.1.1/24' },
    { op: 'addr-add', item, ns: 'sb-y', dev: 'eth0', cidr: '10.0.1.7/24' },
    { op: 'addr-add', item, ns: 'sb-y', dev: 'eth1', cidr: '172.30.0.2/16' },
    { op: 'addr-add', item, ns: HOST_NS, dev: 'gwtest', cidr: '172.30.0.1/16' },
    { op: 'route-add', item, ns: 'sb-y', dst: 'default', via: '172.30.0.1', dev: 'eth1' },
    { op: 'neigh-add', item, ns: 'ov-x', dev: 'vxlan42', ip: '10.0.1.9', mac: '02:42:0a:00:01:09' },
    { op: 'fdb-add', item, ns: 'ov-x', dev: 'vxlan42', mac: '02:42:0a:00:01:09', dst: '10.9.0.2' },
    {
      op: 'nft-table',
      item,
      ns: HOST_NS,
      family: 'ip',
      table: 'tsswarm',
      chains: [{ name: 'post', hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: [{ key: 'k1', rule: 'ip saddr 172.30.0.0/16 masquerade' }] }],
    },
    {
      op: 'nft-table',
      item,
      ns: 'sb-y',
      family: 'ip',
      table: 'tsswarm-lb',
      chains: [{ name: 'vip', hook: 'type nat hook output priority -100; policy accept;', rules: [{ key: 'v1', rule: 'ip daddr 10.0.1.100 dnat to 10.0.1.7' }] }],
    },
    { op: 'sysctl', item, ns: HOST_NS, key: 'net.ipv4.ip_forward', value: '1' },
    { op: 'sysctl', item, ns: 'sb-y', key: 'net.ipv4.ip_forward', value: '1', ifPresent: true },
    { op: 'sysctl', item, ns: 'ov-x', key: BRNF, value: '0', ifPresent: true },
    { op: 'sysctl', item, ns: 'ov-x', key: NO_SUCH, value: '0', ifPresent: true },
  ];

  it('applies every kind of op and reads it back', async () => {
    const res = await k.apply(program);
    expect(res.filter((r) => r.error !== undefined)).toEqual([]);
    const st = await k.observe(DEEP_ALL);
    expect([...st.namespaces.keys()].sort()).toEqual(['ov-x', 'sb-y']);
    const host = st.ns.get(HOST_NS);
    const ov = st.ns.get('ov-x');
    const sb = st.ns.get('sb-y');
    expect(host?.links.get('gwtest')).toMatchObject({ kind: 'bridge', up: true, alias: 'tsswarm' });
    expect(host?.links.get('gwtest0')).toMatchObject({ kind: 'veth', master: 'gwtest', isolated: true, up: true });
    expect(host?.links.has('vxlan42')).toBe(false); // created here, then moved
    expect(ov?.links.get('vxlan42')).toMatchObject({
      kind: 'vxlan',
      master: 'br0',
      mtu: 1450,
      vxlan: { vni: 42, port: 4789, local: '10.9.0.1', learning: false, proxy: true },
    });
    expect(ov?.links.get('vetest')).toMatchObject({ kind: 'veth', master: 'br0', mtu: 1450 });
    expect(sb?.links.get('eth0')).toMatchObject({ kind: 'veth', mac: '02:42:0a:00:01:07', up: true });
    expect([...(ov?.addrs ?? [])]).toEqual(['br0 10.0.1.1/24']);
    expect([...(sb?.addrs ?? [])].sort()).toEqual(['eth0 10.0.1.7/24', 'eth1 172.30.0.2/16']);
    expect(sb?.routes.has('default via 172.30.0.1 dev eth1')).toBe(true);
    expect([...(ov?.neigh ?? [])]).toEqual(['vxlan42 10.0.1.9 02:42:0a:00:01:09']);
    expect([...(ov?.fdb ?? [])]).toEqual(['vxlan42 02:42:0a:00:01:09 10.9.0.2']);
    expect([...(host?.nft?.get('ip tsswarm') ?? [])]).toEqual(['k1']);
    expect(sb?.nft).toBeUndefined(); // a sandbox's tables only when asked for
    const withExtras = await k.observe({ depth: () => 'full', extras: (ns) => (ns === 'sb-y' ? { nft: true, sysctls: ['net.ipv4.ip_forward', NO_SUCH] } : {}) });
    expect(withExtras.ns.get('sb-y')?.nft).toEqual(new Map([['ip tsswarm-lb', new Set(['v1'])]]));
    expect(withExtras.ns.get('sb-y')?.sysctls).toEqual(new Map([['net.ipv4.ip_forward', '1'], [NO_SUCH, SYSCTL_ABSENT]]));
    expect(withExtras.ns.get('ov-x')?.nft).toBeUndefined();
    expect(st.sysctls.get('net.ipv4.ip_forward')).toBe('1');
    // br_netfilter's sysctls exist only while the module is loaded (dockerd loads it).
    const brnf = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables') ? '0' : SYSCTL_ABSENT;
    expect(ov?.sysctls).toEqual(new Map([[BRNF, brnf], [NO_SUCH, SYSCTL_ABSENT]]));
    expect(sb?.sysctls).toBeUndefined(); // read in overlay namespaces only
    const only = await k.observe({ depth: (ns) => (ns === 'ov-x' ? 'entries' : 'none') });
    expect(only.ns.has('sb-y')).toBe(false);
    expect(only.ns.has(HOST_NS)).toBe(false);
    expect(only.read.get('ov-x')).toBe('entries');
    expect([...(only.ns.get('ov-x')?.neigh ?? [])]).toEqual(['vxlan42 10.0.1.9 02:42:0a:00:01:09']);
    expect([...(only.ns.get('ov-x')?.fdb ?? [])]).toEqual(['vxlan42 02:42:0a:00:01:09 10.9.0.2']);
    expect(only.ns.get('ov-x')?.links.size).toBe(0);
  });

  it('attributes each failure to its own op and runs the rest', async () => {
    const res = await k.apply([
      { op: 'link-set', item: 'a', ns: 'ov-x', name: 'nosuchdev', up: true },
      { op: 'addr-add', item: 'b', ns: 'ov-x', dev: 'br0', cidr: '10.0.1.200/24' },
      { op: 'addr-add', item: 'c', ns: 'ov-x', dev: 'br0', cidr: '10.0.1.1/24' }, // exists
      { op: 'link-set', item: 'd', ns: 'sb-missing', name: 'eth0', up: true },
    ]);
    expect(res.map((r) => [r.op.item, r.error !== undefined])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
      ['d', true],
    ]);
    expect(res[0]?.error).toMatch(/nosuchdev/);
    expect(res[2]?.error).toMatch(/already assigned|exists/i);
  });

  it('removes what it made: links, entries, namespaces, nft table', async () => {
    const res = await k.apply([
      { op: 'fdb-del', item, ns: 'ov-x', dev: 'vxlan42', mac: '02:42:0a:00:01:09', dst: '10.9.0.2' },
      { op: 'neigh-del', item, ns: 'ov-x', dev: 'vxlan42', ip: '10.0.1.9', mac: '02:42:0a:00:01:09' },
      { op: 'link-del', item, ns: 'ov-x', name: 'vetest' },
      { op: 'link-del', item, ns: 'ov-x', name: 'vxlan42' },
      { op: 'link-del', item, ns: HOST_NS, name: 'gwtest0' },
      { op: 'link-del', item, ns: HOST_NS, name: 'gwtest' },
      { op: 'nft-table-del', item, ns: HOST_NS, family: 'ip', table: 'tsswarm' },
      { op: 'nft-table-del', item, ns: 'sb-y', family: 'ip', table: 'tsswarm-lb' },
      { op: 'netns-del', item, ns: 'ov-x' },
      { op: 'netns-del', item, ns: 'sb-y' },
    ]);
    expect(res.filter((r) => r.error !== undefined)).toEqual([]);
    const st = await k.observe(DEEP_ALL);
    expect(st.namespaces.size).toBe(0);
    expect([...(st.ns.get(HOST_NS)?.links.keys() ?? [])]).toEqual(['lo']);
    expect(st.ns.get(HOST_NS)?.nft?.size).toBe(0);
  });
});
