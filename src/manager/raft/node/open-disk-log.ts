import type { Logger } from '../../../log/logger.js';
import { openRaftLog } from '../storage/index.js';
import type { OpenedLog } from './durable-log.js';

/**
 * The production log opener: the storage package's WAL and snapshots under the data dir.
 * `storageConfig` is passed through (segment size, group-commit batch); {} takes its defaults.
 */
export function diskLogOpener(storageConfig: unknown = {}): (dir: string, logger: Logger) => Promise<OpenedLog> {
  return (dir, logger) => openRaftLog(dir, storageConfig, logger);
}
