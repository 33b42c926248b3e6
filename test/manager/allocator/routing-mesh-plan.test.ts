import { describe, expect, it } from 'vitest';
import { planAllocation, type AllocationInput, type AllocationPlan } from '../../../src/manager/allocator/index.js';
import type { Network, Node, PortConfig, Service, Task } from '../../../src/objects/index.js';

/**
 * The managers' half of the routing mesh as pure decisions: published ports (given and
 * automatic, unique across services, freed with their service, rebuilt from the objects
 * alone), the ingress VIP, the ingress attachment first on each new task with Task.endpoint
 * filled, and every node's load-balancer address on the ingress network.
 */

const meta = { version: 1, createdAtMs: 0, updatedAtMs: 0 };

function network(id: string, subnet: string, ingress = false): Network {
  const gateway = subnet.replace(/\.0\/\d+$/, '.1');
  return {
    id, meta, vni: ingress ? 4096 : 4097, driverState: {}, pendingDelete: false,
    spec: { annotations: { name: ingress ? 'ingress' : `net-${id}`, labels: {} }, driver: 'overlay', driverOptions: {}, internal: false, attachable: false, ingress },
    ipam: { driver: 'default', configs: [{ subnet, gateway, range: '' }] },
  };
}

const INGRESS = network('ing', '10.0.0.0/24', true);
const APP = network('app', '10.0.1.0/24');

const port = (targetPort: number, publishedPort = 0, o: Partial<PortConfig> = {}): PortConfig => ({ name: '', protocol: 'TCP', targetPort, publishedPort, publishMode: 'INGRESS', ...o });

function service(id: string, ports: PortConfig[], o: { networks?: string[]; mode?: 'VIP' | 'DNSRR'; createdAtMs?: number } = {}): Service {
  return {
    id, meta: { ...meta, createdAtMs: o.createdAtMs ?? 0 }, pendingDelete: false,
    spec: {
      annotations: { name: `svc-${id}`, labels: {} },
      task: { runtime: 'PROCESS', image: 'sleep', command: [], args: [], env: [], hostname: '', dir: '', user: '', stopGracePeriodMs: 0, networks: (o.networks ?? []).map((target) => ({ target, aliases: [] })), forceUpdate: 0 },
      replicated: { replicas: 1 },
      endpoint: { mode: o.mode ?? 'VIP', ports },
    },
    endpoint: { ports: [], virtualIps: [] },
  };
}

function task(id: string, s: Service): Task {
  return {
    id, meta, serviceId: s.id, slot: 1, nodeId: '', desiredState: 'RUNNING', specVersion: 1, spec: s.spec.task,
    status: { state: 'NEW', message: '', err: '', timestampMs: 0 }, networks: [],
  };
}

function node(id: string): Node {
  return {
    id, meta, role: 'WORKER', attachments: [],
    spec: { annotations: { name: '', labels: {} }, desiredRole: 'WORKER', availability: 'ACTIVE' },
  };
}

type Input = Omit<AllocationInput, 'nowMs'>;
const plan = (input: Input): AllocationPlan => planAllocation({ ...input, nowMs: 7 });

/** Applies a plan to the objects, as the store would. */
function applied(input: Input, p: AllocationPlan): Input {
  const merge = <T extends { id: string }>(old: readonly T[], changed: readonly T[]): T[] => {
    const byId = new Map(old.map((o) => [o.id, o]));
    for (const c of changed) byId.set(c.id, c);
    return [...byId.values()];
  };
  return { ...input, services: merge(input.services, p.services), tasks: merge(input.tasks, p.tasks), nodes: merge(input.nodes ?? [], p.nodes) };
}

/** Plans, applies, and checks that planning again changes nothing (idempotence). */
function settle(input: Input): { state: Input; plan: AllocationPlan } {
  const p = plan(input);
  const state = applied(input, p);
  const again = plan(state);
  expect([again.services, again.nodes, again.tasks]).toEqual([[], [], []]);
  return { state, plan: p };
}

const svcOf = (state: Input, id: string): Service => state.services.find((s) => s.id === id)!;
const published = (s: Service): number[] => s.endpoint!.ports.map((p) => p.publishedPort);

