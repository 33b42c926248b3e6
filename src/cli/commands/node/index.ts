import type { Command } from 'commander';
import { registerNodeInspect } from './inspect.js';
import { registerNodeLs } from './ls.js';
import { registerNodePs } from './ps.js';
import { registerNodeRm } from './rm.js';
import { registerNodeRoleCommands } from './role.js';
import { registerNodeUpdate } from './update.js';

/** `tsswarm node ...`: one file per verb. */
export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('Manage swarm nodes');
  registerNodeLs(node);
  registerNodeInspect(node);
  registerNodeRoleCommands(node);
  registerNodeUpdate(node);
  registerNodePs(node);
  registerNodeRm(node);
}
