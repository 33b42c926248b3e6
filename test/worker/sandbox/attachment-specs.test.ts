import { describe, expect, it } from 'vitest';
import type { NetworkAttachment } from '../../../src/objects/index.js';
import { macFromIp, networkConflict, nodeNetworks, taskNetworking } from '../../../src/worker/sandbox/attachment-specs.js';
import { NET1, NET2, attach, overlay } from './attachment-fixtures.js';

describe('attachments -> dataplane specs (pure)', () => {
  it('derives the MAC from the IP as Docker does', () => {
    expect(macFromIp('10.0.1.5')).toBe('02:42:0a:00:01:05');
    expect(macFromIp('192.168.255.254')).toBe('02:42:c0:a8:ff:fe');
  });

  it('gives one endpoint per attachment in attachment order, and the networks with VNI, subnet, gateway, MTU and ingress', () => {
    const ingress = overlay('ingress1', 4096, '10.255.0.0/16', '10.255.0.1', { ingress: true });
    const r = taskNetworking([attach(NET2, '10.0.2.7/24'), attach(NET1, '10.0.1.5/24'), attach(ingress, '10.255.0.9/16')]);
    expect(r).toEqual({
      ok: true,
      value: {
        endpoints: [
          { network: 'net2', ip: '10.0.2.7', mac: '02:42:0a:00:02:07' },
          { network: 'net1', ip: '10.0.1.5', mac: '02:42:0a:00:01:05' },
          { network: 'ingress1', ip: '10.255.0.9', mac: '02:42:0a:ff:00:09' },
        ],
        networks: [
          { id: 'net2', vni: 4098, subnet: '10.0.2.0/24', gateway: '10.0.2.1', mtu: 1400, encrypted: false, ingress: false },
          { id: 'net1', vni: 4097, subnet: '10.0.1.0/24', gateway: '10.0.1.1', encrypted: false, ingress: false },
          { id: 'ingress1', vni: 4096, subnet: '10.255.0.0/16', gateway: '10.255.0.1', encrypted: false, ingress: true },
        ],
      },
    });
    expect(taskNetworking([])).toEqual({ ok: true, value: { endpoints: [], networks: [] } });
  });

  const bad: Array<[string, NetworkAttachment[], string]> = [
    ['no network object', [{ networkId: 'net1', addresses: ['10.0.1.5/24'], aliases: [] }], 'net1'],
    ['a network ID that cannot name a namespace', [{ ...attach(NET1, '10.0.1.5/24'), networkId: '../x' }], '../x'],
    ['an empty network ID', [{ ...attach(NET1, '10.0.1.5/24'), networkId: '' }], '(none)'],
    ['a network object of another ID', [{ ...attach(NET1, '10.0.1.5/24'), networkId: 'net9' }], 'net9'],
    ['VNI 0', [attach({ ...NET1, vni: 0 }, '10.0.1.5/24')], 'net1'],
    ['VNI above 2^24-1', [attach({ ...NET1, vni: 16777216 }, '10.0.1.5/24')], 'net1'],
    ['no allocated subnet', [attach({ ...NET1, ipam: { driver: 'default', configs: [] } }, '10.0.1.5/24')], 'net1'],
    ['no ipam at all', [attach({ ...NET1, ipam: undefined }, '10.0.1.5/24')], 'net1'],
    ['a subnet that is no CIDR', [attach(overlay('net1', 4097, '10.0.1.0', '10.0.1.1'), '10.0.1.5/24')], 'net1'],
    ['a /31 subnet', [attach(overlay('net1', 4097, '10.0.1.0/31', '10.0.1.1'), '10.0.1.0/31')], 'net1'],
    ['a gateway outside the subnet', [attach(overlay('net1', 4097, '10.0.1.0/24', '10.0.2.1'), '10.0.1.5/24')], 'net1'],
    ['an empty gateway', [attach(overlay('net1', 4097, '10.0.1.0/24', ''), '10.0.1.5/24')], 'net1'],
    ['an MTU option that is no number', [attach(overlay('net1', 4097, '10.0.1.0/24', '10.0.1.1', { mtu: '1400x' }), '10.0.1.5/24')], 'net1'],
    ['an MTU option below 68', [attach(overlay('net1', 4097, '10.0.1.0/24', '10.0.1.1', { mtu: '40' }), '10.0.1.5/24')], 'net1'],
    ['no address', [{ ...attach(NET1, ''), addresses: [] }], 'net1'],
    ['an address without prefix', [attach(NET1, '10.0.1.5')], 'net1'],
    ['an address outside the subnet', [attach(NET1, '10.0.3.5/24')], 'net1'],
    ['an address with another prefix length', [attach(NET1, '10.0.1.5/16')], 'net1'],
    ['the gateway as address', [attach(NET1, '10.0.1.1/24')], 'net1'],
    ['the broadcast address', [attach(NET1, '10.0.1.255/24')], 'net1'],
    ['an IPv6 address', [attach(NET1, 'fd00::5/64')], 'net1'],
    ['the same network twice', [attach(NET1, '10.0.1.5/24'), attach(NET1, '10.0.1.6/24')], 'net1'],
    ['two networks with one VNI', [attach(NET1, '10.0.1.5/24'), attach({ ...NET2, vni: 4097 }, '10.0.2.5/24')], 'net2'],
  ];
  for (const [name, atts, networkId] of bad) {
    it(`refuses ${name}, naming the network`, () => {
      const r = taskNetworking(atts);
      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.networkId).toBe(networkId);
      expect(r.ok ? '' : r.reason).not.toBe('');
    });
  }

  it('finds conflicts with the networks a node already plumbs: same ID with other parameters, or another network with the VNI', () => {
    const a = taskNetworking([attach(NET1, '10.0.1.5/24')]);
    if (!a.ok) throw new Error('fixture');
    const [net1] = a.value.networks;
    if (net1 === undefined) throw new Error('fixture');
    expect(networkConflict(net1, [net1])).toBeUndefined();
    expect(networkConflict({ ...net1, vni: 5000 }, [net1])).toBeDefined();
    expect(networkConflict({ ...net1, mtu: 1400 }, [net1])).toBeDefined();
    expect(networkConflict({ ...net1, id: 'other' }, [net1])).toBeDefined();
    expect(networkConflict({ ...net1, id: 'other', vni: 5000 }, [net1])).toBeUndefined();
  });

  it('merges the tasks\' networks: the first copy wins, a conflicting copy loses its endpoint, its task keeps the others', () => {
    const t1 = taskNetworking([attach(NET1, '10.0.1.5/24')]);
    const t2 = taskNetworking([attach(NET1, '10.0.1.6/24'), attach(NET2, '10.0.2.6/24')]);
    const t3 = taskNetworking([attach(overlay('net1', 9999, '10.0.1.0/24', '10.0.1.1'), '10.0.1.7/24'), attach(NET2, '10.0.2.7/24')]);
    if (!t1.ok || !t2.ok || !t3.ok) throw new Error('fixture');
    const m = nodeNetworks([['t1', t1.value], ['t2', t2.value], ['t3', t3.value]]);
    expect(m.networks.map((n) => [n.id, n.vni])).toEqual([['net1', 4097], ['net2', 4098]]);
    expect(m.endpoints.get('t2')?.map((e) => e.ip)).toEqual(['10.0.1.6', '10.0.2.6']);
    expect(m.endpoints.get('t3')?.map((e) => e.ip)).toEqual(['10.0.2.7']);
    expect([...m.conflicts.keys()]).toEqual(['t3']);
  });
});
