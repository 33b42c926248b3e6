import { describe, expect, it } from 'vitest';
import { FakeKernel } from '../../../src/dataplane/kernel/fake-kernel.js';
import { parseDataplaneConfig, type RemoteEndpoint } from '../../../src/dataplane/model.js';
import { Reconciler } from '../../../src/dataplane/reconciler.js';
import { isTsswarmError } from '../../../src/errors/index.js';
import { DataplaneSandboxes } from '../../../src/worker/sandbox/dataplane-sandboxes.js';
import { NET1, NET2, attach, overlay } from './attachment-fixtures.js';

/**
 * DataplaneSandboxes with overlay attachments over the real reconciler and the recording fake
 * kernel: endpoints, networks and remote endpoints reach the kernel's desired shape, a
 * release removes them, and bad attachments change nothing.
 */
const VTEP = '10.77.0.1';
const owner = { taskName: 'web.1.t1', serviceId: 'svc1', serviceName: 'web' };

function setup(remotes: RemoteEndpoint[] = []) {
  const k = new FakeKernel();
  k.seedHost((h) => {
    h.links.set('eth0', { name: 'eth0', kind: 'veth', mtu: 1500, up: true, mac: '02:00:00:00:00:01' });
    h.addrs.add(`eth0 ${VTEP}/24`);
    h.routes.add('10.77.0.0/24 dev eth0');
    h.routes.add('default via 10.77.0.254 dev eth0');
  });
  const cfg = parseDataplaneConfig({ dataPathAddr: VTEP, runDir: '/run/tsswarm-test-sbx-overlay' });
  const reconciler = new Reconciler(k, cfg);
  const sb = new DataplaneSandboxes(
    { config: cfg, reconciler },
    { compose: (local) => ({ networks: local.networks, sandboxes: local.sandboxes, remotes: remotes.filter((r) => local.networks.some((n) => n.id === r.network)) }) },
  );
  return { k, sb, reconciler, cfg };
}

function lines(k: FakeKernel, ns: string): string[] {
  const dump = k.dump().split('\n');
  const i = dump.indexOf(`ns ${ns}`);
  if (i < 0) return [];
  const out: string[] = [];
  for (const l of dump.slice(i + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim());
  }
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isTsswarmError(e) ? e.code : String(e);
  }
  return 'nothing thrown';
}

