import type { Command } from 'commander';
import { isJsonFormat, table } from '../../output.js';
import { guarded } from '../guarded.js';
import { withNetworkApi } from './network-api.js';
import { networkRow, shortNetworkId } from './network-view.js';

/** `tsswarm network ls [-q] [--no-trunc] [--format json]` (docker network ls). */
export function registerNetworkLs(network: Command): void {
  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'print network IDs only')
    .option('--no-trunc', 'do not truncate IDs')
    .option('--format <format>', 'json: print one JSON object per network')
    .action(async (flags: { quiet?: boolean; trunc?: boolean; format?: string }, cmd: Command) =>
      guarded(cmd, async () => {
        const { networks } = await withNetworkApi(cmd, (api) => api.listNetworks());
        // Docker sorts by name.
        const rows = networks.map(networkRow).sort((a, b) => a.Name.localeCompare(b.Name));
        const id = (full: string): string => (flags.trunc === false ? full : shortNetworkId(full));
        if (flags.quiet === true) process.stdout.write(rows.map((r) => `${id(r.ID)}\n`).join(''));
        else if (isJsonFormat(flags.format)) process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        else process.stdout.write(table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], rows.map((r) => [id(r.ID), r.Name, r.Driver, r.Scope])));
      }),
    );
}
