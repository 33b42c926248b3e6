import type { Command } from 'commander';
import { TsswarmError } from '../../errors/index.js';
import { withDaemon } from '../daemon-client.js';
import { guarded } from './guarded.js';

/** `tsswarm join-token [-q] [--rotate] worker|manager` (docker swarm join-token). */
export function registerJoinToken(program: Command): void {
  program
    .command('join-token')
    .description('Show (or rotate) the token that joins a node as worker or manager')
    .argument('<role>', 'worker or manager')
    .option('-q, --quiet', 'print the token only')
    .option('--rotate', 'replace the token\'s secret; the old token stops working')
    .action(async (role: string, flags: { quiet?: boolean; rotate?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        if (role !== 'worker' && role !== 'manager') {
          throw new TsswarmError('CLI_USAGE', { problem: `unknown role "${role}"`, reason: 'join tokens exist for worker and manager', command: 'join-token' });
        }
        const res = await withDaemon(cmd, (c) => c.getJoinToken({ role, rotate: flags.rotate === true }));
        if (flags.quiet === true) {
          process.stdout.write(`${res.token}\n`);
          return;
        }
        const rotated = res.rotated ? `Successfully rotated ${role} join token.\n\n` : '';
        process.stdout.write(
          `${rotated}To add a ${role} to this swarm, run the following command:\n\n` +
            `    tsswarm join --token ${res.token} ${res.managerAddr}\n\n`,
        );
      }),
    );
}