describe('task sandboxes with overlay endpoints (fake kernel)', () => {
  it('gives a task one interface per attachment in order, its networks, and the remote endpoints; a release removes them', async () => {
    const remotes = [{ network: 'net1', ip: '10.0.1.9', mac: '02:42:0a:00:01:09', vtep: '10.77.0.2' }];
    const { k, sb } = setup(remotes);
    const seen: string[][] = [];
    sb.onChange(() => seen.push(sb.localEndpoints().map((e) => `${e.taskId} ${e.network} ${e.ip} ${e.mac} ${e.owner?.taskName ?? '-'}`)));
    await sb.ensure('t1', { attachments: [attach(NET2, '10.0.2.5/24'), attach(NET1, '10.0.1.5/24')], owner });

    const sbx = lines(k, 'sb-t1');
    expect(sbx).toContain('addrs eth0 10.0.2.5/24');
    expect(sbx).toContain('addrs eth1 10.0.1.5/24');
    expect(sbx.find((l) => l.startsWith('addrs eth2 '))).toBeDefined(); // docker_gwbridge, after the overlays
    expect(sbx).toContain('link eth0 veth mtu 1400 up');
    expect(sbx).toContain('link eth1 veth mtu 1450 up');
    expect(sbx.find((l) => l.startsWith('routes default via ') && l.endsWith(' dev eth2'))).toBeDefined();
    const ov1 = lines(k, 'ov-net1');
    expect(ov1).toContain('link vxlan4097 vxlan mtu 1450 up master br0 vni 4097 local 10.77.0.1');
    expect(ov1).toContain('addrs br0 10.0.1.1/24');
    expect(ov1).toContain('neigh vxlan4097 10.0.1.9 02:42:0a:00:01:09');
    expect(ov1).toContain('fdb vxlan4097 02:42:0a:00:01:09 10.77.0.2');
    expect(lines(k, 'ov-net2')).toContain('addrs br0 10.0.2.1/24');
    expect(seen.at(-1)).toEqual(['t1 net2 10.0.2.5 02:42:0a:00:02:05 web.1.t1', 't1 net1 10.0.1.5 02:42:0a:00:01:05 web.1.t1']);

    // A second task on net1 shares its overlay; a refresh brings a new remote in.
    await sb.ensure('t2', { attachments: [attach(NET1, '10.0.1.6/24')] });
    remotes.push({ network: 'net1', ip: '10.0.1.10', mac: '02:42:0a:00:01:0a', vtep: '10.77.0.3' });
    const rep = await sb.refresh();
    expect(rep.errors).toEqual([]);
    expect(lines(k, 'ov-net1')).toContain('fdb vxlan4097 02:42:0a:00:01:0a 10.77.0.3');

    // net2 goes with t1, its last user; net1 stays for t2.
    await sb.release('t1');
    expect(lines(k, 'sb-t1')).toEqual([]);
    expect(lines(k, 'ov-net2')).toEqual([]);
    expect(lines(k, 'ov-net1')).toContain('addrs br0 10.0.1.1/24');
    expect(sb.localEndpoints().map((e) => e.taskId)).toEqual(['t2']);
    await sb.release('t2');
    expect(k.dump().split('\n').filter((l) => l.startsWith('ns ') && l !== 'ns host')).toEqual([]);
    expect(seen.at(-1)).toEqual([]);
  });

  it('refuses a bad attachment with TASK_NETWORK_ATTACHMENT_INVALID and changes nothing, for this task and the others', async () => {
    const { k, sb } = setup();
    await sb.ensure('t1', { attachments: [attach(NET1, '10.0.1.5/24')] });
    const before = k.dump();
    const ops = k.log.length;
    let changes = 0;
    sb.onChange(() => changes++);
    expect(await codeOf(sb.ensure('t2', { attachments: [attach(NET1, '10.0.1.1/24')] }))).toBe('TASK_NETWORK_ATTACHMENT_INVALID');
    expect(await codeOf(sb.ensure('t3', { attachments: [attach(overlay('net1', 4097, '10.0.9.0/24', '10.0.9.1'), '10.0.9.5/24')] }))).toBe('TASK_NETWORK_ATTACHMENT_INVALID');
    expect(await codeOf(sb.ensure('t4', { attachments: [attach(overlay('other', 4097, '10.0.9.0/24', '10.0.9.1'), '10.0.9.5/24')] }))).toBe('TASK_NETWORK_ATTACHMENT_INVALID');
    expect(await codeOf(sb.ensure('t5', { attachments: [attach(NET1, '10.0.1.5/24')] }))).toBe('TASK_NETWORK_ATTACHMENT_INVALID');
    expect(await codeOf(sb.ensure('../bad', { attachments: [] }))).toBe('TASK_SANDBOX_FAILED');
    expect(k.log.length).toBe(ops);
    expect(k.dump()).toBe(before);
    expect(changes).toBe(0);
    expect(sb.desiredSandboxes().map((s) => s.id)).toEqual(['t1']);
    // The good task still works, and a re-ensure of it without attachments keeps its endpoint.
    await sb.ensure('t1');
    expect(sb.localEndpoints().map((e) => e.ip)).toEqual(['10.0.1.5']);
  });

  it('restores tasks with their attachments, so a restarted daemon keeps their endpoints (no op on the first reconcile)', async () => {
    const { k, sb, cfg } = setup();
    const atts = new Map([['t1', { attachments: [attach(NET1, '10.0.1.5/24')], owner }], ['t2', { attachments: [attach(NET1, '10.0.1.6/24'), attach(NET2, '10.0.2.6/24')] }]]);
    await sb.ensure('t1', atts.get('t1'));
    await sb.ensure('t2', atts.get('t2'));
    const before = k.dump();
    const again = new DataplaneSandboxes({ config: cfg, reconciler: new Reconciler(k, cfg) });
    again.restore(['t1', 't2'], atts);
    expect(again.localEndpoints().map((e) => `${e.taskId} ${e.ip}`)).toEqual(['t1 10.0.1.5', 't2 10.0.1.6', 't2 10.0.2.6']);
    const rep = await again.refresh();
    expect(rep.errors).toEqual([]);
    expect(rep.opCount).toBe(0);
    expect(k.dump()).toBe(before);
  });

  it('reports a dataplane failure of the task\'s network as TASK_SANDBOX_FAILED', async () => {
    const { k, sb } = setup();
    k.failWhen = (op) => (op.op === 'vxlan-add' ? 'RTNETLINK answers: Operation not supported' : undefined);
    expect(await codeOf(sb.ensure('t1', { attachments: [attach(NET1, '10.0.1.5/24')] }))).toBe('TASK_SANDBOX_FAILED');
    k.failWhen = () => undefined;
    await sb.release('t1');
    expect(k.dump().split('\n').filter((l) => l.startsWith('ns ') && l !== 'ns host')).toEqual([]);
  });

  it('the node\'s ingress address gets its ingress sandbox beside the tasks; a bad one is refused; undefined removes it', async () => {
    const { k, sb } = setup();
    const INGRESS = overlay('ing', 4096, '10.0.0.0/24', '10.0.0.1', { ingress: true });
    await sb.ensure('t1', { attachments: [attach(INGRESS, '10.0.0.5/24'), attach(NET1, '10.0.1.5/24')], owner });
    await sb.setIngress('ingress-sbox-n1', attach(INGRESS, '10.0.0.3/24'));
    const local = sb.desiredLocal();
    expect(local.ingressSandbox).toBe('ingress-sbox-n1');
    expect(local.sandboxes.find((s) => s.id === 'ingress-sbox-n1')?.endpoints.map((e) => `${e.network} ${e.ip}`)).toEqual(['ing 10.0.0.3']);
    expect(sb.localEndpoints().map((e) => `${e.taskId} ${e.ip}`)).toContain('ingress-sbox-n1 10.0.0.3');
    expect(k.dump()).toContain('ns sb-ingress-sbox-n1');
    // The same attachment again changes nothing; the address of a task is refused.
    expect(await sb.setIngress('ingress-sbox-n1', attach(INGRESS, '10.0.0.3/24'))).toBeUndefined();
    expect(await codeOf(sb.setIngress('ingress-sbox-n1', attach(INGRESS, '10.0.0.5/24')))).toBe('TASK_NETWORK_ATTACHMENT_INVALID');
    expect(sb.desiredLocal().sandboxes.find((s) => s.id === 'ingress-sbox-n1')?.endpoints.map((e) => e.ip)).toEqual(['10.0.0.3']);
    await sb.setIngress('ingress-sbox-n1', undefined);
    expect(sb.desiredLocal().ingressSandbox).toBeUndefined();
    expect(k.dump()).not.toContain('ns sb-ingress-sbox-n1');
    expect(k.dump()).toContain('ns sb-t1');
  });
});
