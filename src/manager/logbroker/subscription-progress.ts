/**
 * Which parts of one subscription are still open. Pure. A node's part is its tasks; a task
 * leaves the part when the node reports an error for it, and the whole part ends when the
 * node closes it (non-follow: all sent) or fails (its session or stream ended). The
 * subscription is complete when no node has an open task left.
 */
export class SubscriptionProgress {
  private readonly open = new Map<string, Set<string>>();

  constructor(parts: ReadonlyMap<string, readonly string[]>) {
    for (const [nodeId, tasks] of parts) if (tasks.length > 0) this.open.set(nodeId, new Set(tasks));
  }

  /** The node's tasks still open, in the order given. */
  openTasks(nodeId: string): readonly string[] {
    return [...(this.open.get(nodeId) ?? [])];
  }

  /** Whether the node serves this subscription now. */
  hasPart(nodeId: string): boolean {
    return this.open.has(nodeId);
  }

  /** Whether the node may still publish lines of this task. */
  owns(nodeId: string, taskId: string): boolean {
    return this.open.get(nodeId)?.has(taskId) ?? false;
  }

  /** The node cannot read this task: it leaves the part. True if it was open. */
  endTask(nodeId: string, taskId: string): boolean {
    const tasks = this.open.get(nodeId);
    if (tasks === undefined || !tasks.delete(taskId)) return false;
    if (tasks.size === 0) this.open.delete(nodeId);
    return true;
  }

  /** The node sent everything (close). */
  closeNode(nodeId: string): void {
    this.open.delete(nodeId);
  }

  /** The node's part broke: returns its tasks still open, each of which gets an error. */
  failNode(nodeId: string): string[] {
    const tasks = [...(this.open.get(nodeId) ?? [])];
    this.open.delete(nodeId);
    return tasks;
  }

  nodes(): string[] {
    return [...this.open.keys()];
  }

  complete(): boolean {
    return this.open.size === 0;
  }
}
