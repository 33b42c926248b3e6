import type { Command } from 'commander';
import { guarded } from '../guarded.js';
import { withNetworkApi } from './network-api.js';

/** `tsswarm network rm NETWORK...`: all or nothing; prints the names removed. */
export function registerNetworkRm(network: Command): void {
  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>', 'network names or IDs')
    .action(async (refs: string[], _flags: unknown, cmd: Command) =>
      guarded(cmd, async () => {
        const { names } = await withNetworkApi(cmd, (api) => api.removeNetworks({ refs }));
        process.stdout.write(names.map((n) => `${n}\n`).join(''));
      }),
    );
}