describe('published ports', () => {
  it('takes a given port as is and an automatic one from 30000-32767; host-mode ports are stored, not allocated', () => {
    const web = service('web', [port(80, 8080), port(443), port(53, 0, { protocol: 'UDP' }), port(9000, 0, { publishMode: 'HOST' })]);
    const { state } = settle({ networks: [INGRESS], services: [web], tasks: [] });
    const got = svcOf(state, 'web').endpoint!;
    expect(got.ports).toEqual([port(80, 8080), port(443, 30000), port(53, 30000, { protocol: 'UDP' }), port(9000, 0, { publishMode: 'HOST' })]);
    expect(got.spec).toEqual(web.spec.endpoint);
  });

  it('keeps a service\'s automatic ports through an update, by target and protocol, and frees the ones it drops', () => {
    const { state } = settle({ networks: [INGRESS], services: [service('web', [port(80), port(443)])], tasks: [] });
    expect(published(svcOf(state, 'web'))).toEqual([30000, 30001]);
    const withPorts = (s: Service, ports: PortConfig[]): Service => ({ ...s, spec: { ...s.spec, endpoint: { mode: 'VIP', ports } } });
    const { state: after } = settle({ ...state, services: [withPorts(svcOf(state, 'web'), [port(443)])] });
    expect(published(svcOf(after, 'web'))).toEqual([30001]);
    // 30000 is free again: a given port of another service may take it.
    const { state: last } = settle({ ...after, services: [...after.services, service('api', [port(1, 30000)], { createdAtMs: 5 })] });
    expect(published(svcOf(last, 'api'))).toEqual([30000]);
  });

  it('never gives one port/protocol to two services: the later one\'s tasks wait with IPAM_PORT_IN_USE, the holder keeps it', () => {
    const { state } = settle({ networks: [INGRESS], services: [service('web', [port(80, 8080)])], tasks: [] });
    const api = service('api', [port(81, 8080)], { createdAtMs: 5 });
    const udp = service('dns', [port(53, 8080, { protocol: 'UDP' })], { createdAtMs: 6 });
    const input = { ...state, services: [...state.services, api, udp], tasks: [task('t1', api), task('t2', udp)] };
    const p = plan(input);
    expect(p.serviceFailures.get('api')?.code).toBe('IPAM_PORT_IN_USE');
    expect(p.serviceFailures.get('api')?.details.owner).toBe('service svc-web');
    expect(p.tasks.find((t) => t.id === 't1')!.status).toMatchObject({ state: 'NEW', err: expect.stringMatching(/^port allocation failed: /) });
    // The same port over UDP is another port.
    expect(p.serviceFailures.has('dns')).toBe(false);
    expect(p.tasks.find((t) => t.id === 't2')!.status.state).toBe('PENDING');
    expect(p.services.map((s) => s.id)).not.toContain('web');
    // Once the holder is removed (pendingDelete, then gone), the waiting service gets the port.
    const removing = applied(input, p);
    const freed = plan({ ...removing, services: removing.services.map((s) => (s.id === 'web' ? { ...s, pendingDelete: true } : s)) });
    expect(freed.serviceFailures.size).toBe(0);
    expect(published(freed.services.find((s) => s.id === 'api')!)).toEqual([8080]);
    expect(freed.tasks.find((t) => t.id === 't1')!.status.state).toBe('PENDING');
  });

  it('is rebuilt from the services alone: a new leader (no cursor hints) hands out no port in use', () => {
    const first = settle({ networks: [INGRESS], services: [service('a', [port(80), port(81)]), service('b', [port(80, 30002)], { createdAtMs: 1 })], tasks: [] });
    expect([published(svcOf(first.state, 'a')), published(svcOf(first.state, 'b'))]).toEqual([[30000, 30001], [30002]]);
    // A fresh planner: only the stored services say what is taken.
    const next = plan({ ...first.state, services: [...first.state.services, service('c', [port(80), port(80, 0, { protocol: 'UDP' })], { createdAtMs: 2 })] });
    expect(published(next.services.find((s) => s.id === 'c')!)).toEqual([30003, 30000]);
    // Without a's services, its ports are free at once; with the previous pass's cursor hint, a
    // removed service's automatic ports rest a while instead.
    const withoutA = { ...first.state, services: [svcOf(first.state, 'b'), service('c', [port(80)], { createdAtMs: 2 })] };
    expect(published(plan(withoutA).services.find((s) => s.id === 'c')!)).toEqual([30000]);
    expect(published(plan({ ...withoutA, portCursors: first.plan.portCursors }).services.find((s) => s.id === 'c')!)).toEqual([30003]);
  });

  it('gives up with IPAM_PORTS_EXHAUSTED when the range is full', () => {
    const p = plan({ networks: [INGRESS], services: [service('a', [port(80), port(81), port(82)])], tasks: [], portRange: { start: 31000, end: 31001 } });
    expect(p.serviceFailures.get('a')?.code).toBe('IPAM_PORTS_EXHAUSTED');
    expect(p.services).toEqual([]);
  });
});

