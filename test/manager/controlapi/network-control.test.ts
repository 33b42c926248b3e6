import { describe, expect, it } from 'vitest';
import { NetworkControl, createIngressNetwork } from '../../../src/manager/controlapi/network-control.js';
import { ServiceControl } from '../../../src/manager/controlapi/service-control.js';
import { checkPlacement, removeService, rollbackServiceSpec } from '../../../src/manager/orchestrator/index.js';
import type { DeepPartial, MemoryStore, NetworkSpec, ServiceSpec } from '../../../src/manager/store/index.js';
import { codeOf, localStore } from '../store/helpers.js';

/**
 * The network calls of the Control API on a one-member store: create validates and allocates
 * in one transaction, refusals change nothing, services resolve networks by name, remove is
 * refused while attached and frees the subnet and VXLAN ID.
 */

async function setup(pools?: { pools: string[]; size: number }): Promise<{ store: MemoryStore; networks: NetworkControl; services: ServiceControl }> {
  const { store } = localStore();
  const networks = new NetworkControl(store);
  const services = new ServiceControl(store, { checkPlacement, removeService, rollbackSpec: rollbackServiceSpec }, (fn) => networks.serialize(fn));
  if (pools !== undefined) {
    await store.update((tx) => tx.create('cluster', { id: 'c1', spec: { annotations: { name: 'default' } }, defaultAddressPools: pools.pools, subnetSize: pools.size }));
  }
  return { store, networks, services };
}

const net = (name: string, extra: DeepPartial<NetworkSpec> = {}): DeepPartial<NetworkSpec> => ({ annotations: { name }, ...extra });
const withSubnet = (name: string, subnet: string, gateway = '', range = ''): DeepPartial<NetworkSpec> => net(name, { ipam: { configs: [{ subnet, gateway, range }] } });
const svc = (name: string, networks: string[], mode: 'VIP' | 'DNSRR' = 'VIP'): DeepPartial<ServiceSpec> => ({
  annotations: { name }, task: { image: 'sleep', networks: networks.map((target) => ({ target })) }, endpoint: { mode },
});
const count = (store: MemoryStore): { networks: number; services: number } => store.view((tx) => ({ networks: tx.list('network').length, services: tx.list('service').length }));

