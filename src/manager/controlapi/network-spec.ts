import { TsswarmError } from '../../errors/index.js';
import type { DeepPartial, NetworkSpec } from '../../objects/index.js';
import { VXLAN_ID_OPTION } from '../allocator/index.js';

/**
 * `network create`'s spec checked and completed (pure): the name, the driver, the driver
 * options the overlay dataplane actually honours, and the IPAM request. Whether the subnet,
 * gateway and range fit together is the IPAM's to say (it names the flag at fault).
 */

/** The only driver there is: VXLAN overlays across the swarm's nodes. */
export const OVERLAY_DRIVER = 'overlay';
/** Docker's MTU option. */
export const MTU_OPTION = 'com.docker.network.driver.mtu';
/** Docker's option for sealed overlay traffic (refused until it is built). */
export const ENCRYPTED_OPTION = 'encrypted';

/**
 * MTU bounds: 576 is the smallest datagram every IPv4 host must accept (RFC 791), 9000 the
 * usual jumbo frame; the VXLAN header's 50 bytes come on top, so the underlay needs MTU + 50.
 */
export const MIN_MTU = 576;
export const MAX_MTU = 9000;

/** Names are DNS labels (services resolve each other on them), as service names are. */
const NETWORK_NAME = /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/;
const MAX_NAME_LENGTH = 63;

function invalid(option: string, value: unknown, reason: string): TsswarmError {
  return new TsswarmError('NETWORK_INVALID_OPTION', { option, value: JSON.stringify(value), reason });
}

export function checkNetworkName(name: string): void {
  if (name === '') throw invalid('NAME', name, 'a network needs a name');
  if (name.length > MAX_NAME_LENGTH) throw invalid('NAME', name, `a network name has at most ${MAX_NAME_LENGTH} characters`);
  if (!NETWORK_NAME.test(name)) {
    throw invalid('NAME', name, 'a network name is letters, digits, "-" and "_", starting and ending with a letter or digit (it is a DNS label)');
  }
}

/** The whole-number value of `-o KEY=N` within [min, max]. */
function wholeOption(key: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw invalid(`-o ${key}`, value, `it is a whole number from ${min} to ${max}`);
  return Number(value);
}

/** The VNI asked for with -o com.docker.network.driver.overlay.vxlanid_list, if any. */
export function requestedVni(spec: NetworkSpec): number | undefined {
  const value = spec.driverOptions[VXLAN_ID_OPTION];
  return value === undefined ? undefined : Number(value);
}

/**
 * Checks a network spec as the CLI sent it and returns it complete. Throws
 * NETWORK_INVALID_OPTION naming the flag at fault, or NETWORK_ENCRYPTION_UNSUPPORTED.
 */
export function normalizeNetworkSpec(input: DeepPartial<NetworkSpec>): NetworkSpec {
  const name = input.annotations?.name ?? '';
  checkNetworkName(name);
  const driver = input.driver === undefined || input.driver === '' ? OVERLAY_DRIVER : input.driver;
  if (driver !== OVERLAY_DRIVER) throw invalid('--driver', driver, 'swarm networks use the overlay driver (the only one there is)');
  const driverOptions: Record<string, string> = {};
  for (const [key, raw] of Object.entries(input.driverOptions ?? {})) {
    const value = raw ?? '';
    if (key === ENCRYPTED_OPTION) throw new TsswarmError('NETWORK_ENCRYPTION_UNSUPPORTED', { name });
    if (key === MTU_OPTION) driverOptions[key] = String(wholeOption(key, value, MIN_MTU, MAX_MTU));
    else if (key === VXLAN_ID_OPTION) driverOptions[key] = String(wholeOption(key, value, 1, 2 ** 24 - 1));
    else throw invalid(`-o ${key}`, value, `the overlay driver takes ${MTU_OPTION}=N and ${VXLAN_ID_OPTION}=N (encrypted is not built yet); other options would be ignored`);
  }
  // Refused like -o encrypted: the worker side still gives every task a way out through
  // docker_gwbridge, so an "internal" network would silently not be one.
  if (input.internal === true) {
    throw invalid('--internal', true, 'internal networks (tasks without a way out through docker_gwbridge) are not built yet, and the tasks would still reach outside');
  }
  const ingress = input.ingress ?? false;
  const attachable = input.attachable ?? false;
  if (ingress && attachable) throw invalid('--attachable', true, 'the ingress network carries only the routing mesh; containers cannot attach to it');
  const configs = input.ipam?.configs ?? [];
  if (configs.length > 1) throw invalid('--subnet', configs.map((c) => c.subnet ?? ''), 'an overlay network has one IPv4 subnet');
  const ipamDriver = input.ipam?.driver === undefined || input.ipam.driver === '' ? 'default' : input.ipam.driver;
  if (ipamDriver !== 'default') throw invalid('--ipam-driver', ipamDriver, 'the default IPAM driver is the only one');
  const config = configs[0];
  return {
    annotations: { name, labels: Object.fromEntries(Object.entries(input.annotations?.labels ?? {}).map(([k, v]) => [k, v ?? ''])) },
    driver,
    driverOptions,
    internal: false,
    attachable,
    ingress,
    ipam: {
      driver: ipamDriver,
      configs: config === undefined ? [] : [{ subnet: config.subnet ?? '', range: config.range ?? '', gateway: config.gateway ?? '' }],
    },
  };
}

/** Docker's name for the network of the routing mesh. */
export const INGRESS_NETWORK_NAME = 'ingress';

/**
 * The spec of the ingress network made at init, as swarmkit's newIngressNetwork: no subnet
 * given (it comes from the cluster's pools), no options.
 */
export function ingressNetworkSpec(): NetworkSpec {
  return normalizeNetworkSpec({ annotations: { name: INGRESS_NETWORK_NAME }, driver: OVERLAY_DRIVER, ingress: true });
}
