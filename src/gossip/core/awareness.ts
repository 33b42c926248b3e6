/**
 * Lifeguard's local health multiplier: a score in [0, max) that rises when this node misses
 * acks or nacks it should have received, or has to refute a suspicion about itself, and falls
 * on each successful probe. A high score means "I am probably the slow one", so probes slow
 * down and wait longer instead of accusing healthy members.
 */
export class Awareness {
  private score = 0;
  constructor(private readonly max: number) {}

  apply(delta: number): void {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta));
  }

  get healthScore(): number {
    return this.score;
  }
}
