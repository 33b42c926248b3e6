import type { Command } from 'commander';
import { withDaemon } from '../daemon-client.js';
import { guarded } from './guarded.js';

/** `tsswarm leave [--force]` (docker swarm leave). */
export function registerLeave(program: Command): void {
  program
    .command('leave')
    .description('Leave the swarm')
    .option('-f, --force', 'leave even as a manager (it leaves Raft first when the rest keep a quorum)')
    .action(async (flags: { force?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        await withDaemon(cmd, (c) => c.leaveCluster({ force: flags.force === true }));
        process.stdout.write('Node left the swarm.\n');
      }),
    );
}
