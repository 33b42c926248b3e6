import type { Command } from 'commander';
import { registerServiceCreate } from './create.js';
import { registerServiceInspect } from './inspect.js';
import { registerServiceLogs } from './logs.js';
import { registerServiceLs } from './ls.js';
import { registerServicePs } from './ps.js';
import { registerServiceRm, registerServiceRollback, registerServiceScale } from './scale-rollback-rm.js';
import { registerServiceUpdate } from './update.js';

/** `tsswarm service ...`: one file per verb (scale, rollback and rm are small and share one). */
export function registerServiceCommands(program: Command): void {
  // Positional options: `service create IMAGE -c ...` hands everything after IMAGE to the task.
  const service = program.command('service').description('Manage swarm services').enablePositionalOptions();
  registerServiceCreate(service);
  registerServiceLs(service);
  registerServicePs(service);
  registerServiceInspect(service);
  registerServiceScale(service);
  registerServiceUpdate(service);
  registerServiceRollback(service);
  registerServiceRm(service);
  registerServiceLogs(service);
}
