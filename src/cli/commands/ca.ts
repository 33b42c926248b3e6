import type { Command } from 'commander';
import { withDaemon } from '../daemon-client.js';
import { guarded } from './guarded.js';

/**
 * `tsswarm ca [--rotate] [-q]` (docker swarm ca): prints the root CA certificate. --rotate
 * starts a cross-signed rotation; the certificate printed is the new root, and `-q` keeps
 * the progress line out of stdout.
 */
export function registerCa(program: Command): void {
  program
    .command('ca')
    .description('Display and rotate the root CA')
    .option('--rotate', 'rotate the swarm CA: every node gets a certificate from a new root, the join tokens change')
    .option('-q, --quiet', 'suppress progress output')
    .action(async (flags: { rotate?: boolean; quiet?: boolean }, cmd: Command) =>
      guarded(cmd, async () => {
        const res = await withDaemon(cmd, (c) => c.getRootCa({ rotate: flags.rotate === true }));
        if (flags.rotate === true && flags.quiet !== true) {
          process.stderr.write(res.rotating ? 'Root rotation started: every node re-issues its certificate from the new root.\n' : 'Root rotation done.\n');
        }
        process.stdout.write(res.certificate.endsWith('\n') ? res.certificate : `${res.certificate}\n`);
      }),
    );
}
