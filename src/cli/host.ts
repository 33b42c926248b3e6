import { TsswarmError } from '../errors/index.js';

/** Where the CLI finds its daemon unless -H or TSSWARM_HOST say otherwise (CLI.md). */
export const DEFAULT_HOST = 'unix:///run/tsswarm/tsswarm.sock';

/**
 * The unix socket path of `-H unix:///path` (or TSSWARM_HOST, or the default). Only unix
 * sockets: the daemon's API is local by design, remote hosts are reached through their own
 * daemon. Throws CLI_USAGE for anything else.
 */
export function socketPathOf(host: string | undefined): string {
  const value = host ?? process.env.TSSWARM_HOST ?? DEFAULT_HOST;
  const m = /^unix:\/\/(\/.+)$/.exec(value);
  if (m === null) {
    throw new TsswarmError('CLI_USAGE', {
      problem: `-H ${value}`, reason: 'the daemon is reached through a unix socket given as unix:///absolute/path', command: '',
    });
  }
  return m[1]!;
}
