import type { Command } from 'commander';
import type { Node } from '../../../objects/index.js';
import { withDaemon } from '../../daemon-client.js';
import { isJsonFormat, table } from '../../output.js';
import { guarded } from '../guarded.js';
import { orderTasks, shortId, taskRow } from '../service/service-view.js';

/** `tsswarm node ps [-q] [--no-trunc] [--format json] [NODE...]` (docker node ps; default: this node). */
export function registerNodePs(node: Command): void {
  node
    .command('ps')
    .description('List the tasks running on one or more nodes (this node by default)')
    .argument('[node...]', 'node ID, ID prefix, hostname, or "self"')
    .option('-q, --quiet', 'print task IDs only')
    .option('--no-trunc', 'do not truncate IDs and errors')
    .option('--format <format>', 'json: print one JSON object per task')
    .action(async (refs: string[], flags: { quiet?: boolean; trunc: boolean; format?: string }, cmd: Command) =>
      guarded(cmd, async () => {
        const res = await withDaemon(cmd, (c) => c.listNodeTasks({ refs }));
        const nodes = new Map<string, Node>(res.nodes.map((n) => [n.id, n]));
        const noTrunc = !flags.trunc;
        const ordered = orderTasks(res.tasks);
        if (flags.quiet === true) {
          process.stdout.write(ordered.map(({ task }) => `${noTrunc ? task.id : shortId(task.id)}\n`).join(''));
          return;
        }
        const rows = ordered.map(({ task, history }) => ({ row: taskRow(task, nodes, Date.now(), noTrunc), history }));
        if (isJsonFormat(flags.format)) {
          process.stdout.write(rows.map(({ row }) => `${JSON.stringify(row)}\n`).join(''));
          return;
        }
        process.stdout.write(
          table(
            ['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'],
            rows.map(({ row: r, history }) => [r.ID, history ? ` \\_ ${r.Name}` : r.Name, r.Image, r.Node, r.DesiredState, r.CurrentState, r.Error, r.Ports]),
          ),
        );
      }),
    );
}
