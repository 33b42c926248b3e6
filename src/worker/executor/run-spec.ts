import { TsswarmError } from '../../errors/index.js';
import type { Task } from '../../objects/index.js';
import type { RunSpec } from '../runtime/runtime.js';
import { expandTemplate, templateContext } from './templates.js';

/**
 * What the runtime gets for a task: templates expanded, TSSWARM_* added (they win over the
 * spec's own, so a task can trust them), hostname defaulting to the first 12 characters of the
 * task ID as Docker's does. Pure; throws TASK_TEMPLATE_INVALID or TASK_SPEC_INVALID.
 */
export function buildRunSpec(
  task: Task,
  node: { readonly id: string; readonly hostname: string },
  where: { readonly netnsPath: string; readonly taskDir: string },
): RunSpec {
  const ctx = templateContext(task, node);
  const spec = task.spec;
  if (spec.image === '') throw new TsswarmError('TASK_SPEC_INVALID', { taskId: task.id, reason: 'no image (program) given' });
  const env: string[] = [];
  for (const kv of spec.env) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new TsswarmError('TASK_SPEC_INVALID', { taskId: task.id, reason: `env entry "${kv}" is not KEY=VALUE` });
    if (kv.startsWith('TSSWARM_')) continue;
    env.push(kv.slice(0, i + 1) + expandTemplate(kv.slice(i + 1), ctx));
  }
  env.push(
    `TSSWARM_SERVICE_NAME=${ctx.serviceName}`,
    `TSSWARM_TASK_NAME=${ctx.taskName}`,
    `TSSWARM_TASK_SLOT=${ctx.taskSlot}`,
    `TSSWARM_TASK_ID=${ctx.taskId}`,
    `TSSWARM_NODE_ID=${ctx.nodeId}`,
    `TSSWARM_NODE_HOSTNAME=${ctx.nodeHostname}`,
  );
  const hostname = spec.hostname !== '' ? expandTemplate(spec.hostname, ctx) : task.id.slice(0, 12);
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) {
    throw new TsswarmError('TASK_SPEC_INVALID', { taskId: task.id, reason: `hostname "${hostname}" is not a valid host name (letters, digits, "-" and ".", at most 63)` });
  }
  return {
    taskId: task.id,
    image: spec.image,
    command: [...spec.command],
    args: [...spec.args],
    env,
    hostname,
    dir: spec.dir,
    user: spec.user,
    netnsPath: where.netnsPath,
    taskDir: where.taskDir,
  };
}
