import type { Command } from 'commander';
import { globalOptions } from '../daemon-client.js';
import { fail } from '../output.js';

/** Runs a command body; any error is printed the CLI.md way and exits non-zero. */
export async function guarded(cmd: Command, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    fail(err, globalOptions(cmd).debug === true);
  }
}
