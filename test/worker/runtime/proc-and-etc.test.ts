import { describe, expect, it } from 'vitest';
import { taskHostsFile, taskResolvConf } from '../../../src/worker/runtime/etc-files.js';
import { parseProcStat } from '../../../src/worker/runtime/proc-stat.js';

describe('/proc and /etc helpers', () => {
  it('parses /proc/PID/stat with a command name holding spaces and parentheses', () => {
    const line = '4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pid: 4242, state: 'S', ppid: 17, startTime: 987654 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
  it('drops loopback resolvers from resolv.conf, falling back to public ones as Docker does', () => {
    expect(taskResolvConf('nameserver 127.0.0.53\noptions edns0\nsearch example\n')).toBe('options edns0\nsearch example\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    expect(taskResolvConf('nameserver 10.0.0.2\nnameserver ::1\n')).toBe('nameserver 10.0.0.2\n');
  });
  it('names the task in its hosts file', () => {
    expect(taskHostsFile('web-1')).toContain('127.0.0.1\tlocalhost\n');
    expect(taskHostsFile('web-1')).toContain('127.0.1.1\tweb-1\n');
  });
});