describe('network create', () => {
  it('allocates the next free /24 of 10.0.0.0/8, its first address as gateway, and VXLAN IDs from 4096', async () => {
    const { networks } = await setup();
    const a = await networks.createNetwork(net('alpha'));
    const b = await networks.createNetwork(net('beta', { driverOptions: { 'com.docker.network.driver.mtu': '1400' } }));
    expect(a.id).toMatch(/^[0-9a-z]{25}$/);
    expect(a.ipam).toEqual({ driver: 'default', configs: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1', range: '' }] });
    expect(a.vni).toBe(4096);
    expect(a.driverState).toEqual({ 'com.docker.network.driver.overlay.vxlanid_list': '4096' });
    expect(a.spec).toMatchObject({ driver: 'overlay', internal: false, attachable: false, ingress: false });
    expect(b.ipam!.configs[0]).toMatchObject({ subnet: '10.0.1.0/24', gateway: '10.0.1.1' });
    expect(b.vni).toBe(4097);
    expect(b.spec.driverOptions).toEqual({ 'com.docker.network.driver.mtu': '1400' });
  });

  it('takes --subnet, --gateway and --ip-range as given, and pools from the cluster (init --default-addr-pool)', async () => {
    const { networks } = await setup({ pools: ['10.200.0.0/16'], size: 26 });
    const given = await networks.createNetwork(withSubnet('given', '192.168.50.0/24', '192.168.50.254', '192.168.50.128/25'));
    expect(given.ipam!.configs[0]).toEqual({ subnet: '192.168.50.0/24', gateway: '192.168.50.254', range: '192.168.50.128/25' });
    const pooled = await networks.createNetwork(net('pooled'));
    expect(pooled.ipam!.configs[0]).toMatchObject({ subnet: '10.200.0.0/26', gateway: '10.200.0.1' });
  });

  it.each([
    ['an empty name', net(''), 'NETWORK_INVALID_OPTION'],
    ['a name that is not a DNS label', net('my net'), 'NETWORK_INVALID_OPTION'],
    ['another driver', net('n', { driver: 'bridge' }), 'NETWORK_INVALID_OPTION'],
    ['-o encrypted', net('n', { driverOptions: { encrypted: '' } }), 'NETWORK_ENCRYPTION_UNSUPPORTED'],
    ['an MTU below 576', net('n', { driverOptions: { 'com.docker.network.driver.mtu': '500' } }), 'NETWORK_INVALID_OPTION'],
    ['an MTU above 9000', net('n', { driverOptions: { 'com.docker.network.driver.mtu': '9001' } }), 'NETWORK_INVALID_OPTION'],
    ['an MTU that is no number', net('n', { driverOptions: { 'com.docker.network.driver.mtu': 'big' } }), 'NETWORK_INVALID_OPTION'],
    ['an unknown driver option', net('n', { driverOptions: { 'com.docker.network.foo': '1' } }), 'NETWORK_INVALID_OPTION'],
    ['an attachable ingress', net('n', { ingress: true, attachable: true }), 'NETWORK_INVALID_OPTION'],
    ['--internal (not built: tasks would still reach outside)', net('n', { internal: true }), 'NETWORK_INVALID_OPTION'],
    ['two subnets', net('n', { ipam: { configs: [{ subnet: '10.1.0.0/24' }, { subnet: '10.2.0.0/24' }] } }), 'NETWORK_INVALID_OPTION'],
    ['a gateway without a subnet', net('n', { ipam: { configs: [{ gateway: '10.1.0.1' }] } }), 'IPAM_INVALID'],
    ['a gateway outside the subnet', withSubnet('n', '10.1.0.0/24', '10.2.0.1'), 'IPAM_INVALID'],
    ['an ip-range outside the subnet', withSubnet('n', '10.1.0.0/24', '', '10.1.1.0/25'), 'IPAM_INVALID'],
    ['a subnet with host bits', withSubnet('n', '10.1.0.1/24'), 'IPAM_INVALID'],
    ['a /31', withSubnet('n', '10.1.0.0/31'), 'IPAM_INVALID'],
  ])('refuses %s (%s) and creates nothing', async (_what, spec, code) => {
    const { store, networks } = await setup();
    expect(await codeOf(networks.createNetwork(spec))).toBe(code);
    expect(count(store).networks).toBe(0);
  });

  it('refuses a name in use (without regard to case), a second ingress, and an overlapping subnet', async () => {
    const { store, networks } = await setup();
    await networks.createNetwork(withSubnet('front', '10.50.0.0/16'));
    await networks.createNetwork(net('ingress', { ingress: true }));
    expect(await codeOf(networks.createNetwork(net('FRONT')))).toBe('NETWORK_NAME_IN_USE');
    expect(await codeOf(networks.createNetwork(net('mesh2', { ingress: true })))).toBe('NETWORK_INGRESS_EXISTS');
    expect(await codeOf(networks.createNetwork(withSubnet('inner', '10.50.3.0/24')))).toBe('IPAM_SUBNET_OVERLAP');
    expect(await codeOf(networks.createNetwork(withSubnet('outer', '10.0.0.0/8')))).toBe('IPAM_SUBNET_OVERLAP');
    expect(count(store).networks).toBe(2);
  });

  it('takes a VXLAN ID asked for with -o com.docker.network.driver.overlay.vxlanid_list, once', async () => {
    const { networks } = await setup();
    const vni = (n: string): DeepPartial<NetworkSpec> => net(n, { driverOptions: { 'com.docker.network.driver.overlay.vxlanid_list': n === 'low' ? '10' : '5000' } });
    expect((await networks.createNetwork(vni('mine'))).vni).toBe(5000);
    expect(await codeOf(networks.createNetwork(vni('again')))).toBe('IPAM_VNI_IN_USE');
    expect(await codeOf(networks.createNetwork(vni('low')))).toBe('IPAM_INVALID');
    // An automatic one avoids it (the search resumes after the highest VNI in use).
    const auto = (await networks.createNetwork(net('auto'))).vni;
    expect(auto).not.toBe(5000);
    expect(auto).toBeGreaterThanOrEqual(4096);
  });

  it('allocates distinct subnets and VXLAN IDs to concurrent creates', async () => {
    const { networks } = await setup();
    const made = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((n) => networks.createNetwork(net(n))));
    expect(new Set(made.map((n) => n.ipam!.configs[0]!.subnet)).size).toBe(4);
    expect(new Set(made.map((n) => n.vni)).size).toBe(4);
  });
});

describe('network inspect and ls', () => {
  it('finds a network by ID, name (any case) or unique ID prefix, with the services attached', async () => {
    const { networks, services } = await setup();
    const a = await networks.createNetwork(net('alpha'));
    await services.createService(svc('web', ['alpha']));
    for (const ref of [a.id, 'ALPHA', a.id.slice(0, 6)]) {
      const got = await networks.getNetwork(ref);
      expect(got.network.id).toBe(a.id);
      expect(got.services).toEqual(['web']);
    }
    expect(await codeOf(networks.getNetwork('nope'))).toBe('NETWORK_NOT_FOUND');
    expect((await networks.listNetworks()).map((n) => n.spec.annotations.name)).toEqual(['alpha']);
  });

  it('says NETWORK_AMBIGUOUS for a prefix of several IDs', async () => {
    const { networks } = await setup();
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => networks.createNetwork(net(`n${i}`))));
    const first = made.map((n) => n.id[0]!);
    const shared = first.find((c, i) => first.indexOf(c) !== i)!;
    expect(await codeOf(networks.getNetwork(shared))).toBe('NETWORK_AMBIGUOUS');
  });
});

