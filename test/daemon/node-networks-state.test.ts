import { describe, expect, it } from 'vitest';
import type { NetworkSpec } from '../../src/dataplane/model.js';
import type { LocalNetworkEndpoint } from '../../src/daemon/local-network-view.js';
import {
  RemoteEndpointTable,
  composeDesired,
  decodeEndpoint,
  encodeEndpoint,
  gossipSteps,
  networkView,
  publication,
  type Publication,
} from '../../src/daemon/node-networks-state.js';
import type { LocalEndpoint } from '../../src/worker/sandbox/dataplane-sandboxes.js';

/** The pure decisions of the node networks: gossip joins and entries, remotes from table events. */
const self = { nodeId: 'nodeA', vtep: '10.77.0.1' };
const owner = { taskName: 'web.1.t1', serviceId: 'svc1', serviceName: 'web' };

function ep(taskId: string, network: string, ip: string): LocalEndpoint {
  const mac = `02:42:${ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`;
  return { taskId, network, ip, mac, owner };
}

function remoteValue(taskId: string, ip: string, nodeId: string, vtep: string): LocalNetworkEndpoint {
  const mac = `02:42:${ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`;
  return { taskId, taskName: `web.2.${taskId}`, serviceId: 'svc1', serviceName: 'web', ip, mac, vtep, nodeId };
}

const NET: NetworkSpec = { id: 'net1', vni: 4097, subnet: '10.0.1.0/24', gateway: '10.0.1.1', encrypted: false, ingress: false };

describe('what the node publishes in gossip', () => {
  it('one entry per local endpoint, keyed by task ID, in the endpoint\'s network; a network per endpoint network', () => {
    const pub = publication([ep('t1', 'net1', '10.0.1.5'), ep('t1', 'net2', '10.0.2.5'), ep('t2', 'net1', '10.0.1.6')], self);
    expect([...pub.keys()]).toEqual(['net1', 'net2']);
    expect([...(pub.get('net1')?.keys() ?? [])]).toEqual(['t1', 't2']);
    expect(JSON.parse(pub.get('net1')?.get('t1') ?? '')).toEqual({
      taskId: 't1', taskName: 'web.1.t1', serviceId: 'svc1', serviceName: 'web', ip: '10.0.1.5', mac: '02:42:0a:00:01:05', vtep: '10.77.0.1', nodeId: 'nodeA',
    });
  });

  it('joins before putting, deletes before leaving, and does nothing when gossip already holds it', () => {
    const empty: Publication = new Map();
    const one = publication([ep('t1', 'net1', '10.0.1.5')], self);
    const two = publication([ep('t1', 'net1', '10.0.1.5'), ep('t2', 'net2', '10.0.2.6')], self);
    expect(gossipSteps(one, empty)).toEqual({ join: ['net1'], put: [{ network: 'net1', key: 't1', value: one.get('net1')?.get('t1') }], delete: [], leave: [] });
    expect(gossipSteps(one, one)).toEqual({ join: [], put: [], delete: [], leave: [] });
    expect(gossipSteps(two, one)).toEqual({ join: ['net2'], put: [{ network: 'net2', key: 't2', value: two.get('net2')?.get('t2') }], delete: [], leave: [] });
    expect(gossipSteps(one, two)).toEqual({ join: [], put: [], delete: [{ network: 'net2', key: 't2' }], leave: ['net2'] });
    expect(gossipSteps(empty, two)).toEqual({ join: [], put: [], delete: [{ network: 'net1', key: 't1' }, { network: 'net2', key: 't2' }], leave: ['net1', 'net2'] });
    // Same task, another address (a changed value): put again, no delete.
    const moved = publication([ep('t1', 'net1', '10.0.1.9')], self);
    expect(gossipSteps(moved, one)).toMatchObject({ join: [], delete: [], leave: [], put: [{ network: 'net1', key: 't1' }] });
  });
});

