import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxKernel } from '../../../src/dataplane/kernel/linux-kernel.js';
import { createNamespaces, removeNamespaceTree } from '../../../src/dataplane/kernel/netns.js';
import { closeScriptSession } from '../../../src/dataplane/kernel/script-runner.js';
import { DEEP_ALL, type KernelOp } from '../../../src/dataplane/kernel/types.js';
import { compiledPath } from '../../support/compiled.js';

/**
 * The netlink fast path for overlay entries, against the real kernel: the compiled helper
 * enters the overlay namespace; what it writes, iproute2 reads back, and the other way round.
 */
const DIR = `/run/tsswarm-netlink-${process.pid}`;

describe('netlink helper for overlay entries (real kernel)', () => {
  let k: LinuxKernel;
  let iproute: LinuxKernel;
  const helper = { js: compiledPath(new URL('../../../src/dataplane/kernel/netlink-helper.ts', import.meta.url)) };

  beforeAll(async () => {
    await createNamespaces(DIR, ['host']);
    const opts = { netnsDir: `${DIR}/netns`, hostNsPath: `${DIR}/host`, sysctls: [] };
    k = new LinuxKernel({ ...opts, netlinkHelper: helper.js });
    iproute = new LinuxKernel({ ...opts, netlinkHelper: false });
    const item = 't';
    const res = await iproute.apply([
      { op: 'netns-add', item, ns: 'ov-n' },
      { op: 'bridge-add', item, ns: 'ov-n', name: 'br0', mtu: 1450 },
      { op: 'vxlan-add', item, ns: 'ov-n', name: 'vxlan77', vni: 77, port: 4789, local: '10.9.0.1', mtu: 1450 },
      { op: 'link-set', item, ns: 'ov-n', name: 'vxlan77', master: 'br0', up: true },
      { op: 'neigh-add', item, ns: 'ov-n', dev: 'vxlan77', ip: '10.0.7.2', mac: '02:42:0a:00:07:02' },
      { op: 'fdb-add', item, ns: 'ov-n', dev: 'vxlan77', mac: '02:42:0a:00:07:02', dst: '10.9.0.2' },
    ]);
    expect(res.filter((r) => r.error !== undefined)).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    try {
      k?.close();
      await removeNamespaceTree(DIR);
    } finally {
      closeScriptSession();
    }
  });

  it('reads and writes entries over netlink once its helper is ready', async () => {
    await k.observe({ depth: () => 'none' }); // starts the helper
    for (let i = 0; i < 400 && !k.netlinkReady('ov-n'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(k.netlinkReady('ov-n')).toBe(true);

    const viaNetlink = await k.observe({ depth: (ns) => (ns === 'ov-n' ? 'entries' : 'none') });
    expect([...(viaNetlink.ns.get('ov-n')?.neigh ?? [])]).toEqual(['vxlan77 10.0.7.2 02:42:0a:00:07:02']);
    expect([...(viaNetlink.ns.get('ov-n')?.fdb ?? [])]).toEqual(['vxlan77 02:42:0a:00:07:02 10.9.0.2']);

    const item = 't';
    const ops: KernelOp[] = [
      { op: 'neigh-add', item, ns: 'ov-n', dev: 'vxlan77', ip: '10.0.7.3', mac: '02:42:0a:00:07:03' },
      { op: 'fdb-add', item, ns: 'ov-n', dev: 'vxlan77', mac: '02:42:0a:00:07:03', dst: '10.9.0.3' },
      { op: 'neigh-del', item, ns: 'ov-n', dev: 'vxlan77', ip: '10.0.7.2', mac: '02:42:0a:00:07:02' },
      { op: 'fdb-del', item, ns: 'ov-n', dev: 'vxlan77', mac: '02:42:0a:00:07:02', dst: '10.9.0.2' },
      { op: 'neigh-add', item, ns: 'ov-n', dev: 'nosuchdev', ip: '10.0.7.4', mac: '02:42:0a:00:07:04' },
    ];
    const res = await k.apply(ops);
    expect(res.map((r) => r.error === undefined)).toEqual([true, true, true, true, false]);
    expect(res[4]?.error).toMatch(/nosuchdev/);

    const back = (await iproute.observe(DEEP_ALL)).ns.get('ov-n');
    expect([...(back?.neigh ?? [])]).toEqual(['vxlan77 10.0.7.3 02:42:0a:00:07:03']);
    expect([...(back?.fdb ?? [])]).toEqual(['vxlan77 02:42:0a:00:07:03 10.9.0.3']);
  });

  it('sees changes made by others between its reads (it follows kernel notifications, not a cache of its own)', async () => {
    const entries = async () => {
      const st = (await k.observe({ depth: (ns) => (ns === 'ov-n' ? 'entries' : 'none') })).ns.get('ov-n');
      return { neigh: [...(st?.neigh ?? [])].sort(), fdb: [...(st?.fdb ?? [])].sort() };
    };
    const item = 't';
    await entries();
    // Someone else adds, deletes and replaces entries with iproute2.
    let res = await iproute.apply([
      { op: 'neigh-add', item, ns: 'ov-n', dev: 'vxlan77', ip: '10.0.7.5', mac: '02:42:0a:00:07:05' },
      { op: 'fdb-add', item, ns: 'ov-n', dev: 'vxlan77', mac: '02:42:0a:00:07:05', dst: '10.9.0.5' },
      { op: 'neigh-del', item, ns: 'ov-n', dev: 'vxlan77', ip: '10.0.7.3', mac: '02:42:0a:00:07:03' },
      // `fdb replace` moves the MAC to another VTEP: no notification says the old one went.
      { op: 'fdb-add', item, ns: 'ov-n', dev: 'vxlan77', mac: '02:42:0a:00:07:03', dst: '10.9.0.9' },
    ]);
    expect(res.filter((r) => r.error !== undefined)).toEqual([]);
    expect(await entries()).toEqual({
      neigh: ['vxlan77 10.0.7.5 02:42:0a:00:07:05'],
      fdb: ['vxlan77 02:42:0a:00:07:03 10.9.0.9', 'vxlan77 02:42:0a:00:07:05 10.9.0.5'],
    });
    // The VXLAN device is replaced (its entries go with it) and gets one new entry.
    res = await iproute.apply([
      { op: 'link-del', item, ns: 'ov-n', name: 'vxlan77' },
      { op: 'vxlan-add', item, ns: 'ov-n', name: 'vxlan77', vni: 77, port: 4789, local: '10.9.0.1', mtu: 1450 },
      { op: 'neigh-add', item, ns: 'ov-n', dev: 'vxlan77', ip: '10.0.7.6', mac: '02:42:0a:00:07:06' },
    ]);
    expect(res.filter((r) => r.error !== undefined)).toEqual([]);
    expect(await entries()).toEqual({ neigh: ['vxlan77 10.0.7.6 02:42:0a:00:07:06'], fdb: [] });
    expect(k.netlinkReady('ov-n')).toBe(true); // the helper answered, not iproute2
  });
});
