import { TsswarmError, errorMessage } from '../../../errors/index.js';
import { matchesFilter, type StoreEvent, type WatchFilter } from './event.js';
import { Watcher } from './watcher.js';

/** The store's watchers and their filters; publish() fans one entry's events out to them. */
export class WatchHub {
  private readonly watchers = new Map<Watcher, WatchFilter | undefined>();

  constructor(private readonly queueLimit: number) {}

  get size(): number {
    return this.watchers.size;
  }

  add(filter?: WatchFilter, queueLimit?: number): Watcher {
    const w = new Watcher(queueLimit ?? this.queueLimit, (x) => this.watchers.delete(x));
    this.watchers.set(w, filter);
    return w;
  }

  publish(events: readonly StoreEvent[]): void {
    if (events.length === 0 || this.watchers.size === 0) return;
    for (const [w, f] of [...this.watchers]) {
      try {
        for (const e of events) if (matchesFilter(f, e)) w.push(e);
      } catch (err) {
        // A filter that throws must not break apply (a throw there stops the Raft node).
        w.fail(new TsswarmError('INTERNAL', { detail: `watch filter threw: ${errorMessage(err)}` }));
      }
    }
  }

  closeAll(err?: TsswarmError): void {
    for (const w of [...this.watchers.keys()]) {
      if (err === undefined) w.close();
      else w.fail(err);
    }
  }
}
