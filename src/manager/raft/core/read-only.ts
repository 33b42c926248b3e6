import type { NodeId } from '../types.js';

export interface PendingRead {
  /** The commit index when the request arrived: the read may be served once it is applied. */
  readonly index: number;
  /** Who asked: the leader itself, or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly context: Uint8Array;
  readonly acks: Set<NodeId>;
}

/** A map key for a read's context bytes. */
export function contextKey(context: Uint8Array): string {
  let key = '';
  for (let i = 0; i < context.length; i++) key += String.fromCharCode(context[i]!);
  return key;
}

/**
 * ReadIndex requests waiting for a heartbeat round to confirm that the leader was still the
 * leader when they arrived (Raft §8). An ack for a request also confirms every earlier one.
 */
export class ReadOnlyQueue {
  private readonly byKey = new Map<string, PendingRead>();
  private order: string[] = [];

  get size(): number {
    return this.order.length;
  }

  /** Queue a request; a context already pending is ignored (it will be answered once). */
  add(index: number, from: NodeId, context: Uint8Array): void {
    const key = contextKey(context);
    if (this.byKey.has(key)) return;
    this.byKey.set(key, { index, from, context, acks: new Set() });
    this.order.push(key);
  }

  /** Record that `from` confirmed our leadership for `context`; returns who has, or undefined. */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const req = this.byKey.get(contextKey(context));
    if (req === undefined) return undefined;
    req.acks.add(from);
    return req.acks;
  }

  /** Remove and return every request up to and including `context`, oldest first. */
  advance(context: Uint8Array): PendingRead[] {
    const key = contextKey(context);
    const at = this.order.indexOf(key);
    if (at < 0) return [];
    const done = this.order.slice(0, at + 1).map((k) => this.byKey.get(k)!);
    for (const k of this.order.slice(0, at + 1)) this.byKey.delete(k);
    this.order = this.order.slice(at + 1);
    return done;
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.order[this.order.length - 1];
    return key === undefined ? undefined : this.byKey.get(key)!.context;
  }

  reset(): void {
    this.byKey.clear();
    this.order = [];
  }
}
