import { describe, expect, it } from 'vitest';
import { parseAllocatorConfig } from '../../../src/manager/allocator/allocator-config.js';
import { createAllocators, restoreAllocators, serializeAllocators } from '../../../src/manager/allocator/allocators.js';
import { thrown } from './helpers.js';

describe('allocator config', () => {
  it('defaults to Docker Swarm\'s values', () => {
    expect(parseAllocatorConfig({})).toEqual({
      defaultAddrPool: ['10.0.0.0/8'],
      defaultAddrPoolMaskLength: 24,
      vxlanIdMin: 4096,
      vxlanIdMax: 16777215,
      dynamicPortStart: 30000,
      dynamicPortEnd: 32767,
    });
  });

  it.each([
    { name: 'an empty pool list', input: { defaultAddrPool: [] }, field: /defaultAddrPool/ },
    { name: 'a mask longer than /30', input: { defaultAddrPoolMaskLength: 31 }, field: /defaultAddrPoolMaskLength/ },
    { name: 'a VNI above 24 bits', input: { vxlanIdMax: 2 ** 24 }, field: /vxlanIdMax/ },
    { name: 'an inverted VNI range', input: { vxlanIdMin: 5000, vxlanIdMax: 4999 }, field: /vxlanIdMin/ },
    { name: 'an inverted port range', input: { dynamicPortStart: 32000, dynamicPortEnd: 31000 }, field: /dynamicPortStart/ },
  ])('refuses $name with CONFIG_INVALID naming the field', ({ input, field }) => {
    const err = thrown(() => parseAllocatorConfig(input));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.details['problems']).toMatch(field);
  });

  it('builds the three allocators, and rebuilds them from their serialized state', () => {
    const config = parseAllocatorConfig({ defaultAddrPool: ['10.20.0.0/16'], defaultAddrPoolMaskLength: 26 });
    const a = createAllocators(config);
    expect(a.ipam.createNetwork({ id: 'ingress' }).subnet).toBe('10.20.0.0/26');
    expect(a.vnis.allocate('ingress')).toBe(4096);
    expect(a.ports.assign('web', [{ protocol: 'tcp' }])[0]?.publishedPort).toBe(30000);
    a.ipam.allocateAddress('ingress');
    const state = JSON.parse(JSON.stringify(serializeAllocators(a))) as ReturnType<typeof serializeAllocators>;
    const b = restoreAllocators(config, state);
    expect(serializeAllocators(b)).toEqual(serializeAllocators(a));
    expect(b.ipam.allocateAddress('ingress')).toBe(a.ipam.allocateAddress('ingress'));
  });

  it('refuses a bad pool with IPAM_INVALID naming the flag', () => {
    const config = parseAllocatorConfig({ defaultAddrPool: ['10.0.0.0/33'] });
    const err = thrown(() => createAllocators(config));
    expect(err.code).toBe('IPAM_INVALID');
    expect(err.details['detail']).toMatch(/--default-addr-pool/);
  });
});
