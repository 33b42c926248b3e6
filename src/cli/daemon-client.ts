import { credentials, status } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { TsswarmError } from '../errors/index.js';
import { ControlClient } from '../manager/controlapi/control-client.js';
import { socketPathOf } from './host.js';

/**
 * ms a CLI call may take. init makes RSA keys and waits for an election (a few seconds at
 * most); 60 s only guards against a daemon that hangs.
 */
const CALL_DEADLINE_MS = 60_000;

/** Why the socket did not answer, in words (grpc-js puts the errno in its details). */
function unreachableReason(code: number, details: string): string {
  if (code === status.DEADLINE_EXCEEDED) return `it did not answer within ${CALL_DEADLINE_MS / 1000} s`;
  if (details.includes('ENOENT')) return 'no socket exists there, so no daemon is running with that -H';
  if (details.includes('ECONNREFUSED')) return 'nothing accepts connections on it (the daemon stopped or crashed)';
  if (details.includes('EACCES')) return 'permission denied: the socket is mode 0600, for the daemon\'s user (root) only';
  return `the connection failed: ${details}`;
}

/** The global options every command reads (declared in main.ts). */
export interface GlobalOptions {
  host?: string;
  debug?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * A Control API client for the daemon named by -H. A failure to reach it (no socket, nobody
 * listening, refused) becomes DAEMON_UNREACHABLE naming the socket and how to start it.
 */
export function connectDaemon(cmd: Command): ControlClient {
  const path = socketPathOf(globalOptions(cmd).host);
  const socket = `unix://${path}`;
  return new ControlClient({
    target: socket,
    credentials: credentials.createInsecure(),
    deadlineMs: CALL_DEADLINE_MS,
    transportError: (err) => new TsswarmError('DAEMON_UNREACHABLE', { socket, path, reason: unreachableReason(err.code, err.details) }),
  });
}

/** Runs one command body against the daemon and closes the connection afterwards. */
export async function withDaemon<T>(cmd: Command, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = connectDaemon(cmd);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