describe('services on networks', () => {
  it('stores the network ID for a name, and refuses an unknown network, the ingress network and a network named twice, creating nothing', async () => {
    const { store, networks, services } = await setup();
    const a = await networks.createNetwork(net('alpha'));
    await networks.createNetwork(net('mesh', { ingress: true }));
    const web = await services.createService(svc('web', ['Alpha']));
    expect(web.spec.task.networks).toEqual([{ target: a.id, aliases: [] }]);
    expect(await codeOf(services.createService(svc('api', ['nope'])))).toBe('SERVICE_NETWORK_NOT_FOUND');
    expect(await codeOf(services.createService(svc('api', ['mesh'])))).toBe('SERVICE_NETWORK_INGRESS');
    expect(await codeOf(services.createService(svc('api', ['alpha', a.id])))).toBe('SERVICE_INVALID_OPTION');
    expect(count(store).services).toBe(1);
  });

  it('resolves the networks of an update, and refuses an unknown one leaving the service as it was', async () => {
    const { store, networks, services } = await setup();
    const a = await networks.createNetwork(net('alpha'));
    const b = await networks.createNetwork(net('beta'));
    const web = await services.createService(svc('web', ['alpha']));
    const updated = await services.updateService('web', web.meta.version, { ...svc('web', [a.id, 'beta']) });
    expect(updated.spec.task.networks.map((n) => n.target)).toEqual([a.id, b.id]);
    expect(await codeOf(services.updateService('web', 0, svc('web', ['gone'])))).toBe('SERVICE_NETWORK_NOT_FOUND');
    expect(store.view((tx) => tx.get('service', web.id))!.spec.task.networks.map((n) => n.target)).toEqual([a.id, b.id]);
  });
});

