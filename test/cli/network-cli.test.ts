import { describe, expect, it } from 'vitest';
import { networkCreateSpec } from '../../src/cli/commands/network/create.js';
import { inspectNetwork, networkRow } from '../../src/cli/commands/network/network-view.js';
import { updatedSpec } from '../../src/cli/commands/service/update.js';
import { normalizeNetworkSpec } from '../../src/manager/controlapi/network-spec.js';
import { normalizeServiceSpec } from '../../src/manager/controlapi/service-spec.js';
import type { GetNetworkResponse, ServiceSummary } from '../../src/manager/controlapi/messages.js';
import type { Network, Service } from '../../src/objects/index.js';
import { codeOf } from '../support/errors.js';

/** The network commands' pure parts: the spec from the flags, and Docker's ls and inspect shapes. */

const network: Network = {
  id: 'abcdefghijklmnopqrstuvwxy', meta: { version: 3, createdAtMs: Date.UTC(2026, 0, 2, 3, 4, 5), updatedAtMs: 0 }, pendingDelete: false,
  spec: {
    annotations: { name: 'appnet', labels: { team: 'a' } }, driver: 'overlay', driverOptions: { 'com.docker.network.driver.mtu': '1400' },
    internal: false, attachable: true, ingress: false, ipam: { driver: 'default', configs: [] },
  },
  vni: 4097, driverState: { 'com.docker.network.driver.overlay.vxlanid_list': '4097' },
  ipam: { driver: 'default', configs: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1', range: '' }] },
};

describe('network create flags', () => {
  it('makes the spec Docker\'s flags describe, which the managers accept', () => {
    const spec = networkCreateSpec('appnet', { subnet: ['10.5.0.0/16'], gateway: ['10.5.0.254'], ipRange: ['10.5.1.0/24'], opt: ['com.docker.network.driver.mtu=1400'], label: ['team=a'], attachable: true });
    expect(spec).toEqual({
      annotations: { name: 'appnet', labels: { team: 'a' } }, driver: 'overlay', driverOptions: { 'com.docker.network.driver.mtu': '1400' },
      attachable: true, ingress: false, internal: false, ipam: { driver: 'default', configs: [{ subnet: '10.5.0.0/16', gateway: '10.5.0.254', range: '10.5.1.0/24' }] },
    });
    expect(normalizeNetworkSpec(spec).ipam!.configs).toEqual([{ subnet: '10.5.0.0/16', gateway: '10.5.0.254', range: '10.5.1.0/24' }]);
  });

  it('passes -o encrypted on, so that the managers refuse it', () => {
    const spec = networkCreateSpec('sealed', { opt: ['encrypted'] });
    expect(spec.driverOptions).toEqual({ encrypted: '' });
    expect(codeOf(() => normalizeNetworkSpec(spec))).toBe('NETWORK_ENCRYPTION_UNSUPPORTED');
    expect(codeOf(() => networkCreateSpec('x', { opt: ['=1'] }))).toBe('NETWORK_INVALID_OPTION');
  });
});

describe('network ls and inspect', () => {
  it('lists Docker\'s columns with the swarm scope', () => {
    expect(networkRow(network)).toEqual({ ID: network.id, Name: 'appnet', Driver: 'overlay', Scope: 'swarm' });
  });

  it('inspects as Docker does, the VXLAN ID among the options', () => {
    const res: GetNetworkResponse = { network, services: [], localNodeId: '', peers: [], endpoints: [] };
    expect(inspectNetwork(res, false)).toEqual({
      Name: 'appnet', Id: network.id, Created: '2026-01-02T03:04:05.000Z', Scope: 'swarm', Driver: 'overlay', EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }] },
      Internal: false, Attachable: true, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: null,
      Options: { 'com.docker.network.driver.mtu': '1400', 'com.docker.network.driver.overlay.vxlanid_list': '4097' },
      Labels: { team: 'a' },
    });
  });

  it('adds Peers and Services from this node\'s view when verbose', () => {
    const res: GetNetworkResponse = {
      network, services: ['web', 'idle'], localNodeId: 'n1',
      peers: [{ nodeId: 'n1', addr: '10.77.0.1:7946' }, { nodeId: 'n2', addr: '10.77.0.2:7946' }],
      endpoints: [
        { taskId: 't2', taskName: 'web.2.t2', serviceId: 's1', serviceName: 'web', ip: '10.0.1.4/24', mac: '02:42:0a:00:01:04', vtep: '10.77.0.2', nodeId: 'n2' },
        { taskId: 't1', taskName: 'web.1.t1', serviceId: 's1', serviceName: 'web', ip: '10.0.1.3', mac: '02:42:0a:00:01:03', vtep: '10.77.0.1', nodeId: 'n1' },
      ],
    };
    const withVip = (name: string, addr: string): ServiceSummary => ({
      service: { id: name, spec: { annotations: { name } }, endpoint: { ports: [], virtualIps: [{ networkId: network.id, addr }] } } as unknown as Service, running: 1, desired: 1,
    });
    const shown = inspectNetwork(res, true, [withVip('web', '10.0.1.2/24'), withVip('idle', '10.0.1.9/24')]);
    expect(shown.Peers).toEqual([{ Name: 'n1', IP: '10.77.0.1' }, { Name: 'n2', IP: '10.77.0.2' }]);
    expect(shown.Services).toEqual({
      web: {
        VIP: '10.0.1.2', Ports: [], LocalLBIndex: 0,
        Tasks: [
          { Name: 'web.1.t1', EndpointID: 't1', EndpointIP: '10.0.1.3', Info: { 'Host IP': '10.77.0.1' } },
          { Name: 'web.2.t2', EndpointID: 't2', EndpointIP: '10.0.1.4', Info: { 'Host IP': '10.77.0.2' } },
        ],
      },
      idle: { VIP: '10.0.1.9', Ports: [], LocalLBIndex: 0, Tasks: [] },
    });
  });
});

describe('service update --network-add / --network-rm', () => {
  it('removes a network named by its ID (as stored) and adds one by name', () => {
    const current = normalizeServiceSpec({ annotations: { name: 'web' }, task: { image: 'sleep', networks: [{ target: 'id-a' }, { target: 'id-b' }] } });
    const next = updatedSpec(current, { networkRm: ['a', 'id-a'], networkAdd: ['c'] });
    expect(next.task!.networks).toEqual([{ target: 'id-b', aliases: [] }, { target: 'c', aliases: [] }]);
  });
});
