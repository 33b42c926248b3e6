import type { Rng } from '../../util/rng.js';

/**
 * Which manager the agent dials next. Every known manager is tried once per round, in a
 * random order (so the nodes of a cluster spread over the managers and none is retried before
 * the others were), except that a preferred address goes first: the one the node joined
 * through at start, and the leader a follower named (DISPATCHER_NOT_LEADER). Pure; Rng injected.
 */
export class ManagerPicker {
  private addrs: string[];
  private round: string[] = [];
  private preferred: string | undefined;

  constructor(
    initial: readonly string[],
    private readonly rng: Rng,
  ) {
    this.addrs = unique(initial);
    this.preferred = this.addrs[0];
  }

  /** The addresses known now. */
  known(): readonly string[] {
    return this.addrs;
  }

  /** Dial `addr` next (added to the known ones if new). */
  prefer(addr: string): void {
    if (!this.addrs.includes(addr)) this.addrs.push(addr);
    this.preferred = addr;
  }

  /**
   * Replaces the known managers (from a session message). An empty list is ignored: a node
   * never forgets every way back. The current round keeps only addresses still known.
   */
  replace(addrs: readonly string[]): void {
    const next = unique(addrs);
    if (next.length === 0) return;
    this.addrs = next;
    this.round = this.round.filter((a) => next.includes(a));
    if (this.preferred !== undefined && !next.includes(this.preferred)) this.preferred = undefined;
  }

  /** The address to dial now; undefined only when none is known. */
  next(): string | undefined {
    if (this.preferred !== undefined) {
      const addr = this.preferred;
      this.preferred = undefined;
      this.round = this.round.filter((a) => a !== addr);
      return addr;
    }
    if (this.round.length === 0) this.round = shuffled(this.addrs, this.rng);
    return this.round.shift();
  }
}

function unique(addrs: readonly string[]): string[] {
  return [...new Set(addrs.filter((a) => a !== ''))];
}

function shuffled(items: readonly string[], rng: Rng): string[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
