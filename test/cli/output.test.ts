import { describe, expect, it } from 'vitest';
import { socketPathOf } from '../../src/cli/host.js';
import { table, titleCase } from '../../src/cli/output.js';
import { isTsswarmError } from '../../src/errors/index.js';

describe('table', () => {
  it('pads every column but the last to its widest cell plus three spaces, as docker does', () => {
    expect(table(['ID', 'HOSTNAME', 'STATUS'], [['abc *', 'h1', 'Ready'], ['d', 'longer-host', 'Down']])).toBe(
      'ID      HOSTNAME      STATUS\n' + 'abc *   h1            Ready\n' + 'd       longer-host   Down\n',
    );
  });

  it('trims trailing blanks of empty last cells', () => {
    expect(table(['A', 'B'], [['x', '']])).toBe('A   B\nx\n');
  });
});

describe('titleCase', () => {
  it('turns enum names into Docker\'s words', () => {
    expect(titleCase('READY')).toBe('Ready');
    expect(titleCase('ACTIVE')).toBe('Active');
  });
});

describe('socketPathOf', () => {
  it('reads unix:///path', () => expect(socketPathOf('unix:///tmp/x/tsswarm.sock')).toBe('/tmp/x/tsswarm.sock'));

  it('refuses anything but an absolute unix socket', () => {
    for (const bad of ['tcp://127.0.0.1:2375', 'unix://relative.sock', '/tmp/x.sock']) {
      let code: string | undefined;
      try {
        socketPathOf(bad);
      } catch (err) {
        code = isTsswarmError(err) ? err.code : 'other';
      }
      expect(code).toBe('CLI_USAGE');
    }
  });
});
