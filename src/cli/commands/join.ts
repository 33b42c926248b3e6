import type { Command } from 'commander';
import { withDaemon } from '../daemon-client.js';
import { guarded } from './guarded.js';

interface JoinFlags {
  token: string;
  advertiseAddr?: string;
  listenAddr?: string;
  dataPathAddr?: string;
}

/** `tsswarm join`: join a swarm as a worker or a manager, as the token says (docker swarm join). */
export function registerJoin(program: Command): void {
  program
    .command('join')
    .description('Join a swarm as a worker or a manager (the token decides which)')
    .requiredOption('--token <token>', 'join token of the swarm (tsswarm join-token worker|manager on a manager)')
    .option('--advertise-addr <addr[:port]>', 'address other nodes use to reach this node (default: the listen address, or the host\'s only address)')
    .option('--listen-addr <addr[:port]>', 'address a manager listens on for Raft, nodes and managers', '0.0.0.0:2377')
    .option('--data-path-addr <addr>', 'address for data (VXLAN) traffic (default: the advertise address)')
    .argument('<host:port>', 'address of a manager of the swarm')
    .action(async (remoteAddr: string, flags: JoinFlags, cmd: Command) =>
      guarded(cmd, async () => {
        const res = await withDaemon(cmd, (c) =>
          c.joinCluster({
            token: flags.token,
            remoteAddr,
            advertiseAddr: flags.advertiseAddr ?? '',
            listenAddr: flags.listenAddr ?? '',
            dataPathAddr: flags.dataPathAddr ?? '',
          }),
        );
        if (res.role === 'manager') {
          process.stdout.write('This node joined a swarm as a manager.\n');
        } else {
          process.stdout.write('This node joined a swarm as a worker.\n');
        }
      }),
    );
}
