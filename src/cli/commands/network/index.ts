import type { Command } from 'commander';
import { registerNetworkCreate } from './create.js';
import { registerNetworkInspect } from './inspect.js';
import { registerNetworkLs } from './ls.js';
import { registerNetworkRm } from './rm.js';

/** `tsswarm network ...`: one file per verb, as `service`. */
export function registerNetworkCommands(program: Command): void {
  const network = program.command('network').description('Manage swarm networks');
  registerNetworkCreate(network);
  registerNetworkLs(network);
  registerNetworkInspect(network);
  registerNetworkRm(network);
}
