import type { Service } from '../../objects/index.js';
import type { WriteTx } from '../store/index.js';
import { validatePlacement } from '../scheduler/placement.js';
import { isRunnable } from './task-model.js';

export { rollbackServiceSpec } from './rolling-update.js';

/**
 * `service rm`, inside the caller's transaction (swarmkit's controlapi RemoveService plus the
 * orchestrator's reaction, done at once so the answer to the caller already holds): the
 * service is marked pending delete (it leaves `service ls`), and each of its tasks gets desired
 * state REMOVE, so agents stop them. The task reaper deletes the tasks once they stopped (or
 * never ran) and then the service itself.
 */
export function removeService(tx: WriteTx, service: Service): void {
  const current = tx.get('service', service.id);
  if (current === undefined) return;
  if (!current.pendingDelete) tx.update('service', { ...current, pendingDelete: true });
  for (const t of tx.tasksByService(current.id)) {
    if (t.desiredState !== 'REMOVE' && (isRunnable(t) || t.desiredState === 'SHUTDOWN')) tx.update('task', { ...t, desiredState: 'REMOVE' });
  }
}

/** The placement check the control API runs before writing a service (the scheduler's grammar). */
export function checkPlacement(constraints: readonly string[], preferences: readonly string[]): void {
  validatePlacement(constraints, preferences);
}
