import { TsswarmError } from '../../errors/index.js';
import type { MemoryStore } from './memory-store.js';
import type { WriteTx } from './write-tx.js';

/**
 * Tries of a read-modify-write that meets concurrent writers: the dispatcher rewrites Node
 * objects at every heartbeat status change and the allocation pass gives a new node its
 * ingress address, so any other write of a Node can lose a race.
 */
const WRITE_ATTEMPTS = 5;

/**
 * store.update, tried again on STORE_VERSION_CONFLICT. Safe because `fn` reads what it changes
 * inside the transaction, so each try applies the change to the newest version.
 */
export async function updateWithRetry<T>(store: MemoryStore, fn: (tx: WriteTx) => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.update(fn);
    } catch (err) {
      if (!(err instanceof TsswarmError && err.code === 'STORE_VERSION_CONFLICT') || attempt >= WRITE_ATTEMPTS - 1) throw err;
    }
  }
}
