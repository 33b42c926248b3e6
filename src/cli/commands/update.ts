import type { Command } from 'commander';
import { TsswarmError } from '../../errors/index.js';
import { withDaemon } from '../daemon-client.js';
import { guarded } from './guarded.js';

/** `tsswarm update [--dispatcher-heartbeat D] [--cert-expiry D] [--autolock=true|false]` (docker swarm update). */
export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description('Update the swarm')
    .option('--dispatcher-heartbeat <duration>', 'dispatcher heartbeat period (e.g. 5s)')
    .option('--cert-expiry <duration>', 'validity period of node certificates (e.g. 2160h)')
    .option('--autolock [bool]', 'change the manager autolocking setting (true|false)')
    .action(async (flags: { dispatcherHeartbeat?: string; certExpiry?: string; autolock?: string | boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const autolock = flags.autolock === undefined ? '' : flags.autolock === true ? 'true' : String(flags.autolock);
        if (flags.dispatcherHeartbeat === undefined && flags.certExpiry === undefined && autolock === '') {
          throw new TsswarmError('CLI_USAGE', { problem: 'nothing to update', reason: 'give at least one of --dispatcher-heartbeat, --cert-expiry, --autolock', command: 'update' });
        }
        await withDaemon(cmd, (c) => c.updateCluster({ dispatcherHeartbeat: flags.dispatcherHeartbeat ?? '', certExpiry: flags.certExpiry ?? '', autolock }));
        process.stdout.write('Swarm updated.\n');
      }),
    );
}
