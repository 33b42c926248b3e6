import type { Command } from 'commander';
import { withDaemon } from '../../daemon-client.js';
import { isJsonFormat, table } from '../../output.js';
import { guarded } from '../guarded.js';
import { nodeRow } from './node-view.js';

/** `tsswarm node ls [-q] [--format json]` (docker node ls). */
export function registerNodeLs(node: Command): void {
  node
    .command('ls')
    .alias('list')
    .description('List the nodes of the swarm')
    .option('-q, --quiet', 'print node IDs only')
    .option('--format <format>', 'json: print one JSON object per node')
    .action(async (flags: { quiet?: boolean; format?: string }, cmd: Command) =>
      guarded(cmd, async () => {
        const res = await withDaemon(cmd, (c) => c.listNodes());
        // Docker sorts by hostname, then ID.
        const nodes = [...res.nodes].sort((a, b) => (a.description?.hostname ?? '').localeCompare(b.description?.hostname ?? '') || a.id.localeCompare(b.id));
        const rows = nodes.map((n) => nodeRow(n, res.selfId));
        if (flags.quiet === true) process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
        else if (isJsonFormat(flags.format)) process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        else {
          process.stdout.write(
            table(
              ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'],
              rows.map((r) => [r.Self ? `${r.ID} *` : r.ID, r.Hostname, r.Status, r.Availability, r.ManagerStatus, r.EngineVersion]),
            ),
          );
        }
      }),
    );
}
