import { describe, expect, it } from 'vitest';
import { assignGwAddrs, chooseGwSubnet, gwGateway } from '../../../src/dataplane/plan/gwbridge.js';

describe('chooseGwSubnet', () => {
  it.each([
    { name: 'no clash', routes: ['default via 10.0.0.1 dev eth0', '10.0.0.0/24 dev eth0'], want: '172.18.0.0/16' },
    { name: 'a /24 inside 172.18', routes: ['172.18.3.0/24 dev eth1'], want: '172.19.0.0/16' },
    { name: 'a covering /12', routes: ['172.16.0.0/12 via 10.0.0.1 dev eth0'], want: undefined },
    { name: 'a host route', routes: ['172.18.9.9 via 10.0.0.1 dev eth0', '172.19.0.0/16 dev x'], want: '172.20.0.0/16' },
    {
      name: '172.18-31 taken: 172.17 last',
      routes: Array.from({ length: 14 }, (_, i) => `172.${18 + i}.0.0/16 dev x`),
      want: '172.17.0.0/16',
    },
  ])('$name', ({ routes, want }) => {
    expect(chooseGwSubnet(routes)).toBe(want);
  });
});

describe('assignGwAddrs', () => {
  it('keeps held addresses and gives new sandboxes the lowest free ones in ID order', () => {
    const got = assignGwAddrs(['c', 'a', 'b'], new Map([['b', '172.18.0.2']]), '172.18.0.0/16', gwGateway('172.18.0.0/16'));
    expect(Object.fromEntries(got)).toEqual({ b: '172.18.0.2', a: '172.18.0.3', c: '172.18.0.4' });
  });

  it('ignores held addresses outside the subnet or on the gateway, and stops when full', () => {
    const got = assignGwAddrs(['a', 'b', 'c'], new Map([['a', '10.0.0.5'], ['b', '192.168.1.1']]), '192.168.1.0/30', '192.168.1.1');
    expect(Object.fromEntries(got)).toEqual({ a: '192.168.1.2' });
  });
});
