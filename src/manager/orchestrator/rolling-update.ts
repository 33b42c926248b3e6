import { TsswarmError } from '../../errors/index.js';
import type { Service, ServiceSpec, Task, UpdateConfig, UpdateStatus } from '../../objects/index.js';
import type { PlanContext, Slot } from './slots.js';
import { slotTasks } from './slots.js';
import { hasFinished, isRunnable, LABELS, newTask, replaceAfterOf, taskUpToDate, withLabels } from './task-model.js';

/** Docker's update and rollback settings when a spec carries none (swarmkit api/defaults). */
export const DEFAULT_UPDATE: UpdateConfig = { parallelism: 1, delayMs: 0, failureAction: 'PAUSE', monitorMs: 5_000, maxFailureRatio: 0, order: 'STOP_FIRST' };

/**
 * The spec `service rollback` (and failure action rollback) returns to: the previous spec, as
 * swarmkit does; while the update status is ROLLBACK_STARTED the updater follows that spec's
 * rollback settings. Pure; throws SERVICE_NO_PREVIOUS_SPEC when the service was never updated.
 */
export function rollbackServiceSpec(service: Service): ServiceSpec {
  if (service.previousSpec === undefined) throw new TsswarmError('SERVICE_NO_PREVIOUS_SPEC', { name: service.spec.annotations.name });
  return service.previousSpec;
}

const ACTIVE_STATES = new Set(['UPDATING', 'ROLLBACK_STARTED']);
const PAUSED_STATES = new Set(['PAUSED', 'ROLLBACK_PAUSED']);

function status(state: UpdateStatus['state'], startedAtMs: number, message: string, completedAtMs = 0): UpdateStatus {
  return { state, startedAtMs, completedAtMs, message };
}

/**
 * A new task that ended on its own within the monitor period: Docker's "failure or early
 * termination". When the agent reported when it started (container.startedAtMs), an end later
 * than `monitor` after that start is no longer the update's fault.
 */
function failedEarly(t: Task, monitorMs: number): boolean {
  if (!hasFinished(t) || t.status.state === 'SHUTDOWN') return false;
  const started = t.status.container?.startedAtMs ?? 0;
  return started <= 0 || t.status.timestampMs - started <= monitorMs;
}

/**
 * One step of a rolling update of a service whose slots were settled (swarmkit's updater,
 * without memory: everything it needs is in the tasks and the service's update status).
 *
 * A task is out of date when its spec differs from the service's (a changed image, a bumped
 * --force...). While UPDATING (or ROLLBACK_STARTED), at most `parallelism` slots (0 = all) are
 * in flight: a slot is in flight from the moment its old task is replaced until its new task
 * has been RUNNING for `delay`. stop-first shuts the old task down and creates the new one once
 * it stopped; start-first creates the new one beside it and shuts the old one down once the new
 * one runs. New tasks that fail (or end) within `monitor` of their start count as failures; when
 * failures/slots exceeds the max failure ratio, the failure action applies: pause (PAUSED),
 * rollback (the previous spec returns, ROLLBACK_STARTED) or continue. The update completes when
 * no slot is out of date or in flight and every new task has run for `monitor`.
 */
