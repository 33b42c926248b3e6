import { describe, expect, it } from 'vitest';
import { parseNftRuleset, parseNsReadback } from '../../../src/dataplane/kernel/parse-readback.js';
import { batchErrors } from '../../../src/dataplane/kernel/script-runner.js';

// Trimmed from real `ip -j -d -batch` / `bridge -j fdb show` / `nft -j` output on kernel 6.18.
const ADDR = JSON.stringify([
  { ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifname: 'br0', flags: ['BROADCAST', 'UP'], mtu: 1450, address: 'a6:42:6d:33:15:31', linkinfo: { info_kind: 'bridge', info_data: {} }, addr_info: [{ family: 'inet', local: '10.0.1.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
  { ifname: 'vxlan42', flags: ['BROADCAST', 'UP'], mtu: 1450, master: 'br0', address: 'ba:55:06:68:f7:54', linkinfo: { info_kind: 'vxlan', info_data: { id: 42, local: '10.9.0.1', port: 4789, learning: false, proxy: true }, info_slave_kind: 'bridge', info_slave_data: { isolated: false } } },
  { ifname: 'vo1', flags: ['NO-CARRIER', 'BROADCAST'], mtu: 1450, master: 'br0', address: 'a6:42:6d:33:15:32', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge', info_slave_data: { isolated: true } } },
]);
const ROUTES = JSON.stringify([
  { dst: 'default', gateway: '172.18.0.1', dev: 'eth1', flags: [] },
  { dst: '10.0.1.0/24', dev: 'br0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.1.1', flags: [] },
]);
const NEIGH = JSON.stringify([
  { dst: '10.0.1.9', dev: 'vxlan42', lladdr: '02:42:0a:00:01:09', state: ['PERMANENT'] },
  { dst: '10.0.1.8', dev: 'vxlan42', state: ['FAILED'] },
]);
const LINKS = JSON.stringify([{ ifname: 'br0', ifalias: 'tsswarm' }]);
const FDB = JSON.stringify([
  { mac: '33:33:00:00:00:01', ifname: 'br0', flags: ['self'], state: 'permanent' },
  { mac: 'ba:55:06:68:f7:54', ifname: 'vxlan42', flags: [], master: 'br0', state: 'permanent' },
  { mac: '02:42:0a:00:01:09', ifname: 'vxlan42', dst: '10.9.0.2', linkNetNsId: 0, flags: ['self'], state: 'permanent' },
]);

describe('parseNsReadback', () => {
  it('reduces iproute2 JSON to the facts the planner compares', () => {
    const st = parseNsReadback([ADDR, ROUTES, NEIGH, LINKS].join('\n') + '\n', FDB + '\n');
    expect(st.links.get('vxlan42')).toEqual({
      name: 'vxlan42',
      kind: 'vxlan',
      mtu: 1450,
      up: true,
      mac: 'ba:55:06:68:f7:54',
      master: 'br0',
      vxlan: { vni: 42, port: 4789, local: '10.9.0.1', learning: false, proxy: true },
      isolated: false,
    });
    expect(st.links.get('vo1')).toMatchObject({ kind: 'veth', up: false, isolated: true });
    expect(st.links.get('lo')).toMatchObject({ kind: 'other', up: true });
    expect(st.links.get('br0')?.alias).toBe('tsswarm');
    expect([...st.addrs]).toEqual(['lo 127.0.0.1/8', 'br0 10.0.1.1/24']);
    expect([...st.routes]).toEqual(['default via 172.18.0.1 dev eth1', '10.0.1.0/24 dev br0']);
    expect([...st.neigh]).toEqual(['vxlan42 10.0.1.9 02:42:0a:00:01:09']);
    expect([...st.fdb]).toEqual(['vxlan42 02:42:0a:00:01:09 10.9.0.2']);
  });

  it('reads empty namespaces and empty FDB output', () => {
    const st = parseNsReadback('[]\n[]\n[]\n', '');
    expect(st.links.size + st.addrs.size + st.routes.size + st.neigh.size + st.fdb.size).toBe(0);
  });
});

describe('parseNftRuleset', () => {
  it('lists tables with the comment keys of their rules', () => {
    const out = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'ip', name: 'tsswarm', handle: 1 } },
        { table: { family: 'inet', name: 'other', handle: 2 } },
        { chain: { family: 'ip', table: 'tsswarm', name: 'post' } },
        { rule: { family: 'ip', table: 'tsswarm', chain: 'post', comment: 'gw-masq 172.18.0.0/16 docker_gwbridge', expr: [] } },
        { rule: { family: 'inet', table: 'other', chain: 'x', expr: [] } },
      ],
    });
    const t = parseNftRuleset(out);
    expect([...t.keys()]).toEqual(['ip tsswarm', 'inet other']);
    expect([...(t.get('ip tsswarm') ?? [])]).toEqual(['gw-masq 172.18.0.0/16 docker_gwbridge']);
    expect(t.get('inet other')?.size).toBe(0);
  });
});

describe('batchErrors', () => {
  it('maps each failed batch line to its message', () => {
    const stderr = 'RTNETLINK answers: File exists\nCommand failed -:2\nCannot find device "nope"\nCommand failed /tmp/x/1.in:3\n';
    expect([...batchErrors(stderr)]).toEqual([
      [2, 'RTNETLINK answers: File exists'],
      [3, 'Cannot find device "nope"'],
    ]);
  });
});
