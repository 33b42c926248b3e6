import type { Message, NodeId } from '../../../../src/manager/raft/types.js';
import type { Rng } from '../../../../src/util/rng.js';

/** How badly the network behaves right now. Rates are chances per message. */
export interface Weather {
  readonly dropRate: number;
  readonly dupRate: number;
  /** Chance that a message is held back 1..maxDelay ticks. */
  readonly delayRate: number;
  readonly maxDelay: number;
  /** Deliver due messages in random order rather than in the order they were sent. */
  readonly reorder: boolean;
  /**
   * Chance that a sender's transport notices that a message was lost to a partition or a dead
   * peer (its stream broke) and reports the peer unreachable.
   */
  readonly unreachableRate: number;
}

export const CALM: Weather = {
  dropRate: 0,
  dupRate: 0,
  delayRate: 0,
  maxDelay: 0,
  reorder: false,
  unreachableRate: 1,
};

/**
 * Something in transit: a Raft message between two nodes, or a local report from a node's
 * transport to its own core (a peer is unreachable, a snapshot send finished or failed).
 * Reports are addressed to one incarnation of a process: a restarted process never hears
 * what its predecessor's transport saw.
 */
export type Parcel =
  | {
      readonly kind: 'message';
      readonly msg: Message;
      /** The node whose transport sent it; msg.from names the originator of a forwarded message. */
      readonly sender: NodeId;
      readonly due: number;
      readonly seq: number;
      readonly dup: boolean;
      readonly senderIncarnation: number;
    }
  | {
      readonly kind: 'unreachable' | 'snapshotDone' | 'snapshotFailed';
      readonly at: NodeId;
      readonly about: NodeId;
      readonly due: number;
      readonly seq: number;
      readonly incarnation: number;
    };

/**
 * The simulated network: messages in flight with a due tick, partitions into groups, and the
 * current weather. It only decides what happens to a message; the cluster delivers it.
 */
export class SimNetwork {
  weather: Weather = CALM;
  private readonly groupOf = new Map<NodeId, number>();
  /** One-way cuts, "from>to": asymmetric failures such as a firewall rule or a half-broken stream. */
  private readonly cutLinks = new Set<string>();
  private parcels: Parcel[] = [];
  private seq = 0;

  constructor(private readonly rng: Rng) {}

  /** Split the nodes into groups that cannot talk to each other; unlisted nodes form one more group. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.groupOf.clear();
    groups.forEach((group, i) => group.forEach((id) => this.groupOf.set(id, i + 1)));
  }

  /** Messages from `from` to `to` are lost; the other direction still works. */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}>${to}`);
  }

  heal(): void {
    this.groupOf.clear();
    this.cutLinks.clear();
  }

  isPartitioned(): boolean {
    return this.groupOf.size > 0 || this.cutLinks.size > 0;
  }

  connected(from: NodeId, to: NodeId): boolean {
    return (this.groupOf.get(from) ?? 0) === (this.groupOf.get(to) ?? 0) && !this.cutLinks.has(`${from}>${to}`);
  }

  describePartition(): string {
    const cuts = [...this.cutLinks].join(' ');
    if (this.groupOf.size === 0) return cuts === '' ? 'none' : `cuts ${cuts}`;
    const groups = new Map<number, NodeId[]>();
    for (const [id, g] of this.groupOf) groups.set(g, [...(groups.get(g) ?? []), id]);
    return [...groups.values()].map((g) => g.join(',')).join(' | ') + (cuts === '' ? '' : `, cuts ${cuts}`);
  }

  /** Returns false when the message was lost on the way (a random drop). */
  send(msg: Message, sender: NodeId, senderIncarnation: number, now: number): boolean {
    const w = this.weather;
    if (w.dropRate > 0 && this.rng.float() < w.dropRate) return false;
    this.push({ kind: 'message', msg, sender, due: now + this.delay(), seq: this.seq++, dup: false, senderIncarnation });
    if (w.dupRate > 0 && this.rng.float() < w.dupRate) {
      this.push({ kind: 'message', msg, sender, due: now + this.delay(), seq: this.seq++, dup: true, senderIncarnation });
    }
    return true;
  }

  /** A report from `at`'s own transport to its core, delivered after `delay` ticks. */
  report(kind: 'unreachable' | 'snapshotDone' | 'snapshotFailed', at: NodeId, about: NodeId, incarnation: number, due: number): void {
    this.push({ kind, at, about, incarnation, due, seq: this.seq++ });
  }

  private delay(): number {
    const w = this.weather;
    if (w.delayRate <= 0 || this.rng.float() >= w.delayRate) return 0;
    return 1 + this.rng.int(Math.max(1, w.maxDelay));
  }

  private push(parcel: Parcel): void {
    this.parcels.push(parcel);
  }

  /**
   * How many parcels could be delivered now. Parcels for a node for which `held` is true (a
   * paused process) wait in the network until it resumes.
   */
  dueCount(now: number, held: (id: NodeId) => boolean): number {
    let count = 0;
    for (const p of this.parcels) if (this.deliverable(p, now, held)) count++;
    return count === 0 || this.weather.reorder ? count : 1;
  }

  /** Remove and return the `n`-th deliverable parcel (oldest first unless the weather reorders). */
  take(now: number, n: number, held: (id: NodeId) => boolean): Parcel {
    let seen = 0;
    for (let i = 0; i < this.parcels.length; i++) {
      const p = this.parcels[i]!;
      if (!this.deliverable(p, now, held)) continue;
      if (seen === n || !this.weather.reorder) {
        this.parcels.splice(i, 1);
        return p;
      }
      seen++;
    }
    throw new Error(`simulator: no deliverable parcel #${n}`);
  }

  private deliverable(p: Parcel, now: number, held: (id: NodeId) => boolean): boolean {
    return p.due <= now && !held(p.kind === 'message' ? p.msg.to : p.at);
  }

  inFlight(): number {
    return this.parcels.length;
  }
}
