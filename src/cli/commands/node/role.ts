import type { Command } from 'commander';
import { withDaemon } from '../../daemon-client.js';
import { guarded } from '../guarded.js';

/** `tsswarm node promote NODE...` and `tsswarm node demote NODE...`, with Docker's messages. */
export function registerNodeRoleCommands(node: Command): void {
  node
    .command('promote')
    .description('Promote one or more nodes to manager in the swarm')
    .argument('<node...>', 'node ID, ID prefix, hostname, or "self"')
    .action(async (refs: string[], _flags: unknown, cmd: Command) =>
      guarded(cmd, async () => {
        await withDaemon(cmd, async (c) => {
          for (const ref of refs) {
            const res = await c.setNodeRole({ ref, role: 'manager' });
            process.stdout.write(res.changed ? `Node ${ref} promoted to a manager in the swarm.\n` : `Node ${ref} is already a manager.\n`);
          }
        });
      }),
    );
  node
    .command('demote')
    .description('Demote one or more nodes from manager in the swarm')
    .argument('<node...>', 'node ID, ID prefix, hostname, or "self"')
    .action(async (refs: string[], _flags: unknown, cmd: Command) =>
      guarded(cmd, async () => {
        await withDaemon(cmd, async (c) => {
          for (const ref of refs) {
            const res = await c.setNodeRole({ ref, role: 'worker' });
            process.stdout.write(res.changed ? `Manager ${ref} demoted in the swarm.\n` : `Node ${ref} is already a worker.\n`);
          }
        });
      }),
    );
}