describe('network rm', () => {
  it('is refused while a service is attached, and once it is gone frees the subnet and the VXLAN ID', async () => {
    const { store, networks, services } = await setup();
    const a = await networks.createNetwork(net('alpha'));
    const web = await services.createService(svc('web', ['alpha']));
    expect(await codeOf(networks.removeNetworks(['alpha']))).toBe('NETWORK_IN_USE');
    expect(count(store).networks).toBe(1);
    await store.update((tx) => tx.delete('service', web.id));
    expect(await networks.removeNetworks(['alpha'])).toEqual(['alpha']);
    expect(count(store).networks).toBe(0);
    const again = await networks.createNetwork(net('gamma'));
    expect(again.ipam!.configs[0]!.subnet).toBe(a.ipam!.configs[0]!.subnet);
  });

  it('is refused while a task still holds an address on it, even after its service left', async () => {
    const { store, networks } = await setup();
    const a = await networks.createNetwork(net('alpha'));
    await store.update((tx) => tx.create('task', {
      id: 't1', serviceId: 'gone', slot: 1, desiredState: 'RUNNING', status: { state: 'RUNNING' },
      serviceAnnotations: { name: 'old' }, networks: [{ networkId: a.id, addresses: ['10.0.0.2/24'] }],
    }));
    expect(await codeOf(networks.removeNetworks([a.id]))).toBe('NETWORK_IN_USE');
    await store.update((tx) => tx.update('task', { ...tx.get('task', 't1')!, status: { ...tx.get('task', 't1')!.status, state: 'SHUTDOWN' } }));
    expect(await networks.removeNetworks([a.id])).toEqual(['alpha']);
  });

  it('removes all or none', async () => {
    const { store, networks } = await setup();
    await networks.createNetwork(net('alpha'));
    expect(await codeOf(networks.removeNetworks(['alpha', 'nope']))).toBe('NETWORK_NOT_FOUND');
    expect(count(store).networks).toBe(1);
  });
});

/** The cluster as `init` writes it: the Cluster object and the ingress network in one transaction. */
async function initialized(pools?: { pools: string[]; size: number }): Promise<Awaited<ReturnType<typeof setup>>> {
  const ctx = await setup();
  await ctx.store.update((tx) => {
    tx.create('cluster', { id: 'c1', spec: { annotations: { name: 'default' } }, defaultAddressPools: pools?.pools ?? ['10.0.0.0/8'], subnetSize: pools?.size ?? 24 });
    createIngressNetwork(tx);
  });
  return ctx;
}

const publishing = (name: string, ports: Array<{ targetPort: number; publishedPort?: number; protocol?: 'TCP' | 'UDP'; publishMode?: 'INGRESS' | 'HOST' }>, networks: string[] = []): DeepPartial<ServiceSpec> => ({
  annotations: { name }, task: { image: 'sleep', networks: networks.map((target) => ({ target })) }, endpoint: { ports },
});

