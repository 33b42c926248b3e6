import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { TsswarmError, errorMessage } from '../errors/index.js';

/** Does something accept connections on this unix socket? */
export function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Makes `path` free for this daemon's socket: a socket file nobody listens on (left by a
 * daemon that crashed) is removed; a live one, or a file that is not a socket, is refused
 * with DAEMON_ALREADY_RUNNING so two daemons never share a socket.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new TsswarmError('DAEMON_ALREADY_RUNNING', { resource: `socket ${path}`, reason: 'the path exists and is not a socket, so it is not removed' });
  }
  if (await socketIsLive(path)) {
    throw new TsswarmError('DAEMON_ALREADY_RUNNING', { resource: `socket ${path}`, reason: 'a process accepts connections on it' });
  }
  await rm(path, { force: true });
}

/**
 * The local API: gRPC over a unix socket, mode 0600 so only the daemon's user (root) can
 * drive the daemon, as with Docker's socket. Returns the server; the caller stops it and
 * removes the socket file on shutdown.
 */
export async function serveLocalSocket(
  path: string,
  services: ReadonlyArray<{ definition: ServiceDefinition; implementation: UntypedServiceImplementation }>,
): Promise<Server> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await clearStaleSocket(path);
  const server = new Server();
  for (const s of services) server.addService(s.definition, s.implementation);
  // umask 0177 while binding, so the socket is never reachable by others, not even for the
  // moment before the chmod below (which states the intent and covers odd umask handling).
  const oldMask = process.umask(0o177);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (err) => {
      if (err === null) resolve();
      else reject(new TsswarmError('DAEMON_ALREADY_RUNNING', { resource: `socket ${path}`, reason: `cannot listen: ${errorMessage(err)}` }, { cause: err }));
    });
  }).finally(() => process.umask(oldMask));
  await chmod(path, 0o600);
  return server;
}
