import type { Command } from 'commander';
import { withDaemon } from '../../daemon-client.js';
import { guarded } from '../guarded.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `tsswarm node update [--availability ...] [--label-add K=V]... [--label-rm K]... NODE`; prints the node's ID. */
export function registerNodeUpdate(node: Command): void {
  node
    .command('update')
    .description('Update a node\'s availability or labels')
    .argument('<node>', 'node ID, ID prefix, hostname, or "self"')
    .option('--availability <availability>', 'active, pause or drain')
    .option('--label-add <key=value>', 'add or update a node label (repeatable)', collect, [])
    .option('--label-rm <key>', 'remove a node label (repeatable)', collect, [])
    .action(async (ref: string, flags: { availability?: string; labelAdd: string[]; labelRm: string[] }, cmd: Command) =>
      guarded(cmd, async () => {
        const res = await withDaemon(cmd, (c) => c.updateNode({ ref, availability: flags.availability ?? '', labelAdd: flags.labelAdd, labelRm: flags.labelRm }));
        process.stdout.write(`${res.node.id}\n`);
      }),
    );
}
