import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxKernel } from '../../../src/dataplane/kernel/linux-kernel.js';
import { createNamespaces, mountsUnder, removeNamespaceTree } from '../../../src/dataplane/kernel/netns.js';
import { closeScriptSession } from '../../../src/dataplane/kernel/script-runner.js';
import type { KernelOp } from '../../../src/dataplane/kernel/types.js';
import type { SandboxSpec } from '../../../src/dataplane/model.js';
import { compileLoadBalancers, hostIngressChains } from '../../../src/dataplane/plan/load-balancer.js';
import { nftKeys } from '../../../src/dataplane/plan/target.js';

/**
 * Every shape of rule the load-balancer planner writes is accepted by the real nft and reads
 * back with its keys: VIPs with one, several and no backends, published tcp/udp ports with
 * one, several and no backends, the ingress masquerade, and the host's DNAT chains.
 */
const DIR = `/run/tsswarm-lbrules-${process.pid}`;

describe('load-balancer rules on the real kernel', () => {
  let k: LinuxKernel;

  beforeAll(async () => {
    await createNamespaces(DIR, ['host']);
    k = new LinuxKernel({ netnsDir: `${DIR}/netns`, hostNsPath: `${DIR}/host`, sysctls: [], netlinkHelper: false });
  });

  afterAll(async () => {
    try {
      await removeNamespaceTree(DIR);
      expect(await mountsUnder(DIR)).toEqual([]);
    } finally {
      closeScriptSession();
    }
  });

  it('applies and reads back every kind of load-balancer rule', async () => {
    const sb: SandboxSpec = {
      id: 'x',
      endpoints: [],
      ingress: true,
      loadBalancers: [
        { service: 'one', vip: '10.0.1.100', backends: ['10.0.1.3'] },
        { service: 'many', vip: '10.0.1.101', backends: ['10.0.1.5', '10.0.1.3', '10.0.1.4'] },
        { service: 'none', vip: '10.0.1.102', backends: [] },
        { service: 'p1', backends: ['10.0.2.3'], ports: [{ protocol: 'tcp', published: 8080, target: 80 }, { protocol: 'udp', published: 8080, target: 53 }] },
        { service: 'p2', backends: ['10.0.2.3', '10.0.2.4'], ports: [{ protocol: 'tcp', published: 8081, target: 80 }, { protocol: 'udp', published: 8081, target: 53 }] },
        { service: 'p0', backends: [], ports: [{ protocol: 'tcp', published: 8082, target: 80 }, { protocol: 'udp', published: 8082, target: 53 }] },
      ],
    };
    const lb = compileLoadBalancers(sb, ['eth0', 'eth1']);
    expect(lb.problems).toEqual([]);
    const table = lb.table ?? expect.fail('no table');
    const ops: KernelOp[] = [
      { op: 'netns-add', item: 't', ns: 'sb-x' },
      { op: 'nft-table', item: 't', ns: 'sb-x', family: 'ip', table: table.table, chains: table.chains },
      { op: 'nft-table', item: 't', ns: 'host', family: 'ip', table: 'tsswarm-ingress', chains: hostIngressChains(lb.ports, '172.18.0.2', 'docker_gwbridge') },
    ];
    const res = await k.apply(ops);
    expect(res.filter((r) => r.error !== undefined)).toEqual([]);
    const st = await k.observe({ depth: () => 'full', extras: () => ({ nft: true }) });
    expect(st.ns.get('sb-x')?.nft?.get('ip tsswarm-lb')).toEqual(nftKeys(table));
    expect(st.ns.get('host')?.nft?.get('ip tsswarm-ingress')?.size).toBe(2 * 6 + 1);
  });
});
