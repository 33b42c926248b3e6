import type { RaftTransport } from '../transport/index.js';
import type { NodeId } from '../types.js';

/**
 * Where each member can be reached, kept in step with the transport's peers. Addresses come
 * from the command line (hints), from snapshots and from applied addLearner entries; a member
 * removed while this node watched is remembered so its streams can be turned away.
 */
export class MemberDirectory {
  private readonly addrs = new Map<NodeId, string>();
  private readonly removedIds = new Set<NodeId>();
  private transport: RaftTransport | undefined;

  constructor(private readonly selfId: NodeId) {}

  /** From now on every change is mirrored into the transport (which learns all known peers). */
  attach(transport: RaftTransport): void {
    this.transport = transport;
    for (const [id, addr] of this.addrs) transport.setPeer(id, addr);
  }

  set(id: NodeId, addr: string): void {
    this.addrs.set(id, addr);
    this.removedIds.delete(id);
    this.transport?.setPeer(id, addr);
  }

  /** An applied removal: forget the address, close the connection, turn its streams away. */
  remove(id: NodeId): void {
    this.addrs.delete(id);
    if (id !== this.selfId) this.removedIds.add(id);
    this.transport?.removePeer(id);
  }

  addr(id: NodeId): string | undefined {
    return this.addrs.get(id);
  }

  wasRemoved(id: NodeId): boolean {
    return this.removedIds.has(id);
  }

  /** All known addresses, for snapshots. */
  all(): ReadonlyMap<NodeId, string> {
    return this.addrs;
  }
}
