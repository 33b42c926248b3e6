import type { Command } from 'commander';
import { isTsswarmError } from '../../../errors/index.js';
import { guarded } from '../guarded.js';
import { withNetworkApi } from './network-api.js';
import { inspectNetwork } from './network-view.js';

/**
 * `tsswarm network inspect [--verbose] NETWORK...`: a JSON array as Docker prints it. With
 * --verbose, "Peers" and "Services" are what THIS host's gossip sees of the network.
 */
export function registerNetworkInspect(network: Command): void {
  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<network...>', 'network names or IDs')
    .option('-v, --verbose', 'also the peers and service endpoints this host sees in the network')
    .action(async (refs: string[], flags: { verbose?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const verbose = flags.verbose === true;
        const shown = await withNetworkApi(cmd, async (api) => {
          const found = await Promise.all(refs.map((ref) => api.getNetwork({ ref, verbose })));
          // A worker holds no services: its view names them from the endpoints, without VIPs.
          const services = verbose
            ? await api.listServices().then(
                (r) => r.services,
                (err: unknown) => {
                  if (isTsswarmError(err) && err.code === 'SWARM_NOT_MANAGER') return [];
                  throw err;
                },
              )
            : [];
          return found.map((res) => inspectNetwork(res, verbose, services));
        });
        process.stdout.write(`${JSON.stringify(shown, null, 4)}\n`);
      }),
    );
}
