/**
 * The members this node knows (itself included), with the random choices SWIM makes over
 * them: k random members for gossip and indirect probes, and the probe order (a random
 * round-robin, reshuffled every pass, as in memberlist).
 */
import type { Rng } from '../../util/rng.js';
import type { MemberState } from '../wire/messages.js';

export interface Member {
  id: string;
  addr: string;
  incarnation: number;
  state: MemberState;
  stateChangedAt: number;
}

export const isActiveState = (s: MemberState): boolean => s === 'alive' || s === 'suspect';

export class MemberList {
  private readonly byId = new Map<string, Member>();
  /** Every member but this node, for random draws. */
  private others: string[] = [];
  /** Members alive or suspect (this node included); -1 when it must be recounted. */
  private activeCount = -1;
  private probeOrder: string[] = [];
  private probeIndex = 0;

  constructor(
    private readonly selfId: string,
    private readonly rng: Rng,
  ) {}

  get(id: string): Member | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<Member> {
    return this.byId.values();
  }

  /** Adds a member; others go to a random place in the probe order, so they are probed within a pass. */
  add(m: Member): void {
    this.byId.set(m.id, m);
    this.activeCount = -1;
    if (m.id === this.selfId) return;
    this.others.push(m.id);
    this.probeOrder.splice(this.rng.int(this.probeOrder.length + 1), 0, m.id);
  }

  removeAll(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    for (const id of ids) this.byId.delete(id);
    this.others = this.others.filter((id) => !ids.has(id));
    this.activeCount = -1;
  }

  /** Call after any state change, so the active count is recounted. */
  changed(): void {
    this.activeCount = -1;
  }

  isActive(id: string): boolean {
    const m = this.byId.get(id);
    return m !== undefined && isActiveState(m.state);
  }

  countActive(): number {
    if (this.activeCount < 0) {
      let n = 0;
      for (const m of this.byId.values()) if (isActiveState(m.state)) n++;
      this.activeCount = n;
    }
    return this.activeCount;
  }

  /**
   * k distinct random members (never this node) that satisfy `pred`: random draws first, which
   * is cheap when most members qualify, then a full scan when the draws fall short.
   */
  random(k: number, pred: (m: Member) => boolean): Member[] {
    const out: Member[] = [];
    const ids = this.others;
    if (ids.length > 4 * k) {
      const seen = new Set<string>();
      for (let tries = 0; tries < 4 * k + 8 && out.length < k; tries++) {
        const id = ids[this.rng.int(ids.length)]!;
        if (seen.has(id)) continue;
        seen.add(id);
        const m = this.byId.get(id)!;
        if (pred(m)) out.push(m);
      }
      if (out.length === k) return out;
    }
    const pool: Member[] = [];
    for (const id of ids) {
      const m = this.byId.get(id)!;
      if (pred(m)) pool.push(m);
    }
    return this.pick(pool, k);
  }

  /** k distinct random elements (a partial Fisher-Yates on a copy). */
  pick<T>(pool: readonly T[], k: number): T[] {
    const a = [...pool];
    const n = Math.min(k, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.rng.int(a.length - i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a.slice(0, n);
  }

  /** The next member to probe: alive or suspect, never this node. */
  nextProbeTarget(): Member | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.probeIndex < this.probeOrder.length) {
        const m = this.byId.get(this.probeOrder[this.probeIndex++]!);
        if (m !== undefined && m.id !== this.selfId && isActiveState(m.state)) return m;
      }
      // A pass is over: start another in a fresh random order (dead members drop out).
      this.probeOrder = this.pick(this.others.filter((id) => this.isActive(id)), Infinity);
      this.probeIndex = 0;
    }
    return undefined;
  }
}
