import { errorMessage, isTsswarmError } from '../../errors/index.js';
import type { BrokerLogItem, LogSubscribeRequest } from '../logbroker/index.js';
import { serviceLogTargets } from '../logbroker/index.js';
import type { MemoryStore } from '../store/index.js';
import type { ServiceLogLine, ServiceLogsRequest } from './messages.js';
import { resolveService } from './service-control.js';

/** The leader's log broker, as `service logs` uses it (ManagerDispatcher.subscribeLogs). */
export type LogSubscriber = (request: LogSubscribeRequest) => AsyncIterable<BrokerLogItem>;

/**
 * `service logs`: the lines of every task of the service that reached a node, from those
 * nodes, named as Docker names them (`<service>.<slot>`, node hostname). A node that cannot
 * deliver its part yields one line with `error` set and the rest go on.
 */
export async function* serviceLogs(store: MemoryStore, subscribe: LogSubscriber, req: ServiceLogsRequest, signal: AbortSignal): AsyncIterable<ServiceLogLine> {
  const { service, tasks, nodes } = await store.viewLinearizable((tx) => {
    const s = resolveService(tx, req.ref);
    return { service: s, tasks: tx.tasksByService(s.id), nodes: tx.list('node') };
  });
  const byTask = new Map(tasks.map((t) => [t.id, t]));
  const hostname = new Map(nodes.map((n) => [n.id, n.description?.hostname ?? '']));
  const name = service.spec.annotations.name;
  const targets = serviceLogTargets(tasks, service.id);
  if (targets.length === 0) return;
  for await (const item of subscribe({ tasks: targets, follow: req.follow, signal })) {
    const task = byTask.get(item.taskId);
    const common = {
      taskId: item.taskId,
      taskName: task === undefined ? name : task.slot > 0 ? `${name}.${task.slot}` : `${name}.${task.nodeId}`,
      nodeId: item.nodeId,
      nodeHostname: hostname.get(item.nodeId) ?? '',
    };
    if (item.kind === 'line') yield { ...common, stream: item.stream, timestampMs: item.timestampMs, line: item.line, error: '' };
    // A task the node already removed (an old, finished one) has nothing to show: Docker is silent too.
    else if (!(isTsswarmError(item.error) && item.error.code === 'TASK_NOT_FOUND')) {
      yield { ...common, stream: 'stderr', timestampMs: Date.now(), line: '', error: errorMessage(item.error) };
    }
  }
}
