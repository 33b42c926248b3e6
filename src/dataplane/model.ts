import { z } from 'zod';
import { parseConfig } from '../config/parse-config.js';

/**
 * The declarative model of one node's dataplane, as the control plane hands it over:
 * networks, the local sandboxes with their endpoints, and the remote endpoints of each network.
 * Plain data; reconcile() makes the kernel match it.
 */

export interface NetworkSpec {
  /** The network's ID (cluster-wide, stable). Names its overlay namespace. */
  readonly id: string;
  /** VXLAN network identifier, 1..16777215 (swarm allocates from 4096 up). */
  readonly vni: number;
  /** e.g. "10.0.1.0/24" */
  readonly subnet: string;
  /** The gateway address held by the overlay bridge, e.g. "10.0.1.1". */
  readonly gateway: string;
  /** Overrides the MTU; default underlay MTU - 50 (VXLAN), - 26 more when encrypted. */
  readonly mtu?: number;
  readonly encrypted: boolean;
  readonly ingress: boolean;
}

export interface EndpointSpec {
  readonly network: string;
  readonly ip: string;
  readonly mac: string;
}

export interface PublishedPortSpec {
  readonly protocol: 'tcp' | 'udp';
  /** The port clients connect to on every host (1-65535). */
  readonly published: number;
  /** The port the tasks listen on (1-65535). */
  readonly target: number;
}

/** One service's load balancer inside one sandbox: each new connection to a frontend goes to one backend. */
export interface LoadBalancerSpec {
  /** The service's ID: keys its rules (stable across reconciles). */
  readonly service: string;
  /**
   * A service VIP: connections FROM this sandbox to this address (tcp/udp, any port) are
   * DNAT-ed to one backend, same port (Docker's VIP mode, done in the client's own sandbox as
   * Docker did before 18.09: no extra hop).
   */
  readonly vip?: string;
  /**
   * Published ports (the ingress sandbox only): connections ARRIVING at the sandbox on
   * `published` are DNAT-ed to one backend's `target` port.
   */
  readonly ports?: readonly PublishedPortSpec[];
  /** Task addresses (any order). Empty: connections to the frontend are refused at once. */
  readonly backends: readonly string[];
}

export interface SandboxSpec {
  /** The sandbox (task) ID; names its namespace. */
  readonly id: string;
  /** One interface per endpoint, eth0, eth1, ... in this order. */
  readonly endpoints: readonly EndpointSpec[];
  /** Whether it gets an interface on docker_gwbridge carrying its default route (default true). */
  readonly gateway?: boolean;
  /**
   * Adopt an existing network namespace instead of making one: an absolute nsfs path such as
   * /proc/PID/ns/net of a container's process. It is bind-mounted as the sandbox's nsfs file
   * when that file does not exist yet; on release the dataplane removes only that bind mount
   * and the interfaces it added, never the namespace or anything else in it.
   */
  readonly netnsFrom?: string;
  /** Load balancers programmed in this sandbox's namespace (an nft table of its own). */
  readonly loadBalancers?: readonly LoadBalancerSpec[];
  /**
   * Docker's ingress_sbox (at most one sandbox per node): it forwards, masquerades what it
   * sends out of its overlay endpoints (so replies come back through it), and the host
   * namespace DNATs every published port of its load balancers, for connections to any local
   * address of the host (127.0.0.1 too), to this sandbox's docker_gwbridge address.
   */
  readonly ingress?: boolean;
}

export interface RemoteEndpoint {
  readonly network: string;
  readonly ip: string;
  readonly mac: string;
  /** The remote host's VTEP (data-path) address. */
  readonly vtep: string;
}

export interface DesiredState {
  readonly networks: readonly NetworkSpec[];
  readonly sandboxes: readonly SandboxSpec[];
  readonly remotes: readonly RemoteEndpoint[];
}

export const EMPTY_DESIRED: DesiredState = { networks: [], sandboxes: [], remotes: [] };

const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'an IPv4 address');

/** The node-level settings of the dataplane. */
export const dataplaneConfigSchema = z.object({
  /**
   * The daemon's run directory; namespaces live in RUNDIR/netns so that several daemons on
   * one machine never collide. Default /run/tsswarm: tmpfs on most hosts, gone at reboot just
   * like the namespaces themselves.
   */
  runDir: z.string().min(1).default('/run/tsswarm'),
  /** This host's data-path (VTEP) address: the VXLAN source and what peers send to. */
  dataPathAddr: ipv4,
  /** UDP port of VXLAN traffic; 4789 is the IANA port and Docker's default (--data-path-port). */
  dataPathPort: z.number().int().min(1024).max(49151).default(4789),
  /** Underlay MTU in bytes; 1500 is Ethernet's. Overlay MTU = this - 50 (VXLAN header). */
  underlayMtu: z.number().int().min(1280).max(65535).default(1500),
  /** The gwbridge's name; Docker's, so that tools that know it keep working. */
  gwbridgeName: z.string().min(1).max(15).default('docker_gwbridge'),
  /**
   * The host namespace's nsfs file, for a test bed host; unset in production where the daemon
   * runs in its host namespace.
   */
  hostNsPath: z.string().optional(),
  /** nft table (family ip) holding the gwbridge's masquerade and isolation rules. */
  nftTable: z.string().min(1).default('tsswarm'),
  /** nft table (family ip) in the host namespace holding the routing mesh's DNAT of published ports. */
  ingressNftTable: z.string().min(1).default('tsswarm-ingress'),
});

export type DataplaneConfig = z.output<typeof dataplaneConfigSchema>;

export function parseDataplaneConfig(input: unknown): DataplaneConfig {
  return parseConfig('dataplane', dataplaneConfigSchema, input);
}
