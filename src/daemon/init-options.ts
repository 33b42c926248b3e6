import { isIPv4, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { TsswarmError } from '../errors/index.js';
import { parseDuration } from '../manager/controlapi/duration.js';
import type { InitClusterRequest } from '../manager/controlapi/messages.js';

const HOUR_MS = 3_600_000;

/** The defaults of `init`, Docker's (reference/swarm.md §1). */
export const INIT_DEFAULTS = {
  // TCP 2377 on every address: Docker's default listen address.
  listenAddr: '0.0.0.0:2377',
  // UDP 4789: the IANA VXLAN port, Docker's --data-path-port default.
  dataPathPort: 4789,
  // Docker's default address pool and the /24 carved from it per network.
  defaultAddrPools: ['10.0.0.0/8'],
  maskLength: 24,
  // ms between worker heartbeats: 5 s, Docker's; a node is down after 3 missed (15 s).
  dispatcherHeartbeatMs: 5_000,
  // ms a node certificate lives: 90 days (2160 h), Docker's.
  certExpiryMs: 2160 * HOUR_MS,
} as const;

/** The validated settings of one init. */
export interface InitOptions {
  readonly listenAddr: string;
  readonly advertiseAddr: string;
  readonly dataPathAddr: string;
  readonly dataPathPort: number;
  readonly defaultAddrPools: string[];
  readonly maskLength: number;
  readonly dispatcherHeartbeatMs: number;
  readonly certExpiryMs: number;
}

function bad(option: string, value: string | number, reason: string): TsswarmError {
  return new TsswarmError('SWARM_INVALID_OPTION', { option, value: JSON.stringify(value), reason });
}

/** ADDR[:PORT] (IPv6 as [ADDR]:PORT) into its parts; the address must be an IP. */
function parseHostPort(option: string, text: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (m === null || isIP(m[1]!) === 0) throw bad(option, text, 'it must be an IP address, optionally with :PORT (interface names are not supported)');
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(option, text, 'the port must be 1-65535');
  return { host: m[1]!, port };
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/**
 * Bridges the engines make for their containers' outside access: never what a host advertises,
 * and the routing mesh makes docker_gwbridge, so a host that left a swarm and joins again must
 * not find two addresses where it found one.
 */
const CONTAINER_BRIDGES = new Set(['docker_gwbridge', 'docker0']);

/** The one non-loopback IPv4 address of this host, as Docker picks when there is exactly one. */
function soleHostAddress(): string | undefined {
  const found = Object.entries(networkInterfaces())
    .filter(([name]) => !CONTAINER_BRIDGES.has(name))
    .flatMap(([, addrs]) => addrs ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
  return found.length === 1 ? found[0] : undefined;
}

function parseCidr(option: string, text: string): { prefix: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text);
  if (m === null || !isIPv4(m[1]!)) throw bad(option, text, 'it must be an IPv4 CIDR such as 10.0.0.0/8');
  const prefix = Number(m[2]);
  if (prefix < 1 || prefix > 30) throw bad(option, text, 'its prefix length must be 1-30');
  const value = m[1]!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  if (value % 2 ** (32 - prefix) !== 0) throw bad(option, text, `it has host bits set: the network address of a /${prefix} ends in zeros`);
  return { prefix };
}

function duration(option: string, text: string, fallback: number, min: number, max: number, range: string): number {
  if (text === '') return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw bad(option, text, 'it must be a duration such as 5s, 1m30s or 2160h0m0s');
  if (ms < min || ms > max) throw bad(option, text, `it must be ${range}`);
  return ms;
}

/**
 * Checks every init flag before anything is created, so a bad value changes nothing. Throws
 * SWARM_INVALID_OPTION naming the flag, the value and the rule.
 */
export function validateInitOptions(req: InitClusterRequest): InitOptions {
  if (req.autolock) throw bad('--autolock', 'true', 'manager autolock (encrypted Raft keys unlocked with SWMKEY) is not supported yet');
  const listen = parseHostPort('--listen-addr', req.listenAddr === '' ? INIT_DEFAULTS.listenAddr : req.listenAddr, 2377);
  let advertise: { host: string; port: number };
  if (req.advertiseAddr !== '') advertise = parseHostPort('--advertise-addr', req.advertiseAddr, listen.port);
  else if (!isUnspecified(listen.host)) advertise = listen;
  else {
    const host = soleHostAddress();
    if (host === undefined) throw bad('--advertise-addr', '', 'this host has no single non-loopback IPv4 address to advertise, so one must be given');
    advertise = { host, port: listen.port };
  }
  if (isUnspecified(advertise.host)) throw bad('--advertise-addr', req.advertiseAddr, 'other nodes cannot dial an unspecified address');
  if (req.dataPathAddr !== '' && isIP(req.dataPathAddr) === 0) throw bad('--data-path-addr', req.dataPathAddr, 'it must be an IP address of this host');
  const dataPathPort = req.dataPathPort === 0 ? INIT_DEFAULTS.dataPathPort : req.dataPathPort;
  if (!Number.isInteger(dataPathPort) || dataPathPort < 1024 || dataPathPort > 49151) {
    throw bad('--data-path-port', req.dataPathPort, 'it must be 1024-49151 (a registered port, as Docker requires)');
  }
  const pools = req.defaultAddrPools.length === 0 ? [...INIT_DEFAULTS.defaultAddrPools] : req.defaultAddrPools;
  const maskLength = req.defaultAddrPoolMaskLength === 0 ? INIT_DEFAULTS.maskLength : req.defaultAddrPoolMaskLength;
  if (!Number.isInteger(maskLength) || maskLength < 1 || maskLength > 29) {
    throw bad('--default-addr-pool-mask-length', req.defaultAddrPoolMaskLength, 'it must be 1-29 (a network needs room for a gateway and tasks)');
  }
  for (const pool of pools) {
    const { prefix } = parseCidr('--default-addr-pool', pool);
    if (prefix > maskLength) throw bad('--default-addr-pool', pool, `a /${prefix} pool cannot hold /${maskLength} networks (--default-addr-pool-mask-length)`);
  }
  return {
    listenAddr: joinHostPort(listen.host, listen.port),
    advertiseAddr: joinHostPort(advertise.host, advertise.port),
    dataPathAddr: req.dataPathAddr === '' ? advertise.host : req.dataPathAddr,
    dataPathPort,
    defaultAddrPools: pools,
    maskLength,
    // 100 ms to 24 h: shorter floods the dispatcher, longer hides dead nodes for days.
    dispatcherHeartbeatMs: duration('--dispatcher-heartbeat', req.dispatcherHeartbeat, INIT_DEFAULTS.dispatcherHeartbeatMs, 100, 24 * HOUR_MS, 'between 100ms and 24h'),
    // at least 1 h, as Docker: certificates renew at 50-80% of their life.
    certExpiryMs: duration('--cert-expiry', req.certExpiry, INIT_DEFAULTS.certExpiryMs, HOUR_MS, 20 * 365 * 24 * HOUR_MS, 'at least 1h (and below the root CA\'s 20 years)'),
  };
}
