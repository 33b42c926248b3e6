import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTsswarmError } from '../../../src/errors/index.js';
import { PublishedPortAllocator, type PortRequest, type PortState } from '../../../src/manager/allocator/port-allocator.js';
import { thrown } from './helpers.js';

const swarmRange = { start: 30000, end: 32767 };
const tcp = (publishedPort?: number): PortRequest => ({ protocol: 'tcp', publishedPort });

describe('PublishedPortAllocator', () => {
  it('takes explicit ports as given and automatic ones from 30000 up', () => {
    const ports = new PublishedPortAllocator(swarmRange);
    expect(ports.assign('web', [tcp(8080), tcp(), { protocol: 'udp' }])).toEqual([
      { protocol: 'tcp', publishedPort: 8080, auto: false },
      { protocol: 'tcp', publishedPort: 30000, auto: true },
      { protocol: 'udp', publishedPort: 30000, auto: true },
    ]);
    expect(ports.assign('api', [tcp(0)])).toEqual([{ protocol: 'tcp', publishedPort: 30001, auto: true }]);
    expect(ports.holderOf('tcp', 8080)).toBe('web');
    expect(ports.holderOf('udp', 8080)).toBeUndefined();
  });

  it('refuses a port another service publishes, naming it, and changes nothing', () => {
    const ports = new PublishedPortAllocator(swarmRange);
    ports.assign('web', [tcp(8080)]);
    ports.assign('api', [tcp(9090)]);
    const before = ports.serialize();
    const err = thrown(() => ports.assign('api', [tcp(), tcp(8080)]));
    expect(err.code).toBe('IPAM_PORT_IN_USE');
    expect(err.details).toMatchObject({ port: 8080, protocol: 'tcp', owner: 'web' });
    expect(ports.serialize()).toEqual(before);
    // The same number over another protocol is a different port.
    expect(ports.assign('dns', [{ protocol: 'udp', publishedPort: 8080 }])[0]?.publishedPort).toBe(8080);
  });

  it('keeps a service\'s ports across an update: its explicit ports, and its automatic ones lowest first', () => {
    const ports = new PublishedPortAllocator(swarmRange);
    ports.assign('other', [tcp()]); // 30000
    ports.assign('web', [tcp(80), tcp(), tcp()]); // 30001, 30002
    expect(ports.assign('web', [tcp(), tcp(80), tcp(443), tcp(), tcp()])).toEqual([
      { protocol: 'tcp', publishedPort: 30001, auto: true },
      { protocol: 'tcp', publishedPort: 80, auto: false },
      { protocol: 'tcp', publishedPort: 443, auto: false },
      { protocol: 'tcp', publishedPort: 30002, auto: true },
      { protocol: 'tcp', publishedPort: 30003, auto: true },
    ]);
    expect(ports.assign('web', [tcp(443)])).toEqual([{ protocol: 'tcp', publishedPort: 443, auto: false }]);
    expect(ports.holderOf('tcp', 80)).toBeUndefined();
    expect(ports.holderOf('tcp', 30001)).toBeUndefined();
  });

  it('does not hand a released port straight to the next service', () => {
    const ports = new PublishedPortAllocator(swarmRange);
    ports.assign('a', [tcp()]);
    expect(ports.release('a')).toEqual([{ protocol: 'tcp', publishedPort: 30000, auto: true }]);
    expect(ports.assign('b', [tcp()])[0]?.publishedPort).toBe(30001);
  });

  it('throws IPAM_PORTS_EXHAUSTED when the range is used up, and rolls back', () => {
    const ports = new PublishedPortAllocator({ start: 30000, end: 30002 });
    ports.assign('a', [tcp(), tcp()]);
    const before = ports.serialize();
    const err = thrown(() => ports.assign('b', [tcp(), tcp()]));
    expect(err.code).toBe('IPAM_PORTS_EXHAUSTED');
    expect(err.details).toMatchObject({ start: 30000, end: 30002, protocol: 'tcp' });
    expect(ports.serialize()).toEqual(before);
    expect(ports.portsOf('b')).toEqual([]);
  });

  it('keeps a service\'s old ports when its update runs out of ports', () => {
    const ports = new PublishedPortAllocator({ start: 30000, end: 30002 });
    ports.assign('web', [tcp(80), tcp()]);
    ports.assign('other', [tcp()]);
    const before = ports.serialize();
    expect(thrown(() => ports.assign('web', [tcp(), tcp(), tcp()])).code).toBe('IPAM_PORTS_EXHAUSTED');
    expect(ports.serialize()).toEqual(before);
    expect(ports.holderOf('tcp', 80)).toBe('web');
  });

  it.each([
    { name: 'a port above 65535', requests: [tcp(70000)] },
    { name: 'a negative port', requests: [tcp(-1)] },
    { name: 'the same port twice', requests: [tcp(80), tcp(80)] },
    { name: 'an unknown protocol', requests: [{ protocol: 'icmp', publishedPort: 80 } as unknown as PortRequest] },
  ])('refuses $name with IPAM_INVALID', ({ requests }) => {
    const ports = new PublishedPortAllocator(swarmRange);
    expect(thrown(() => ports.assign('web', requests)).code).toBe('IPAM_INVALID');
    expect(ports.portsOf('web')).toEqual([]);
  });

  it('restores from the services\' ports alone, resuming after the highest automatic port', () => {
    const state: PortState = {
      owners: [
        { owner: 'web', ports: [{ protocol: 'tcp', publishedPort: 30007, auto: true }, { protocol: 'tcp', publishedPort: 80, auto: false }] },
        { owner: 'api', ports: [{ protocol: 'tcp', publishedPort: 30003, auto: true }] },
      ],
    };
    const ports = PublishedPortAllocator.restore(swarmRange, state);
    expect(ports.assign('new', [tcp()])[0]?.publishedPort).toBe(30008);
    expect(thrown(() => ports.assign('new', [tcp(80)])).code).toBe('IPAM_PORT_IN_USE');
    expect(
      thrown(() =>
        PublishedPortAllocator.restore(swarmRange, {
          owners: [
            { owner: 'a', ports: [{ protocol: 'tcp', publishedPort: 80, auto: false }] },
            { owner: 'b', ports: [{ protocol: 'tcp', publishedPort: 80, auto: false }] },
          ],
        }),
      ).code,
    ).toBe('IPAM_PORT_IN_USE');
  });

  // ---- properties ----------------------------------------------------------------------------
  const range = { start: 100, end: 102 };
  const request = fc.record({
    protocol: fc.constantFrom('tcp' as const, 'udp' as const),
    publishedPort: fc.option(fc.integer({ min: 98, max: 104 }), { freq: 2, nil: undefined }),
  });
  const op = fc.record({ owner: fc.integer({ min: 0, max: 4 }), release: fc.boolean(), requests: fc.array(request, { maxLength: 4 }) });
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  const apply = (ports: PublishedPortAllocator, o: Op): unknown => {
    try {
      return o.release ? ports.release(`s${o.owner}`) : ports.assign(`s${o.owner}`, o.requests);
    } catch (err) {
      if (isTsswarmError(err)) return err.code;
      throw err;
    }
  };

  it('every port has one owner, explicit ports are as asked, automatic ones in range; failed calls change nothing', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const ports = new PublishedPortAllocator(range);
        for (const o of ops) {
          const before = ports.serialize();
          const result = apply(ports, o);
          if (typeof result === 'string') {
            expect(ports.serialize()).toEqual(before);
            continue;
          }
          if (!o.release) {
            const got = result as { protocol: string; publishedPort: number; auto: boolean }[];
            expect(got.length).toBe(o.requests.length);
            got.forEach((port, i) => {
              const asked = o.requests[i]!;
              expect(port.protocol).toBe(asked.protocol);
              if (asked.publishedPort !== undefined && asked.publishedPort !== 0) expect(port).toMatchObject({ publishedPort: asked.publishedPort, auto: false });
              else expect(port.auto && port.publishedPort >= range.start && port.publishedPort <= range.end).toBe(true);
            });
          }
          const owners = ports.serialize().owners;
          const all = owners.flatMap((o2) => o2.ports.map((p) => `${p.publishedPort}/${p.protocol}`));
          expect(new Set(all).size).toBe(all.length);
          // The owner index and the per-port holders agree.
          for (const { owner, ports: held } of owners) for (const p of held) expect(ports.holderOf(p.protocol, p.publishedPort)).toBe(owner);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('restore(serialize()) through JSON behaves exactly as the original', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.array(op, { maxLength: 20 }), (before, after) => {
        const ports = new PublishedPortAllocator(range);
        for (const o of before) apply(ports, o);
        const restored = PublishedPortAllocator.restore(range, JSON.parse(JSON.stringify(ports.serialize())) as PortState);
        expect(restored.serialize()).toEqual(ports.serialize());
        for (const o of after) expect(apply(restored, o)).toEqual(apply(ports, o));
      }),
      { numRuns: 300 },
    );
  });
});
