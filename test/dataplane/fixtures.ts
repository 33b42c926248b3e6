import type { DesiredState, NetworkSpec, SandboxSpec } from '../../src/dataplane/model.js';
import { parseDataplaneConfig, type DataplaneConfig } from '../../src/dataplane/model.js';

/** Shared desired states for dataplane tests. */
export const NET_A: NetworkSpec = { id: 'neta', vni: 4097, subnet: '10.0.1.0/24', gateway: '10.0.1.1', encrypted: false, ingress: false };
export const NET_B: NetworkSpec = { id: 'netb', vni: 4098, subnet: '10.0.2.0/24', gateway: '10.0.2.1', encrypted: false, ingress: false };

export function mac(net: number, host: number): string {
  return `02:42:0a:00:${net.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`;
}

export function sandbox(id: string, eps: { net: NetworkSpec; host: number }[]): SandboxSpec {
  return {
    id,
    endpoints: eps.map(({ net, host }) => {
      const third = Number(net.subnet.split('.')[2]);
      return { network: net.id, ip: `10.0.${third}.${host}`, mac: mac(third, host) };
    }),
  };
}

export function config(dataPathAddr: string, extra: Record<string, unknown> = {}): DataplaneConfig {
  return parseDataplaneConfig({ dataPathAddr, runDir: '/run/tsswarm-test', ...extra });
}

/** Node 1's view: two sandboxes (one per network) and one remote endpoint on each network. */
export const DESIRED_NODE1: DesiredState = {
  networks: [NET_A, NET_B],
  sandboxes: [sandbox('t1', [{ net: NET_A, host: 2 }]), sandbox('t2', [{ net: NET_B, host: 2 }])],
  remotes: [
    { network: 'neta', ip: '10.0.1.3', mac: mac(1, 3), vtep: '10.77.0.2' },
    { network: 'netb', ip: '10.0.2.3', mac: mac(2, 3), vtep: '10.77.0.2' },
  ],
};
