import type { Command } from 'commander';
import { withDaemon } from '../../daemon-client.js';
import { guarded } from '../guarded.js';

/**
 * `tsswarm node rm [--force] NODE...`: prints each reference removed, as Docker does. The
 * first refusal stops the command (the nodes before it stay removed, each its own change).
 */
export function registerNodeRm(node: Command): void {
  node
    .command('rm')
    .alias('remove')
    .description('Remove one or more nodes from the swarm')
    .argument('<node...>', 'node ID, ID prefix or hostname')
    .option('-f, --force', 'remove a node that is not down')
    .action(async (refs: string[], flags: { force?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        await withDaemon(cmd, async (c) => {
          for (const ref of refs) {
            await c.removeNode({ ref, force: flags.force === true });
            process.stdout.write(`${ref}\n`);
          }
        });
      }),
    );
}
