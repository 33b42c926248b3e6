import { MemoryStorage } from './core-bindings.js';
import { NO_NODE } from '../../../../src/manager/raft/types.js';
import type { ConfState, Entry, HardState, Snapshot } from '../../../../src/manager/raft/types.js';
import { EMPTY_CHAIN, chainNext, decodeImage, type Chain } from './hash-chain.js';

/** An entry as the modelled disk holds it, with the chain value of the log up to it. */
export interface DiskEntry {
  readonly entry: Entry;
  readonly chain: Chain;
}

/** What a restarted node rebuilds from its disk. */
export interface Recovered {
  readonly storage: MemoryStorage;
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  readonly snapshotChain: Chain;
}

const EMPTY_SNAPSHOT: Snapshot = {
  metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
  data: new Uint8Array(0),
};

/**
 * A node's stable storage: what survives a crash. It models the WAL plus snapshot file of the
 * real storage: one snapshot, the entries after it, and the last hard state. Everything the
 * driver writes lands here in the order it is written, so a crash can cut a write short
 * (a torn tail) and the node restarts from exactly what had reached the disk.
 */
export class SimDisk {
  hardState: HardState = { term: 0, vote: NO_NODE, commit: 0 };
  private syncedHardState: HardState = this.hardState;
  snapshot: Snapshot = EMPTY_SNAPSHOT;
  snapshotChain: Chain = EMPTY_CHAIN;
  /** Entries with index > snapshot.metadata.index, contiguous. */
  entries: DiskEntry[] = [];

  snapshotIndex(): number {
    return this.snapshot.metadata.index;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  /** Chain value of the log prefix up to `index`, or undefined if it is compacted or absent. */
  chainAt(index: number): Chain | undefined {
    const snapIndex = this.snapshotIndex();
    if (index === snapIndex) return this.snapshotChain;
    if (index < snapIndex) return undefined;
    return this.entries[index - snapIndex - 1]?.chain;
  }

  termAt(index: number): number | undefined {
    const snapIndex = this.snapshotIndex();
    if (index === snapIndex) return this.snapshot.metadata.term;
    return this.entries[index - snapIndex - 1]?.entry.term;
  }

  entryAt(index: number): DiskEntry | undefined {
    return this.entries[index - this.snapshotIndex() - 1];
  }

  /** A snapshot received from the leader replaces the whole log (as MemoryStorage does). */
  writeSnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.snapshotIndex()) {
      throw new Error(
        `simulator disk: snapshot at ${snapshot.metadata.index} is not newer than the stored one at ${this.snapshotIndex()}`,
      );
    }
    this.snapshot = snapshot;
    this.snapshotChain = decodeImage(snapshot.data).chain;
    this.entries = [];
  }

  /**
   * Append entries, replacing any stored suffix from entries[0].index on. Returns the entries
   * that were written, with their chain values, for the invariant checker.
   */
  writeEntries(entries: readonly Entry[]): DiskEntry[] {
    const written: DiskEntry[] = [];
    const snapIndex = this.snapshotIndex();
    let i = 0;
    while (i < entries.length && entries[i]!.index <= snapIndex) i++;
    if (i === entries.length) return written;
    const first = entries[i]!.index;
    if (first > this.lastIndex() + 1) {
      throw new Error(`simulator disk: entries from ${first} leave a gap after the last stored index ${this.lastIndex()}`);
    }
    this.entries.length = first - snapIndex - 1;
    let chain = this.chainAt(first - 1)!;
    for (; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.index !== first + written.length) {
        throw new Error(`simulator disk: entries are not contiguous at ${entry.index}`);
      }
      chain = chainNext(chain, entry);
      const stored = { entry, chain };
      this.entries.push(stored);
      written.push(stored);
    }
    return written;
  }

  /**
   * A hard-state write. Until the next fsync it may not survive a crash (see sync and
   * loseUnsyncedWrites); a Ready with mustSync false (only the commit moved) is not fsynced.
   */
  writeHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /**
   * fsync: everything written so far is durable, including hard states written without a
   * sync before (the WAL is one sequential file, so a later fsync covers earlier records).
   */
  sync(): void {
    this.syncedHardState = this.hardState;
  }

  /** The commit index this disk is sure to still hold after a crash. */
  durableCommit(): number {
    return Math.max(this.syncedHardState.commit, this.snapshotIndex());
  }

  /** A crash loses the hard state written since the last fsync (only ever a commit index). */
  loseUnsyncedWrites(): void {
    this.hardState = this.syncedHardState;
  }

  /**
   * The driver's own snapshot (taken from its state machine) becomes the stored one, and the
   * entries it covers are dropped from the WAL.
   */
  replaceWithOwnSnapshot(snapshot: Snapshot, chain: Chain): void {
    const index = snapshot.metadata.index;
    this.entries = this.entries.slice(index - this.snapshotIndex());
    this.snapshot = snapshot;
    this.snapshotChain = chain;
  }

  /** A fresh process reads the disk back into an in-memory log for its core. */
  recover(): Recovered {
    const storage = new MemoryStorage();
    if (this.snapshotIndex() > 0) storage.applySnapshot(this.snapshot);
    storage.append(this.entries.map((e) => e.entry));
    storage.setHardState(this.hardState);
    return { storage, hardState: this.hardState, snapshot: this.snapshot, snapshotChain: this.snapshotChain };
  }

  /** Used by the bootstrap of the initial members: the snapshot every one of them starts from. */
  initialize(snapshot: Snapshot, chain: Chain, hardState: HardState): void {
    this.snapshot = snapshot;
    this.snapshotChain = chain;
    this.entries = [];
    this.hardState = hardState;
    this.syncedHardState = hardState;
  }

  confState(): ConfState {
    return this.snapshot.metadata.confState;
  }
}
