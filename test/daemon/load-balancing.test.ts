import { describe, expect, it } from 'vitest';
import type { NetworkSpec, SandboxSpec } from '../../src/dataplane/model.js';
import { withLoadBalancers, type ServiceEndpoint } from '../../src/daemon/load-balancing.js';
import { composeDesired, decodeEndpoint, encodeEndpoint, publication, serviceEndpoints } from '../../src/daemon/node-networks-state.js';

/** Which load balancers each local sandbox gets from the service endpoints the node knows. */
const APP: NetworkSpec = { id: 'app', vni: 4097, subnet: '10.0.1.0/24', gateway: '10.0.1.1', encrypted: false, ingress: false };
const INGRESS: NetworkSpec = { id: 'ingress', vni: 4096, subnet: '10.0.0.0/24', gateway: '10.0.0.1', encrypted: false, ingress: true };
const mac = (ip: string): string => `02:42:${ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`;
const sandbox = (id: string, ...eps: Array<[string, string]>): SandboxSpec => ({ id, gateway: true, endpoints: eps.map(([network, ip]) => ({ network, ip, mac: mac(ip) })) });
const PORTS = [{ protocol: 'tcp' as const, published: 8080, target: 80 }];

const endpoints: ServiceEndpoint[] = [
  // web: VIP 10.0.1.2 on app, published 8080 -> 80 through ingress; three tasks, one local.
  { network: 'app', ip: '10.0.1.10', serviceId: 'web', vip: '10.0.1.2', ports: PORTS },
  { network: 'app', ip: '10.0.1.9', serviceId: 'web', vip: '10.0.1.2', ports: PORTS },
  { network: 'app', ip: '10.0.1.11', serviceId: 'web', vip: '10.0.1.2', ports: PORTS },
  { network: 'ingress', ip: '10.0.0.10', serviceId: 'web', vip: '10.0.0.2', ports: PORTS },
  { network: 'ingress', ip: '10.0.0.11', serviceId: 'web', vip: '10.0.0.2', ports: PORTS },
  // db: dnsrr (no VIP), nothing published.
  { network: 'app', ip: '10.0.1.20', serviceId: 'db' },
  // another node's ingress sandbox: on the network, but no backend of anything.
  { network: 'ingress', ip: '10.0.0.3', serviceId: '' },
];

describe('load balancers per sandbox', () => {
  it('a task balances the VIPs of its networks over each service\'s endpoints there; dnsrr services get none', () => {
    const [task] = withLoadBalancers([sandbox('t1', ['app', '10.0.1.9'])], [APP], endpoints, undefined);
    expect(task!.loadBalancers).toEqual([{ service: 'web', vip: '10.0.1.2', backends: ['10.0.1.9', '10.0.1.10', '10.0.1.11'] }]);
    expect(task!.ingress).toBeUndefined();
  });

  it('the ingress sandbox balances published ports over the ingress endpoints; a task on ingress gets no VIP there', () => {
    const [lb, task] = withLoadBalancers([sandbox('lb', ['ingress', '10.0.0.3']), sandbox('t2', ['ingress', '10.0.0.10'], ['app', '10.0.1.10'])], [INGRESS, APP], endpoints, 'lb');
    expect(lb).toMatchObject({ id: 'lb', ingress: true, loadBalancers: [{ service: 'web', ports: PORTS, backends: ['10.0.0.10', '10.0.0.11'] }] });
    expect(task!.loadBalancers).toEqual([{ service: 'web', vip: '10.0.1.2', backends: ['10.0.1.9', '10.0.1.10', '10.0.1.11'] }]);
  });

  it('leaves a sandbox with nothing to balance exactly as it was', () => {
    const plain = sandbox('t3', ['other', '10.0.9.5']);
    const [out] = withLoadBalancers([plain], [APP], endpoints, undefined);
    expect(out).toBe(plain);
  });

  it('an ingress sandbox with no published service is still marked, with no load balancer', () => {
    const [lb] = withLoadBalancers([sandbox('lb', ['ingress', '10.0.0.3'])], [INGRESS], [], 'lb');
    expect(lb).toEqual({ ...sandbox('lb', ['ingress', '10.0.0.3']), ingress: true });
  });
});

describe('service endpoints in gossip', () => {
  const owner = { taskName: 'web.1.t1', serviceId: 'web', serviceName: 'web', vips: [{ network: 'app', ip: '10.0.1.2' }], ports: PORTS };
  const local = [{ taskId: 't1', network: 'app', ip: '10.0.1.9', mac: mac('10.0.1.9'), owner }];

  it('a task\'s entry carries its service\'s VIP on that network and its published ports, and decodes back', () => {
    const value = publication(local, { nodeId: 'n1', vtep: '10.77.0.1' }).get('app')!.get('t1')!;
    const decoded = decodeEndpoint(new TextEncoder().encode(value));
    expect(decoded).toMatchObject({ vip: '10.0.1.2', ports: PORTS });
    expect(decodeEndpoint(encodeEndpoint({ ...(decoded as object), ports: [{ protocol: 'sctp', published: 1, target: 1 }] } as never))).toMatch(/ports/);
    expect(decodeEndpoint(encodeEndpoint({ ...(decoded as object), vip: '10.0.1' } as never))).toMatch(/vip/);
  });

  it('composeDesired gives the local sandboxes load balancers over local and remote endpoints', () => {
    const remote = [{ network: 'app', endpoint: { taskId: 't9', taskName: 'web.2.t9', serviceId: 'web', serviceName: 'web', ip: '10.0.1.10', mac: mac('10.0.1.10'), vtep: '10.77.0.2', nodeId: 'n2', vip: '10.0.1.2' } }];
    const desired = composeDesired({ sandboxes: [sandbox('t1', ['app', '10.0.1.9'])], networks: [APP] }, [], serviceEndpoints(local, remote));
    expect(desired.sandboxes[0]!.loadBalancers).toEqual([{ service: 'web', vip: '10.0.1.2', backends: ['10.0.1.9', '10.0.1.10'] }]);
  });
});
