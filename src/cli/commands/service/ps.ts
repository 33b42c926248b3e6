import type { Command } from 'commander';
import { TsswarmError } from '../../../errors/index.js';
import type { Node } from '../../../objects/index.js';
import { isJsonFormat, table } from '../../output.js';
import { guarded } from '../guarded.js';
import type { ListTasksRequest, ServiceApi } from './service-api.js';
import { orderTasks, taskRow } from './service-view.js';
import { withServiceApi } from './with-service-api.js';

interface PsFlags {
  noTrunc?: boolean;
  quiet?: boolean;
  format?: string;
  filter?: string[];
}

/** `-f desired-state=running` is the filter scripts use; the others Docker has are not here yet. */
export function desiredStateFilter(filters: readonly string[] | undefined): string {
  let desired = '';
  for (const f of filters ?? []) {
    const m = /^desired-state=(\w+)$/.exec(f);
    if (m === null) throw new TsswarmError('SERVICE_INVALID_OPTION', { option: '--filter', value: JSON.stringify(f), reason: 'the supported filter is desired-state=running|shutdown|accepted' });
    desired = m[1]!;
  }
  return desired;
}

/** Prints tasks as `docker service ps` / `docker node ps` do. */
export async function printTasks(api: ServiceApi, req: ListTasksRequest, flags: PsFlags): Promise<void> {
  const { tasks, nodes } = await api.listTasks(req);
  const byId = new Map<string, Node>(nodes.map((n) => [n.id, n]));
  const now = Date.now();
  const ordered = orderTasks(tasks);
  if (flags.quiet === true) {
    process.stdout.write(ordered.map(({ task }) => `${task.id}\n`).join(''));
    return;
  }
  const rows = ordered.map(({ task, history }) => ({ row: taskRow(task, byId, now, flags.noTrunc === true), history }));
  if (isJsonFormat(flags.format)) {
    process.stdout.write(rows.map(({ row }) => `${JSON.stringify(row)}\n`).join(''));
    return;
  }
  process.stdout.write(
    table(
      ['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'],
      rows.map(({ row, history }) => [row.ID, history ? ` \\_ ${row.Name}` : row.Name, row.Image, row.Node, row.DesiredState, row.CurrentState, row.Error, row.Ports]),
    ),
  );
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `tsswarm service ps [--no-trunc] [-q] [-f desired-state=running] SERVICE...`. */
export function registerServicePs(service: Command): void {
  service
    .command('ps')
    .description('List the tasks of one or more services')
    .argument('<service...>', 'service names or IDs')
    .option('--no-trunc', 'do not truncate IDs and errors')
    .option('-q, --quiet', 'print task IDs only')
    .option('-f, --filter <filter>', 'desired-state=running|shutdown|accepted', collect)
    .option('--format <format>', 'json: print one JSON object per task')
    .action(async (services: string[], flags: PsFlags & { trunc?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const desiredState = desiredStateFilter(flags.filter);
        await withServiceApi(cmd, (api) => printTasks(api, { services, nodes: [], desiredState }, { ...flags, noTrunc: flags.trunc === false }));
      }),
    );
}