describe('the ingress network', () => {
  it('exists from init with Docker\'s shape: 10.0.0.0/24 and VNI 4096 from the pools, before any user network', async () => {
    const { networks } = await initialized();
    const listed = await networks.listNetworks();
    expect(listed.map((n) => n.spec.annotations.name)).toEqual(['ingress']);
    expect(listed[0]).toMatchObject({
      vni: 4096,
      spec: { driver: 'overlay', ingress: true, attachable: false, internal: false },
      ipam: { driver: 'default', configs: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1', range: '' }] },
    });
    const first = await networks.createNetwork(net('appnet'));
    expect([first.ipam!.configs[0]!.subnet, first.vni]).toEqual(['10.0.1.0/24', 4097]);
    expect(await codeOf(networks.createNetwork(net('mesh2', { ingress: true })))).toBe('NETWORK_INGRESS_EXISTS');
  });

  it('takes its subnet from the pools given at init', async () => {
    const { networks } = await initialized({ pools: ['10.200.0.0/16'], size: 26 });
    const [ingress] = await networks.listNetworks();
    expect(ingress!.ipam!.configs[0]).toMatchObject({ subnet: '10.200.0.0/26', gateway: '10.200.0.1' });
  });

  it('cannot be removed while a service publishes a port through it; can once none does', async () => {
    const { store, networks, services } = await initialized();
    await services.createService(publishing('web', [{ targetPort: 80, publishedPort: 8080 }]));
    await services.createService(publishing('hostonly', [{ targetPort: 80, publishedPort: 9090, publishMode: 'HOST' }]));
    expect(await codeOf(networks.removeNetworks(['ingress']))).toBe('NETWORK_IN_USE');
    expect((await networks.getNetwork('ingress')).services).toEqual(['web']);
    expect(count(store).networks).toBe(1);
    await services.removeServices(['web']);
    expect(await networks.removeNetworks(['ingress'])).toEqual(['ingress']);
    // Without it, ports cannot be published through the routing mesh (host mode still can).
    expect(await codeOf(services.createService(publishing('web2', [{ targetPort: 80, publishedPort: 8080 }])))).toBe('NETWORK_INGRESS_MISSING');
    await services.createService(publishing('host2', [{ targetPort: 80, publishedPort: 9091, publishMode: 'HOST' }]));
    expect(count(store).services).toBe(3);
  });
});

describe('published ports at the control API', () => {
  it('refuses a port another service publishes (allocated or only asked for), on create, update and rollback, changing nothing', async () => {
    const { store, services } = await initialized();
    const web = await services.createService(publishing('web', [{ targetPort: 80, publishedPort: 8080 }]));
    // As the allocation pass would write it: the port allocated.
    await store.update((tx) => {
      const s = tx.get('service', web.id)!;
      tx.update('service', { ...s, endpoint: { spec: s.spec.endpoint, ports: s.spec.endpoint!.ports, virtualIps: [] } });
    });
    const before = store.view((tx) => tx.list('service'));
    expect(await codeOf(services.createService(publishing('api', [{ targetPort: 81, publishedPort: 8080 }])))).toBe('IPAM_PORT_IN_USE');
    expect(store.view((tx) => tx.list('service'))).toEqual(before);

    // Another protocol is another port; an automatic port needs no check.
    const dns = await services.createService(publishing('dns', [{ targetPort: 53, publishedPort: 8080, protocol: 'UDP' }, { targetPort: 54 }]));
    const api = await services.createService(publishing('api', [{ targetPort: 81, publishedPort: 8081 }]));
    const unchanged = store.view((tx) => tx.get('service', api.id))!;
    const err = await services.updateService('api', 0, publishing('api', [{ targetPort: 81, publishedPort: 8080 }])).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('IPAM_PORT_IN_USE');
    expect((err as { details?: Record<string, unknown> }).details?.owner).toBe('service web');
    expect(store.view((tx) => tx.get('service', api.id))).toEqual(unchanged);
    // A port named only in a spec (not yet allocated) is taken too.
    expect(await codeOf(services.createService(publishing('late', [{ targetPort: 53, publishedPort: 8080, protocol: 'UDP' }])))).toBe('IPAM_PORT_IN_USE');
    // A service may keep its own port through an update.
    await services.updateService('dns', 0, publishing('dns', [{ targetPort: 5353, publishedPort: 8080, protocol: 'UDP' }]));

    // Rollback to a spec whose port another service took meanwhile is refused as well.
    await services.updateService('api', 0, publishing('api', [{ targetPort: 81, publishedPort: 8082 }]));
    await services.createService(publishing('thief', [{ targetPort: 1, publishedPort: 8081 }]));
    const rolled = store.view((tx) => tx.get('service', api.id))!;
    expect(await codeOf(services.rollbackService('api'))).toBe('IPAM_PORT_IN_USE');
    expect(store.view((tx) => tx.get('service', api.id))).toEqual(rolled);
    expect(dns.spec.endpoint!.ports).toHaveLength(2);
  });
});
