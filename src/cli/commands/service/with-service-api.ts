import type { Command } from 'commander';
import { connectDaemon } from '../../daemon-client.js';
import type { ServiceApi } from './service-api.js';

/** Runs one command body with the daemon's service calls, closing the connection afterwards. */
export async function withServiceApi<T>(cmd: Command, fn: (api: ServiceApi) => Promise<T>): Promise<T> {
  const client = connectDaemon(cmd);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