export function planRollingUpdate(ctx: PlanContext, serviceId: string, slots: ReadonlyArray<{ slot: Slot; ids: readonly string[] }>): void {
  const { book, nowMs } = ctx;
  const service = book.service(serviceId)!;
  const current = slots.map(({ slot, ids }) => ({ slot, tasks: slotTasks(book, ids) }));
  const runnableOf = (tasks: Task[]): Task[] => tasks.filter(isRunnable);
  const outdated = current.filter(({ tasks }) => {
    const r = runnableOf(tasks);
    return r.length > 0 && r.every((t) => !taskUpToDate(t, service));
  });
  let st = service.updateStatus;
  const stateNow = st?.state ?? 'UNKNOWN';

  if (!ACTIVE_STATES.has(stateNow)) {
    if (PAUSED_STATES.has(stateNow) || outdated.length === 0) return;
    st = status('UPDATING', nowMs, 'update in progress');
    book.putService({ ...service, updateStatus: st });
  }
  const rollingBack = st!.state === 'ROLLBACK_STARTED';
  const config = (rollingBack ? service.spec.rollback : service.spec.update) ?? DEFAULT_UPDATE;
  const startedAtMs = st!.startedAtMs;
  const isNew = (t: Task): boolean => taskUpToDate(t, service) && t.meta.createdAtMs >= startedAtMs;

  // Failures among the tasks this update made.
  const failed = current.flatMap(({ tasks }) => tasks).filter((t) => isNew(t) && failedEarly(t, config.monitorMs));
  if (failed.length > 0 && failed.length / Math.max(1, slots.length) > config.maxFailureRatio && config.failureAction !== 'CONTINUE') {
    const culprit = failed[0]!.id;
    const latest = book.service(serviceId)!;
    if (config.failureAction === 'ROLLBACK' && !rollingBack && latest.previousSpec !== undefined) {
      book.putService({
        ...latest, spec: latest.previousSpec, previousSpec: latest.spec,
        updateStatus: status('ROLLBACK_STARTED', nowMs, `update rolled back due to failure or early termination of task ${culprit}`),
      });
    } else {
      const paused = rollingBack ? 'ROLLBACK_PAUSED' : 'PAUSED';
      const verb = rollingBack ? 'rollback' : 'update';
      book.putService({ ...latest, updateStatus: status(paused, startedAtMs, `${verb} paused due to failure or early termination of task ${culprit}`) });
    }
    return;
  }

  // Slots in flight, and when the earliest of them lands.
  let inFlight = 0;
  for (const { tasks } of current) {
    const r = runnableOf(tasks);
    const fresh = r.filter(isNew);
    if (r.length === 0) {
      if (tasks.some((t) => replaceAfterOf(t) !== undefined)) inFlight++;
      continue;
    }
    if (r.length > 1) {
      inFlight++;
      // start-first: once the new task runs, the old one goes.
      const running = fresh.find((t) => t.status.state === 'RUNNING');
      if (running !== undefined) for (const old of r) if (old !== running) book.put({ ...old, desiredState: 'SHUTDOWN' });
      continue;
    }
    const t = fresh[0];
    if (t === undefined) continue;
    if (t.status.state !== 'RUNNING') {
      if (!hasFinished(t)) inFlight++;
      continue;
    }
    const landsAt = t.status.timestampMs + config.delayMs;
    if (landsAt > nowMs) {
      inFlight++;
      book.wake(landsAt);
    }
  }

  const capacity = config.parallelism === 0 ? Number.POSITIVE_INFINITY : config.parallelism - inFlight;
  const todo = outdated.filter(({ tasks }) => runnableOf(tasks).length === 1);
  for (const { slot, tasks } of todo.slice(0, Math.max(0, capacity))) {
    const old = runnableOf(tasks)[0]!;
    if (config.order === 'START_FIRST') {
      book.create(newTask(book.service(serviceId)!, slot.where, ctx.newId(), nowMs));
    } else {
      book.put(withLabels({ ...old, desiredState: 'SHUTDOWN' }, {
        [LABELS.replaceAfter]: String(nowMs), [LABELS.replaceWhenStopped]: '1', [LABELS.restarts]: undefined,
      }));
    }
    inFlight++;
  }
  if (outdated.length > 0 || inFlight > 0) return;

  // Everything replaced: watch the new tasks for `monitor` before calling it done.
  const fresh = current.flatMap(({ tasks }) => runnableOf(tasks)).filter((t) => isNew(t) && t.status.state === 'RUNNING');
  const monitoredUntil = fresh.reduce((m, t) => Math.max(m, t.status.timestampMs + config.monitorMs), 0);
  if (monitoredUntil > nowMs) {
    book.wake(monitoredUntil);
    return;
  }
  const latest = book.service(serviceId)!;
  book.putService({
    ...latest,
    updateStatus: status(rollingBack ? 'ROLLBACK_COMPLETED' : 'COMPLETED', startedAtMs, rollingBack ? 'rollback completed' : 'update completed', nowMs),
  });
}
