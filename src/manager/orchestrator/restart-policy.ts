import type { Node, RestartPolicy, Task, TaskSpec } from '../../objects/index.js';
import { nodeMatchesConstraints, parseConstraint, type Constraint } from '../scheduler/constraint.js';
import { hasFinished, LABELS, nodeLost, restartTimesOf, withLabels } from './task-model.js';

/** Docker's restart policy when a spec carries none: any exit, 5 s apart, no limit. */
export const DEFAULT_RESTART: RestartPolicy = { condition: 'ANY', delayMs: 5_000, maxAttempts: 0, windowMs: 0 };

export type ReplaceReason = 'exited' | 'node-down' | 'node-drained';

const parsedConstraints = new WeakMap<TaskSpec, Constraint[] | undefined>();

function constraintsOf(spec: TaskSpec): Constraint[] | undefined {
  if (!parsedConstraints.has(spec)) {
    let cs: Constraint[] | undefined;
    try {
      cs = (spec.placement?.constraints ?? []).map(parseConstraint);
    } catch {
      cs = undefined;
    }
    parsedConstraints.set(spec, cs);
  }
  return parsedConstraints.get(spec);
}

/**
 * Why a task meant to run needs a successor, if it does: it exited (COMPLETE, FAILED,
 * REJECTED, SHUTDOWN), its node is DOWN or gone, or its node is drained or no longer meets the
 * task's constraints (swarmkit's constraint enforcer, e.g. after `node update --label-rm`):
 * both move the task at once, as a drain.
 */
export function replaceReason(t: Task, nodes: ReadonlyMap<string, Node>): ReplaceReason | undefined {
  if (hasFinished(t)) return 'exited';
  if (nodeLost(t, nodes)) return 'node-down';
  if (t.nodeId === '') return undefined;
  const node = nodes.get(t.nodeId)!;
  if (node.spec.availability === 'DRAIN') return 'node-drained';
  const cs = constraintsOf(t.spec);
  if (cs !== undefined && !nodeMatchesConstraints(node, cs)) return 'node-drained';
  return undefined;
}

/**
 * Whether an exited task is restarted (swarmkit's restart supervisor): never with condition
 * none; not after a clean exit (COMPLETE) with on-failure; not once max attempts restarts
 * happened (within the window, when one is set).
 */
export function shouldRestart(t: Task, policy: RestartPolicy, nowMs: number): boolean {
  if (policy.condition === 'NONE') return false;
  if (policy.condition === 'ON_FAILURE' && t.status.state === 'COMPLETE') return false;
  if (policy.maxAttempts > 0) {
    const counted = restartTimesOf(t).filter((at) => policy.windowMs <= 0 || at > nowMs - policy.windowMs);
    if (counted.length >= policy.maxAttempts) return false;
  }
  return true;
}

/**
 * The task shut down and marked for replacement. An exit waits the restart delay and counts as
 * an attempt. A lost node's tasks move at once, as a drained node's: the dispatcher already
 * waited 3 heartbeat periods before calling the node DOWN, and the restart delay exists to
 * pace a task that keeps failing, not to add to that wait. Node losses are not attempts: max
 * attempts limits a task that keeps failing, not one whose node went away.
 */
export function markForReplacement(t: Task, reason: ReplaceReason, policy: RestartPolicy, nowMs: number): Task {
  const after = reason === 'exited' ? nowMs + policy.delayMs : nowMs;
  let history = restartTimesOf(t);
  if (reason === 'exited' && policy.maxAttempts > 0) {
    history = [...history, nowMs].filter((at) => policy.windowMs <= 0 || at > nowMs - policy.windowMs).slice(-policy.maxAttempts);
  }
  return withLabels({ ...t, desiredState: 'SHUTDOWN' }, {
    [LABELS.replaceAfter]: String(after),
    [LABELS.restarts]: history.length > 0 ? history.join(',') : undefined,
  });
}
