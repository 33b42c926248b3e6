import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode, runCli } from '../daemon/daemon-harness.js';

/** The CLI without a daemon: a clear error naming the socket and how to start the daemon. */
let dir = '';

afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  dir = '';
});

describe('the CLI when no daemon answers', () => {
  it('names the missing socket and how to start the daemon', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsw-cli-'));
    const sock = join(dir, 'none.sock');
    const res = await runCli(['-D', '-H', `unix://${sock}`, 'node', 'ls']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^Error: cannot reach the tsswarm daemon at /m);
    expect(res.stderr).toContain(`start it with \`tsswarm daemon -H unix://${sock}\``);
    expect(errorCode(res)).toBe('DAEMON_UNREACHABLE');
  });

  it('also for a file that is not a listening socket, and through TSSWARM_HOST', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsw-cli-'));
    const file = join(dir, 'plain-file');
    await writeFile(file, '');
    const res = await runCli(['-D', 'info'], { TSSWARM_HOST: `unix://${file}` });
    expect(res.code).toBe(1);
    expect(errorCode(res)).toBe('DAEMON_UNREACHABLE');
    expect(res.stderr).toContain(file);
  });

  it('refuses a -H that is not a unix socket', async () => {
    const res = await runCli(['-D', '-H', 'tcp://127.0.0.1:2375', 'info']);
    expect(res.code).toBe(1);
    expect(errorCode(res)).toBe('CLI_USAGE');
  });
});