describe('the ingress network for services, tasks and nodes', () => {
  it('gives a VIP-mode publishing service a VIP on ingress first, and each new task an ingress attachment first and the endpoint', () => {
    const web = service('web', [port(80, 8080)], { networks: ['app'] });
    const { state } = settle({ networks: [INGRESS, APP], services: [web], tasks: [task('t1', web)] });
    const endpoint = svcOf(state, 'web').endpoint!;
    expect(endpoint.virtualIps).toEqual([{ networkId: 'ing', addr: '10.0.0.2/24' }, { networkId: 'app', addr: '10.0.1.2/24' }]);
    const t1 = state.tasks[0]!;
    expect(t1.status.state).toBe('PENDING');
    expect(t1.networks).toEqual([
      { networkId: 'ing', addresses: ['10.0.0.3/24'], aliases: [], network: INGRESS },
      { networkId: 'app', addresses: ['10.0.1.3/24'], aliases: [], network: APP },
    ]);
    expect(t1.endpoint).toEqual(endpoint);
    expect(t1.endpoint!.ports[0]!.publishedPort).toBe(8080);
  });

  it('gives no ingress VIP or attachment to a dnsrr service or one publishing in host mode only', () => {
    const dnsrr = service('rr', [port(80, 8080, { publishMode: 'HOST' })], { networks: ['app'], mode: 'DNSRR' });
    const host = service('h', [port(81, 8081, { publishMode: 'HOST' })], { networks: ['app'] });
    const { state } = settle({ networks: [INGRESS, APP], services: [dnsrr, host], tasks: [task('t1', dnsrr), task('t2', host)] });
    expect(svcOf(state, 'rr').endpoint!.virtualIps).toEqual([]);
    expect(svcOf(state, 'h').endpoint!.virtualIps.map((v) => v.networkId)).toEqual(['app']);
    for (const t of state.tasks) expect(t.networks.map((a) => a.networkId)).toEqual(['app']);
  });

  it('keeps the tasks of a publishing service NEW with NETWORK_INGRESS_MISSING while there is no ingress network', () => {
    const web = service('web', [port(80, 8080)]);
    const p = plan({ networks: [APP], services: [web], tasks: [task('t1', web)] });
    expect(p.serviceFailures.get('web')?.code).toBe('NETWORK_INGRESS_MISSING');
    expect(p.tasks[0]!.status).toMatchObject({ state: 'NEW', err: expect.stringMatching(/^network allocation failed: /) });
    // The same failure again writes nothing.
    expect(plan(applied({ networks: [APP], services: [web], tasks: [task('t1', web)] }, p)).tasks).toEqual([]);
  });

  it('gives every node one load-balancer address on ingress, never one a task or VIP holds, and frees it with the node', () => {
    // A /29 has 5 usable addresses: the VIP, the task, n1 and n2 leave one.
    const small = network('ing', '10.0.0.0/29', true);
    const web = service('web', [port(80, 8080)]);
    const { state } = settle({ networks: [small], services: [web], tasks: [task('t1', web)], nodes: [node('n1'), node('n2')] });
    const lb = (id: string): string[] => state.nodes!.find((n) => n.id === id)!.attachments.flatMap((a) => a.addresses);
    expect(state.nodes!.map((n) => n.attachments.map((a) => [a.networkId, a.network]))).toEqual([[['ing', small]], [['ing', small]]]);
    const held = [...lb('n1'), ...lb('n2'), ...svcOf(state, 'web').endpoint!.virtualIps.map((v) => v.addr), ...state.tasks[0]!.networks[0]!.addresses];
    expect(new Set(held).size).toBe(4);
    // n1 leaves the store (node rm): n3 takes the last free address and n4 the one n1 freed.
    const without = { ...state, nodes: [state.nodes![1]!, node('n3'), node('n4')] };
    const after = plan(without);
    expect(after.nodes.map((n) => [n.id, n.attachments[0]!.addresses])).toEqual([['n3', ['10.0.0.6/29']], ['n4', lb('n1')]]);
    // A node the network has no address left for gets none (and its pass writes nothing for it).
    const now = applied(without, after);
    expect(plan({ ...now, nodes: [...now.nodes!, node('n5')] }).nodes).toEqual([]);
  });

  it('drops node attachments on a network that is gone (ingress removed)', () => {
    const web = service('web', [port(80, 8080)]);
    const { state } = settle({ networks: [INGRESS], services: [web], tasks: [], nodes: [node('n1')] });
    expect(state.nodes![0]!.attachments).toHaveLength(1);
    const p = plan({ ...state, networks: [] });
    expect(p.nodes.map((n) => [n.id, n.attachments])).toEqual([['n1', []]]);
  });

  it('gives nodes an ingress address only while some service publishes through the mesh', () => {
    const quiet = settle({ networks: [INGRESS], services: [service('db', [])], tasks: [], nodes: [node('n1')] }).state;
    expect(quiet.nodes![0]!.attachments).toEqual([]);
    const web = service('web', [port(80, 8080)]);
    const busy = settle({ ...quiet, services: [...quiet.services, web] }).state;
    expect(busy.nodes![0]!.attachments.map((a) => a.networkId)).toEqual([INGRESS.id]);
    const gone = plan({ ...busy, services: busy.services.map((s) => (s.id === 'web' ? { ...s, pendingDelete: true } : s)) });
    expect(gone.nodes.map((n) => [n.id, n.attachments])).toEqual([['n1', []]]);
  });
});
