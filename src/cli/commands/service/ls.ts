import type { Command } from 'commander';
import { isJsonFormat, table } from '../../output.js';
import { guarded } from '../guarded.js';
import { serviceRow, shortId } from './service-view.js';
import { withServiceApi } from './with-service-api.js';

/** `tsswarm service ls [-q] [--format json]` (docker service ls). */
export function registerServiceLs(service: Command): void {
  service
    .command('ls')
    .alias('list')
    .description('List services')
    .option('-q, --quiet', 'print service IDs only')
    .option('--format <format>', 'json: print one JSON object per service')
    .action(async (flags: { quiet?: boolean; format?: string }, cmd: Command) =>
      guarded(cmd, async () => {
        const { services } = await withServiceApi(cmd, (api) => api.listServices());
        // Docker sorts by name.
        const rows = services.map(serviceRow).sort((a, b) => a.Name.localeCompare(b.Name));
        if (flags.quiet === true) process.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
        else if (isJsonFormat(flags.format)) process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        else process.stdout.write(table(['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'], rows.map((r) => [shortId(r.ID), r.Name, r.Mode, r.Replicas, r.Image, r.Ports])));
      }),
    );
}
