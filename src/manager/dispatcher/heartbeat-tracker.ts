/**
 * The heartbeat deadlines of the nodes a dispatcher knows. Pure: every call takes `now`
 * (the injected monotonic Clock's ms). A node is expired once `now` passes its deadline:
 * missedHeartbeats periods after its last heartbeat or registration, times the grace
 * multiplier for the nodes a new leader inherited.
 */
export class HeartbeatTracker {
  private readonly deadlines = new Map<string, number>();

  constructor(private readonly missedHeartbeats: number) {}

  /** A session opened (or a new leader inherits the node): the clock starts now. */
  register(nodeId: string, now: number, periodMs: number, graceMultiplier = 1): void {
    this.deadlines.set(nodeId, now + periodMs * this.missedHeartbeats * graceMultiplier);
  }

  /** A heartbeat; false when the node is not registered (expired, or never was). */
  beat(nodeId: string, now: number, periodMs: number): boolean {
    if (!this.deadlines.has(nodeId)) return false;
    this.deadlines.set(nodeId, now + periodMs * this.missedHeartbeats);
    return true;
  }

  has(nodeId: string): boolean {
    return this.deadlines.has(nodeId);
  }

  remove(nodeId: string): void {
    this.deadlines.delete(nodeId);
  }

  /** Nodes whose deadline passed; they are forgotten (a new session registers them again). */
  takeExpired(now: number): string[] {
    const expired: string[] = [];
    for (const [nodeId, deadline] of this.deadlines) {
      if (now > deadline) {
        expired.push(nodeId);
        this.deadlines.delete(nodeId);
      }
    }
    return expired;
  }
}

/** The period a heartbeat reply names: `base`, shortened by up to `jitter` x base at random. */
export function jitteredPeriod(baseMs: number, jitter: number, random: number): number {
  return Math.max(1, Math.round(baseMs - baseMs * jitter * random));
}
