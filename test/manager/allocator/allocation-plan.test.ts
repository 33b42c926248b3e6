import { describe, expect, it } from 'vitest';
import { planAllocation, type AllocationInput } from '../../../src/manager/allocator/index.js';
import type { Network, Service, Task, TaskState } from '../../../src/objects/index.js';

/** The pure allocation decisions: VIPs and task attachments from the store's objects alone. */

const meta = { version: 1, createdAtMs: 0, updatedAtMs: 0 };

function network(id: string, subnet: string, gateway: string, extra: Partial<Network['spec']> = {}, range = ''): Network {
  return {
    id, meta, vni: 4097, driverState: {}, pendingDelete: false,
    spec: { annotations: { name: `net-${id}`, labels: {} }, driver: 'overlay', driverOptions: {}, internal: false, attachable: false, ingress: false, ...extra },
    ipam: { driver: 'default', configs: [{ subnet, gateway, range }] },
  };
}

function service(id: string, networks: string[], mode: 'VIP' | 'DNSRR' = 'VIP', virtualIps: Array<{ networkId: string; addr: string }> = []): Service {
  return {
    id, meta, pendingDelete: false,
    spec: {
      annotations: { name: `svc-${id}`, labels: {} },
      task: { runtime: 'PROCESS', image: 'sleep', command: [], args: [], env: [], hostname: '', dir: '', user: '', stopGracePeriodMs: 0, networks: networks.map((target) => ({ target, aliases: [] })), forceUpdate: 0 },
      replicated: { replicas: 1 },
      endpoint: { mode, ports: [] },
    },
    endpoint: { spec: { mode, ports: [] }, ports: [], virtualIps },
  };
}

function task(id: string, networks: Array<{ target: string; aliases?: string[] }>, state: TaskState = 'NEW', held: Task['networks'] = []): Task {
  return {
    id, meta, serviceId: 's1', slot: 1, nodeId: '', desiredState: 'RUNNING', specVersion: 1,
    spec: { runtime: 'PROCESS', image: 'sleep', command: [], args: [], env: [], hostname: '', dir: '', user: '', stopGracePeriodMs: 0, networks: networks.map((n) => ({ target: n.target, aliases: n.aliases ?? [] })), forceUpdate: 0 },
    status: { state, message: '', err: '', timestampMs: 0 },
    networks: held,
  };
}

const plan = (input: Omit<AllocationInput, 'nowMs'>): ReturnType<typeof planAllocation> => planAllocation({ ...input, nowMs: 42 });

/** Applies a plan to the objects, as the store would. */
function applied(input: Omit<AllocationInput, 'nowMs'>, p: ReturnType<typeof planAllocation>): Omit<AllocationInput, 'nowMs'> {
  const services = new Map(input.services.map((s) => [s.id, s]));
  for (const s of p.services) services.set(s.id, s);
  const tasks = new Map(input.tasks.map((t) => [t.id, t]));
  for (const t of p.tasks) tasks.set(t.id, t);
  return { networks: input.networks, services: [...services.values()], tasks: [...tasks.values()] };
}

const addressesOf = (tasks: readonly Task[]): string[] => tasks.flatMap((t) => t.networks.flatMap((a) => a.addresses));

