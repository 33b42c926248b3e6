import type { Network, NetworkAttachment } from '../../../src/objects/index.js';

/** A Network object as the managers allocate it (what a task attachment carries). */
export function overlay(id: string, vni: number, subnet: string, gateway: string, over: { mtu?: string; ingress?: boolean } = {}): Network {
  return {
    id,
    meta: { version: 1, createdAtMs: 0, updatedAtMs: 0 },
    spec: {
      annotations: { name: `${id}-name`, labels: {} },
      driver: 'overlay',
      driverOptions: over.mtu !== undefined ? { 'com.docker.network.driver.mtu': over.mtu } : {},
      internal: false,
      attachable: false,
      ingress: over.ingress === true,
    },
    vni,
    driverState: {},
    ipam: { driver: 'default', configs: [{ subnet, range: '', gateway }] },
    pendingDelete: false,
  };
}

export function attach(net: Network, address: string): NetworkAttachment {
  return { networkId: net.id, addresses: [address], aliases: [], network: net };
}

export const NET1 = overlay('net1', 4097, '10.0.1.0/24', '10.0.1.1');
export const NET2 = overlay('net2', 4098, '10.0.2.0/24', '10.0.2.1', { mtu: '1400' });