describe('remote endpoints from table events', () => {
  const value = (v: LocalNetworkEndpoint) => encodeEndpoint(v);

  it('turns other nodes\' creates into remotes, withdraws them on delete, ignores this node\'s own entries', () => {
    const t = new RemoteEndpointTable('nodeA');
    expect(t.apply({ action: 'create', network: 'net1', key: 't9', owner: 'nodeB', value: value(remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.2')) })).toEqual({ changed: true });
    expect(t.apply({ action: 'create', network: 'net1', key: 't1', owner: 'nodeA', value: value(remoteValue('t1', '10.0.1.5', 'nodeA', '10.77.0.1')) })).toEqual({ changed: false });
    expect(t.remotes()).toEqual([{ network: 'net1', ip: '10.0.1.9', mac: '02:42:0a:00:01:09', vtep: '10.77.0.2' }]);
    expect(t.apply({ action: 'update', network: 'net1', key: 't9', owner: 'nodeB', value: value(remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.7')) }).changed).toBe(true);
    expect(t.remotes().map((r) => r.vtep)).toEqual(['10.77.0.7']);
    expect(t.apply({ action: 'delete', network: 'net1', key: 't9', owner: 'nodeB', value: new Uint8Array() })).toEqual({ changed: true });
    expect(t.apply({ action: 'delete', network: 'net1', key: 't9', owner: 'nodeB', value: new Uint8Array() })).toEqual({ changed: false });
    expect(t.remotes()).toEqual([]);
    expect(t.size).toBe(0);
  });

  it('ignores malformed values (and drops what the key held), and values that claim another node', () => {
    const t = new RemoteEndpointTable('nodeA');
    t.apply({ action: 'create', network: 'net1', key: 't9', owner: 'nodeB', value: value(remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.2')) });
    const bad = [
      new TextEncoder().encode('not json'),
      new Uint8Array([0xff, 0xfe]),
      value({ ...remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.2'), ip: '10.0.1.999' }),
      value({ ...remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.2'), mac: 'zz' }),
      value({ ...remoteValue('t9', '10.0.1.9', 'nodeB', 'host.example') }),
      value(remoteValue('t9', '10.0.1.9', 'nodeC', '10.77.0.2')),
    ];
    for (const v of bad) {
      const r = t.apply({ action: 'update', network: 'net1', key: 't9', owner: 'nodeB', value: v });
      expect(r.invalid).toBeDefined();
      expect(t.remotes()).toEqual([]);
    }
    expect(typeof decodeEndpoint(new TextEncoder().encode('{}'))).toBe('string');
  });

  it('gives one remote per address: the most recently announced entry wins', () => {
    const t = new RemoteEndpointTable('nodeA');
    t.apply({ action: 'create', network: 'net1', key: 'old', owner: 'nodeB', value: value(remoteValue('old', '10.0.1.9', 'nodeB', '10.77.0.2')) });
    t.apply({ action: 'create', network: 'net1', key: 'new', owner: 'nodeC', value: value(remoteValue('new', '10.0.1.9', 'nodeC', '10.77.0.3')) });
    expect(t.remotes().map((r) => r.vtep)).toEqual(['10.77.0.3']);
    t.apply({ action: 'delete', network: 'net1', key: 'new', owner: 'nodeC', value: new Uint8Array() });
    expect(t.remotes().map((r) => r.vtep)).toEqual(['10.77.0.2']);
  });
});

describe('the node\'s whole desired state', () => {
  it('adds the remotes of the local networks only, and never over an address a local sandbox holds', () => {
    const local = { networks: [NET], sandboxes: [{ id: 't1', endpoints: [{ network: 'net1', ip: '10.0.1.5', mac: '02:42:0a:00:01:05' }], gateway: true }] };
    const remotes = [
      { network: 'net1', ip: '10.0.1.5', mac: '02:42:0a:00:01:05', vtep: '10.77.0.2' },
      { network: 'net1', ip: '10.0.1.9', mac: '02:42:0a:00:01:09', vtep: '10.77.0.2' },
      { network: 'net2', ip: '10.0.2.9', mac: '02:42:0a:00:02:09', vtep: '10.77.0.2' },
    ];
    expect(composeDesired(local, remotes)).toEqual({ ...local, remotes: [remotes[1]] });
  });

  it('builds the inspect view from the network\'s members and its valid entries', () => {
    const v = networkView(
      'nodeA',
      [{ id: 'nodeA', addr: '10.77.0.1:7946', state: 'alive', incarnation: 0 }, { id: 'nodeB', addr: '10.77.0.2:7946', state: 'suspect', incarnation: 2 }],
      [
        { key: 't9', owner: 'nodeB', lamport: 3, value: encodeEndpoint(remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.2')) },
        { key: 'zz', owner: 'nodeB', lamport: 4, value: new TextEncoder().encode('garbage') },
      ],
    );
    expect(v).toEqual({
      localNodeId: 'nodeA',
      peers: [{ nodeId: 'nodeA', addr: '10.77.0.1:7946' }, { nodeId: 'nodeB', addr: '10.77.0.2:7946' }],
      endpoints: [remoteValue('t9', '10.0.1.9', 'nodeB', '10.77.0.2')],
    });
  });
});
