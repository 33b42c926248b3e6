import type { Command } from 'commander';
import { Option } from 'commander';
import type { DeepPartial, NetworkSpec } from '../../../objects/index.js';
import { guarded } from '../guarded.js';
import { TsswarmError } from '../../../errors/index.js';
import { repeatable } from '../service/service-flags.js';
import { withNetworkApi } from './network-api.js';

/** KEY=VALUE pairs (-o, --label); a bare KEY means an empty value, as Docker. */
function pairs(option: string, values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === '') throw new TsswarmError('NETWORK_INVALID_OPTION', { option, value: JSON.stringify(v), reason: 'it is KEY=VALUE with a non-empty KEY' });
    out[key] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

export interface NetworkCreateFlags {
  driver?: string;
  attachable?: boolean;
  ingress?: boolean;
  internal?: boolean;
  subnet?: string[];
  gateway?: string[];
  ipRange?: string[];
  opt?: string[];
  label?: string[];
}

/**
 * The spec `network create` asks for (pure). Docker's --subnet, --gateway and --ip-range are
 * repeatable and go together by position; the managers refuse more than one subnet, and a
 * gateway or range without a subnet, naming the flag.
 */
export function networkCreateSpec(name: string, flags: NetworkCreateFlags): DeepPartial<NetworkSpec> {
  const subnets = flags.subnet ?? [];
  const gateways = flags.gateway ?? [];
  const ranges = flags.ipRange ?? [];
  const count = Math.max(subnets.length, gateways.length, ranges.length);
  const configs = Array.from({ length: count }, (_, i) => ({ subnet: subnets[i] ?? '', gateway: gateways[i] ?? '', range: ranges[i] ?? '' }));
  return {
    annotations: { name, labels: pairs('--label', flags.label) },
    driver: flags.driver ?? 'overlay',
    // `-o encrypted` (no value) is Docker's way to ask for sealing: a key with an empty value.
    driverOptions: pairs('--opt', flags.opt),
    attachable: flags.attachable === true,
    ingress: flags.ingress === true,
    internal: flags.internal === true,
    ipam: { driver: 'default', configs },
  };
}

/** `tsswarm network create [OPTIONS] NETWORK` (docker network create, swarm overlays). */
export function registerNetworkCreate(network: Command): void {
  const cmd = network
    .command('create')
    .description('Create a network')
    .argument('<network>', 'network name')
    .addOption(new Option('-d, --driver <driver>', 'network driver').default('overlay'))
    .option('--attachable', 'let standalone containers attach (stored; there are no standalone containers yet)')
    .option('--ingress', 'the routing-mesh network (at most one)')
    .option('--internal', 'no access from the network to the outside (refused: not built yet)');
  repeatable(cmd, '--subnet <cidr>', 'subnet, e.g. 10.20.0.0/24 (default: the next free /24 of the pool)');
  repeatable(cmd, '--gateway <ip>', 'gateway of the subnet (default: its first address)');
  repeatable(cmd, '--ip-range <cidr>', 'allocate task addresses from this part of the subnet');
  repeatable(cmd, '-o, --opt <K=V>', 'driver option: com.docker.network.driver.mtu=N (encrypted is refused: not built yet)');
  repeatable(cmd, '--label <K=V>', 'network label');
  cmd.action(async (name: string, flags: NetworkCreateFlags, c: Command) =>
    guarded(c, async () => {
      const spec = networkCreateSpec(name, flags);
      const { network: created } = await withNetworkApi(c, (api) => api.createNetwork({ spec }));
      process.stdout.write(`${created.id}\n`);
    }),
  );
}
