import { TsswarmError } from '../../errors/index.js';
import type { Task } from '../../objects/index.js';

/** The values a hostname or env template may use, Docker's names. */
export interface TemplateContext {
  readonly serviceName: string;
  readonly taskName: string;
  readonly taskSlot: string;
  readonly taskId: string;
  readonly nodeId: string;
  readonly nodeHostname: string;
}

const FIELDS: Readonly<Record<string, keyof TemplateContext>> = {
  '.Service.Name': 'serviceName',
  '.Task.Name': 'taskName',
  '.Task.Slot': 'taskSlot',
  '.Task.ID': 'taskId',
  '.Node.ID': 'nodeId',
  '.Node.Hostname': 'nodeHostname',
};

/**
 * Expands {{.Service.Name}} and the other fields Docker offers (spaces inside the braces
 * allowed). Anything else between {{ }}, or an unclosed {{, throws TASK_TEMPLATE_INVALID.
 */
export function expandTemplate(template: string, ctx: TemplateContext): string {
  let out = '';
  let i = 0;
  for (;;) {
    const open = template.indexOf('{{', i);
    if (open < 0) return out + template.slice(i);
    const close = template.indexOf('}}', open + 2);
    if (close < 0) throw new TsswarmError('TASK_TEMPLATE_INVALID', { template, reason: 'a "{{" is never closed' });
    const field = template.slice(open + 2, close).trim();
    const key = FIELDS[field];
    if (key === undefined) throw new TsswarmError('TASK_TEMPLATE_INVALID', { template, reason: `unknown field "${field}"` });
    out += template.slice(i, open) + ctx[key];
    i = close + 2;
  }
}

/** swarmkit's task name: SERVICE.SLOT.ID (replicated) or SERVICE.NODE.ID (global, slot 0). */
export function taskName(task: Task): string {
  const given = task.annotations?.name ?? '';
  if (given !== '') return given;
  const service = task.serviceAnnotations?.name ?? task.serviceId;
  return `${service}.${task.slot > 0 ? task.slot : task.nodeId}.${task.id}`;
}

export function templateContext(task: Task, node: { readonly id: string; readonly hostname: string }): TemplateContext {
  return {
    serviceName: task.serviceAnnotations?.name ?? task.serviceId,
    taskName: taskName(task),
    taskSlot: String(task.slot),
    taskId: task.id,
    nodeId: node.id,
    nodeHostname: node.hostname,
  };
}
