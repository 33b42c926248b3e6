/**
 * `tsswarm whoami` as a task would run it: the compiled CLI as a child process on loopback,
 * answering HTTP with the task's name and the client's address and port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import { errorCode, mainJs, runCli } from '../daemon/daemon-harness.js';

let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function get(port: number): Promise<{ body: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/hello', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ body, localPort: req.socket?.localPort ?? -1 }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tsswarm whoami', () => {
  it('answers with the task name, the client address and port, and the request line; SIGTERM ends it with 0', async () => {
    const c = spawn(process.execPath, [mainJs(), 'whoami', '--port', '0'], { env: { ...process.env, TSSWARM_TASK_NAME: 'web.2.abc' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => /listening on port \d+/.test(out), 'whoami listening');
    const port = Number(/listening on port (\d+)/.exec(out)![1]);
    expect(port).toBeGreaterThan(0);

    const { body, localPort } = await get(port);
    expect(body).toMatch(/^Name: web\.2\.abc$/m);
    expect(body).toMatch(/^Hostname: \S+$/m);
    expect(body).toContain(`RemoteAddr: 127.0.0.1:${localPort}\n`);
    expect(body).toMatch(/^GET \/hello HTTP\/1\.1$/m);
    expect(body).toMatch(new RegExp(`^Host: 127\\.0\\.0\\.1:${port}$`, 'm'));

    const exit = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 30_000);

  it('refuses a port that is taken or malformed, with its code', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '0.0.0.0', r));
    try {
      const taken = (holder.address() as { port: number }).port;
      const res = await runCli(['-D', 'whoami', '--port', String(taken)]);
      expect(res.code).toBe(1);
      expect(errorCode(res)).toBe('WHOAMI_LISTEN_FAILED');
    } finally {
      holder.close();
    }
    for (const bad of ['70000', '1.5', 'http']) {
      const res = await runCli(['-D', 'whoami', '--port', bad]);
      expect(res.code).toBe(1);
      expect(errorCode(res)).toBe('CLI_USAGE');
    }
  }, 30_000);
});
