import type { Logger } from '../../../log/logger.js';

/** ms between two debug lines of loop statistics. */
const STATS_EVERY_MS = 2_000;

/**
 * Counters of the Ready loop, logged at debug level every couple of seconds: how many Readies,
 * how big, and how long persisting and applying took. It shows where a write's time goes
 * (TSSWARM_LOG_LEVEL=debug).
 */
export class LoopStats {
  private readies = 0;
  private entries = 0;
  private committed = 0;
  private messages = 0;
  private saveMs = 0;
  private applyMs = 0;
  private loopMs = 0;
  private since = performance.now();

  ready(entries: number, committed: number, messages: number): void {
    this.readies++;
    this.entries += entries;
    this.committed += committed;
    this.messages += messages;
  }

  save(ms: number): void {
    this.saveMs += ms;
  }

  apply(ms: number): void {
    this.applyMs += ms;
  }

  loop(ms: number): void {
    this.loopMs += ms;
  }

  maybeLog(now: number, log: Logger): void {
    if (now - this.since < STATS_EVERY_MS) return;
    if (this.readies > 0 && log.isLevelEnabled('debug')) {
      const secs = (now - this.since) / 1000;
      const r = this.readies;
      log.debug(
        {
          readiesPerSec: Math.round(r / secs),
          entriesPerReady: +(this.entries / r).toFixed(1),
          committedPerSec: Math.round(this.committed / secs),
          messagesPerReady: +(this.messages / r).toFixed(1),
          saveMsPerReady: +(this.saveMs / r).toFixed(3),
          applyMsPerReady: +(this.applyMs / r).toFixed(3),
          loopBusy: +(this.loopMs / (now - this.since)).toFixed(2),
        },
        'raft loop stats',
      );
    }
    this.readies = this.entries = this.committed = this.messages = 0;
    this.saveMs = this.applyMs = this.loopMs = 0;
    this.since = now;
  }
}