describe('planAllocation', () => {
  it('gives each NEW task one attachment per network with its own address, the aliases and the Network, and makes it PENDING', () => {
    const a = network('a', '10.0.1.0/24', '10.0.1.1');
    const b = network('b', '10.0.2.0/24', '10.0.2.1');
    const tasks = [task('t1', [{ target: 'a', aliases: ['web'] }, { target: 'b' }]), task('t2', [{ target: 'a' }]), task('t3', [])];
    const p = plan({ networks: [a, b], services: [], tasks });
    expect(p.tasks.map((t) => t.status.state)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    const t1 = p.tasks[0]!;
    expect(t1.networks).toEqual([
      { networkId: 'a', addresses: ['10.0.1.2/24'], aliases: ['web'], network: a },
      { networkId: 'b', addresses: ['10.0.2.2/24'], aliases: [], network: b },
    ]);
    expect(p.tasks[1]!.networks[0]!.addresses).toEqual(['10.0.1.3/24']);
    expect(p.tasks[2]!.networks).toEqual([]);
    expect(p.tasks[0]!.status).toMatchObject({ message: 'pending task scheduling', timestampMs: 42 });
  });

  it('gives a VIP-mode service one VIP per network, a dnsrr service none, and tasks other addresses', () => {
    const a = network('a', '10.0.1.0/24', '10.0.1.1');
    const input = { networks: [a], services: [service('s1', ['a']), service('s2', ['a'], 'DNSRR')], tasks: [task('t1', [{ target: 'a' }])] };
    const p = plan(input);
    expect(p.services.map((s) => [s.id, s.endpoint!.virtualIps])).toEqual([['s1', [{ networkId: 'a', addr: '10.0.1.2/24' }]]]);
    expect(addressesOf(p.tasks)).toEqual(['10.0.1.3/24']);
    // Idempotent: planned again on what it wrote, nothing changes.
    const again = plan(applied(input, p));
    expect(again.services).toEqual([]);
    expect(again.tasks).toEqual([]);
  });

  it('drops the VIP of a network the service left and keeps the others', () => {
    const a = network('a', '10.0.1.0/24', '10.0.1.1');
    const b = network('b', '10.0.2.0/24', '10.0.2.1');
    const s = service('s1', ['b'], 'VIP', [{ networkId: 'a', addr: '10.0.1.2/24' }, { networkId: 'b', addr: '10.0.2.7/24' }]);
    const p = plan({ networks: [a, b], services: [s], tasks: [] });
    expect(p.services[0]!.endpoint!.virtualIps).toEqual([{ networkId: 'b', addr: '10.0.2.7/24' }]);
  });

  it('never hands out an address a live task or VIP holds, rebuilt from the objects alone (a new leader)', () => {
    const a = network('a', '10.0.1.0/24', '10.0.1.1');
    const held = (addr: string): Task['networks'] => [{ networkId: 'a', addresses: [addr], aliases: [], network: a }];
    const tasks = [task('old1', [{ target: 'a' }], 'RUNNING', held('10.0.1.2/24')), task('old2', [{ target: 'a' }], 'PENDING', held('10.0.1.4/24')), task('new1', [{ target: 'a' }]), task('new2', [{ target: 'a' }])];
    const p = plan({ networks: [a], services: [service('s1', ['a'], 'VIP', [{ networkId: 'a', addr: '10.0.1.3/24' }])], tasks });
    const fresh = addressesOf(p.tasks);
    expect(fresh).toHaveLength(2);
    for (const addr of fresh) expect(['10.0.1.2/24', '10.0.1.3/24', '10.0.1.4/24']).not.toContain(addr);
    expect(new Set(fresh).size).toBe(2);
  });

  it('releases the address of a task in a terminal state, and of one deleted from the store', () => {
    // A /30 holds one task address besides the gateway.
    const tiny = network('a', '10.9.0.0/30', '10.9.0.1');
    const holder = task('holder', [{ target: 'a' }], 'RUNNING', [{ networkId: 'a', addresses: ['10.9.0.2/30'], aliases: [], network: tiny }]);
    const waiting = task('waiting', [{ target: 'a' }]);
    const blocked = plan({ networks: [tiny], services: [], tasks: [holder, waiting] });
    expect(blocked.tasks).toHaveLength(1);
    expect(blocked.tasks[0]!.status.state).toBe('NEW');
    expect(blocked.tasks[0]!.status.err).toMatch(/^network allocation failed: /);
    // The same failure again writes nothing.
    expect(plan(applied({ networks: [tiny], services: [], tasks: [holder, waiting] }, blocked)).tasks).toEqual([]);

    for (const state of ['COMPLETE', 'FAILED', 'SHUTDOWN', 'REJECTED', 'ORPHANED'] as const) {
      const done = { ...holder, status: { ...holder.status, state } };
      const p = plan({ networks: [tiny], services: [], tasks: [done, waiting] });
      expect(p.tasks.map((t) => [t.id, t.status.state, addressesOf([t])])).toEqual([['waiting', 'PENDING', ['10.9.0.2/30']]]);
    }
    const deleted = plan({ networks: [tiny], services: [], tasks: [waiting] });
    expect(addressesOf(deleted.tasks)).toEqual(['10.9.0.2/30']);
  });

  it('allocates all of a task\'s networks or none', () => {
    const a = network('a', '10.0.1.0/24', '10.0.1.1');
    const tiny = network('b', '10.9.0.0/30', '10.9.0.1');
    const holder = task('holder', [{ target: 'b' }], 'RUNNING', [{ networkId: 'b', addresses: ['10.9.0.2/30'], aliases: [], network: tiny }]);
    const p = plan({ networks: [a, tiny], services: [], tasks: [holder, task('both', [{ target: 'a' }, { target: 'b' }]), task('justA', [{ target: 'a' }])] });
    const both = p.tasks.find((t) => t.id === 'both')!;
    expect(both.status.state).toBe('NEW');
    expect(both.networks).toEqual([]);
    // The address "both" took on a and gave back is the next task's.
    expect(addressesOf(p.tasks.filter((t) => t.id === 'justA'))).toEqual(['10.0.1.3/24']);
  });

  it('keeps a task NEW, with the reason, while its network does not exist', () => {
    const p = plan({ networks: [], services: [], tasks: [task('t1', [{ target: 'gone' }])] });
    expect(p.tasks[0]!.status).toMatchObject({ state: 'NEW', err: expect.stringContaining('gone') });
  });

  it('takes task addresses from --ip-range only, and resumes the search after the cursor hint', () => {
    const a = network('a', '10.0.0.0/16', '10.0.0.1', {}, '10.0.5.0/24');
    const p = plan({ networks: [a], services: [], tasks: [task('t1', [{ target: 'a' }]), task('t2', [{ target: 'a' }])] });
    expect(addressesOf(p.tasks)).toEqual(['10.0.5.0/16', '10.0.5.1/16']);
    const next = plan({ networks: [a], services: [], tasks: [task('t3', [{ target: 'a' }])], cursors: p.cursors });
    // t1 and t2 are gone (deleted), yet the search goes on after them.
    expect(addressesOf(next.tasks)).toEqual(['10.0.5.2/16']);
  });
});

describe('planAllocation and task endpoints', () => {
  it('copies the service\'s endpoint with the VIPs of this pass into each task it allocates', () => {
    const a = network('a', '10.0.1.0/24', '10.0.1.1');
    const t = { ...task('t1', [{ target: 'a' }]), serviceId: 's1' };
    const p = plan({ networks: [a], services: [service('s1', ['a'])], tasks: [t] });
    expect(p.tasks[0]!.endpoint!.virtualIps).toEqual([{ networkId: 'a', addr: '10.0.1.2/24' }]);
  });
});
