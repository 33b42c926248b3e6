import { createServer, type IncomingMessage, type Server } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { Command } from 'commander';
import { TsswarmError } from '../../errors/index.js';
import { guarded } from './guarded.js';

/**
 * `tsswarm whoami`: a tiny HTTP server to run as a service's program when trying the routing
 * mesh or a VIP. Each answer names the task that served it and the address the connection came
 * from, so a client can see where a request landed and what source address reached the task.
 */

/** The task the executor runs this in names itself through these (run-spec.ts). */
function taskName(env: NodeJS.ProcessEnv): string {
  return env.TSSWARM_TASK_NAME ?? '-';
}

/** Every IPv4 address of this network namespace but loopback, interface order. */
function localAddresses(): string[] {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) out.push(`${a.address} (${name})`);
  }
  return out;
}

/** ip:port, an IPv4 client as plain IPv4 (the dual-stack listener sees it as ::ffff:a.b.c.d). */
function remoteAddr(ip: string | undefined, port: number | undefined): string {
  if (ip === undefined) return '-';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1];
  if (v4 !== undefined) return `${v4}:${port}`;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The answer's body: plain "Key: value" lines, as traefik/whoami prints them. */
export function whoamiBody(req: IncomingMessage, env: NodeJS.ProcessEnv = process.env): string {
  const lines = [
    `Name: ${taskName(env)}`,
    `Hostname: ${hostname()}`,
    ...localAddresses().map((a) => `IP: ${a}`),
    `RemoteAddr: ${remoteAddr(req.socket.remoteAddress, req.socket.remotePort)}`,
    `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`,
  ];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return lines.join('\n') + '\n';
}

/** Port 0 asks the kernel for a free one (the line printed at start names it). */
export function parseWhoamiPort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new TsswarmError('CLI_USAGE', { problem: `--port ${value}`, reason: 'a port is a whole number from 1 to 65535 (0: any free port)', command: 'whoami' });
  }
  return n;
}

export function startWhoami(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const body = whoamiBody(req);
    // One line per answer, so `service logs` shows which task served whom.
    process.stdout.write(`${req.method ?? 'GET'} ${req.url ?? '/'} from ${remoteAddr(req.socket.remoteAddress, req.socket.remotePort)}\n`);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new TsswarmError('WHOAMI_LISTEN_FAILED', { port, reason: e.code === 'EADDRINUSE' ? 'another program listens there' : e.message }, { cause: e })));
    server.listen(port, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}

export function registerWhoami(program: Command): void {
  program
    .command('whoami')
    .description('Serve HTTP answers naming this task, its addresses and the client (for trying the routing mesh)')
    .option('--port <port>', 'TCP port to listen on, all addresses (0: any free port)', '80')
    .action(async (opts: { port: string }, cmd: Command) => {
      await guarded(cmd, async () => {
        const server = await startWhoami(parseWhoamiPort(opts.port));
        const address = server.address();
        process.stdout.write(`whoami listening on port ${typeof address === 'object' && address !== null ? address.port : opts.port}\n`);
        // A task is stopped with SIGTERM: close the listener and exit 0, so the task ends as COMPLETE.
        for (const sig of ['SIGTERM', 'SIGINT'] as const) {
          process.once(sig, () => {
            server.close();
            server.closeAllConnections();
            process.exit(0);
          });
        }
      });
    });
}
