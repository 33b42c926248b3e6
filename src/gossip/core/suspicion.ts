import { suspicionTimeout } from './formulas.js';

/**
 * One member's suspicion timer (Lifeguard): the deadline starts `maxMs` after the suspicion
 * began and moves earlier with each independent confirmation, down to `minMs`.
 */
export class Suspicion {
  private readonly accusers = new Set<string>();
  private confirmations: number;
  deadline: number;
  /** Set once the timer ran out and the last-chance check is under way. */
  verifying = false;

  constructor(
    readonly incarnation: number,
    firstAccuser: string,
    private readonly start: number,
    private readonly expected: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    initialConfirmations: number,
  ) {
    this.accusers.add(firstAccuser);
    this.confirmations = Math.min(expected, initialConfirmations);
    this.deadline = start + suspicionTimeout(this.confirmations, expected, minMs, maxMs);
  }

  /** Records an accuser; true if it was new (and so worth re-broadcasting). */
  confirm(from: string): boolean {
    if (this.accusers.has(from)) return false;
    this.accusers.add(from);
    if (this.confirmations < this.expected && !this.verifying) {
      this.confirmations++;
      this.deadline = this.start + suspicionTimeout(this.confirmations, this.expected, this.minMs, this.maxMs);
    }
    return true;
  }
}
