import type { Command } from 'commander';
import { registerNodeInspect } from './inspect.js';
import { registerNodeLs } from './ls.js';

/** `tsswarm node ...`: one file per verb. */
export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('Manage swarm nodes');
  registerNodeLs(node);
  registerNodeInspect(node);
}
