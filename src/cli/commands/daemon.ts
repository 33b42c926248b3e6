import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { errorMessage } from '../../errors/index.js';
import { createRootLogger } from '../../log/logger.js';
import { Daemon } from '../../daemon/daemon.js';
import { globalOptions } from '../daemon-client.js';
import { socketPathOf } from '../host.js';
import { fail } from '../output.js';
import { tsswarmVersion } from '../version.js';

interface DaemonFlags {
  dataRoot: string;
  nodeName?: string;
  logLevel: string;
  defaultRuntime: 'process' | 'docker';
  execRoot: string;
}

/**
 * `tsswarm daemon`: runs this host's daemon in the foreground, logging JSON lines to stderr,
 * until SIGTERM or SIGINT, on which it stops cleanly (exit 0).
 */
export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('Run the tsswarm daemon of this host (as root), serving the local API on -H')
    .option('--data-root <dir>', 'where the node keeps its identity, certificates and Raft log', '/var/lib/tsswarm')
    .option('--node-name <name>', 'hostname recorded for this node (default: the machine\'s)')
    .option('--exec-root <dir>', 'where task and overlay network namespaces are kept while the host is up', '/run/tsswarm')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'))
    .addOption(new Option('--default-runtime <runtime>', 'runtime of tasks that name none').choices(['process', 'docker']).default('process'))
    .action(async (flags: DaemonFlags, cmd: Command) => {
      const debug = globalOptions(cmd).debug === true;
      let socketPath: string;
      try {
        socketPath = socketPathOf(globalOptions(cmd).host);
      } catch (err) {
        fail(err, debug);
      }
      const logger = createRootLogger({ level: flags.logLevel });
      let daemon: Daemon;
      try {
        daemon = await Daemon.start({
          dataRoot: resolve(flags.dataRoot),
          socketPath,
          ...(flags.nodeName !== undefined ? { nodeName: flags.nodeName } : {}),
          engineVersion: tsswarmVersion(),
          execRoot: resolve(flags.execRoot),
          defaultRuntime: flags.defaultRuntime,
          logger,
          onFatal: () => {
            logger.flush();
            process.exit(1);
          },
        });
      } catch (err) {
        logger.fatal({ err: errorMessage(err) }, 'daemon failed to start');
        logger.flush();
        fail(err, debug);
      }
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping daemon');
        daemon.stop().then(
          () => {
            logger.info('daemon stopped');
            logger.flush();
            process.exit(0);
          },
          (err: unknown) => {
            logger.error({ err: errorMessage(err) }, 'error while stopping');
            logger.flush();
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });
}
