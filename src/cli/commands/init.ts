import { InvalidArgumentError, type Command } from 'commander';
import { TsswarmError } from '../../errors/index.js';
import { withDaemon } from '../daemon-client.js';
import { guarded } from './guarded.js';

interface InitFlags {
  advertiseAddr?: string;
  listenAddr?: string;
  dataPathAddr?: string;
  dataPathPort?: number;
  defaultAddrPool: string[];
  defaultAddrPoolMaskLength?: number;
  dispatcherHeartbeat?: string;
  certExpiry?: string;
  forceNewCluster?: boolean;
  autolock?: boolean;
}

/** Integers only; the range is the daemon's to check, so a bad value is refused in one place. */
function integer(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return n;
}

function zero(option: string, reason: string): TsswarmError {
  return new TsswarmError('SWARM_INVALID_OPTION', { option, value: '"0"', reason });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `tsswarm init`: make this node the first manager of a new swarm (docker swarm init). */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Initialize a swarm: this node becomes its first manager')
    .option('--advertise-addr <addr[:port]>', 'address other nodes use to reach this manager (default: the listen address, or the host\'s only address)')
    .option('--listen-addr <addr[:port]>', 'address the manager listens on for Raft, nodes and managers', '0.0.0.0:2377')
    .option('--data-path-addr <addr>', 'address for data (VXLAN) traffic (default: the advertise address)')
    .option('--data-path-port <port>', 'UDP port for data traffic, 1024-49151 (default 4789)', integer)
    .option('--default-addr-pool <cidr>', 'address pool for overlay networks (repeatable; default 10.0.0.0/8)', collect, [])
    .option('--default-addr-pool-mask-length <n>', 'prefix length of the subnets carved from the pools (default 24)', integer)
    .option('--dispatcher-heartbeat <duration>', 'period of node heartbeats (default 5s)')
    .option('--cert-expiry <duration>', 'validity of node certificates (default 2160h0m0s)')
    .option('--force-new-cluster', 'force a new cluster from the current state (ignored on a node in no swarm)')
    .option('--autolock', 'lock managers with an unlock key (not supported yet: refused)')
    .action(async (flags: InitFlags, cmd: Command) =>
      guarded(cmd, async () => {
        // 0 means "the default" on the wire, so an explicit 0 is refused here.
        if (flags.dataPathPort === 0) throw zero('--data-path-port', 'it must be 1024-49151 (a registered port, as Docker requires)');
        if (flags.defaultAddrPoolMaskLength === 0) throw zero('--default-addr-pool-mask-length', 'it must be 1-29');
        const res = await withDaemon(cmd, (c) =>
          c.initCluster({
            advertiseAddr: flags.advertiseAddr ?? '',
            listenAddr: flags.listenAddr ?? '',
            dataPathAddr: flags.dataPathAddr ?? '',
            dataPathPort: flags.dataPathPort ?? 0,
            defaultAddrPools: flags.defaultAddrPool,
            defaultAddrPoolMaskLength: flags.defaultAddrPoolMaskLength ?? 0,
            dispatcherHeartbeat: flags.dispatcherHeartbeat ?? '',
            certExpiry: flags.certExpiry ?? '',
            forceNewCluster: flags.forceNewCluster === true,
            autolock: flags.autolock === true,
          }),
        );
        process.stdout.write(
          `Swarm initialized: current node (${res.nodeId}) is now a manager.\n\n` +
            'To add a worker to this swarm, run the following command:\n\n' +
            `    tsswarm join --token ${res.workerToken} ${res.managerAddr}\n\n` +
            "To add a manager to this swarm, run 'tsswarm join-token manager' and follow the instructions.\n\n",
        );
      }),
    );
}
