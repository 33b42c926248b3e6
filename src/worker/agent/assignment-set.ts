import type { Task } from '../../objects/index.js';
import type { AssignmentsMessage } from '../../manager/dispatcher/messages.js';
import { withoutNulls } from '../../util/without-nulls.js';

export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * The complete set of tasks assigned to this node, kept from the Assignments stream: a
 * COMPLETE message replaces it, an INCREMENTAL one adds/replaces and removes tasks, and must
 * apply to the set we hold (its `appliesTo` = the `resultsIn` of the last message). A gap
 * means a lost message: the caller drops the stream and starts over with a COMPLETE set.
 * Pure.
 */
export class AssignmentSet {
  private readonly tasks = new Map<string, Task>();
  private sequence: number | undefined;

  apply(message: AssignmentsMessage): ApplyResult {
    if (message.type === 'COMPLETE') {
      this.tasks.clear();
    } else {
      if (this.sequence === undefined) return { ok: false, reason: 'an incremental change arrived before the complete set' };
      if (message.appliesTo !== this.sequence) {
        return { ok: false, reason: `an incremental change applies to set ${message.appliesTo}, but this node holds set ${this.sequence}` };
      }
    }
    for (const id of message.removeTasks) this.tasks.delete(id);
    // Off the wire, absent sub-messages are null; the executor reads absent as undefined.
    for (const task of message.updateTasks) this.tasks.set(task.id, withoutNulls(task));
    this.sequence = message.resultsIn;
    return { ok: true };
  }

  /** Forget the sequence (a new stream starts with a COMPLETE set); the tasks stay. */
  resetSequence(): void {
    this.sequence = undefined;
  }

  list(): Task[] {
    return [...this.tasks.values()];
  }

  has(taskId: string): boolean {
    return this.tasks.has(taskId);
  }
}
