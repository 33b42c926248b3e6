import type { StateMachine } from '../node/state-machine.js';
import { decodeCommand } from './command-codec.js';

/**
 * The standalone member's state machine: it records every applied command's request ID in
 * apply order and keeps a running 64-bit hash over the commands' bytes in apply order (two
 * FNV-1a lanes with different seeds, plus the byte length of each command, so a change in
 * order, content or boundaries changes it), so two members that applied the same sequence
 * report the same hash. Not cryptographic: it detects divergence, it does not resist an
 * adversary; a SHA-256 per command cost more than the rest of apply at benchmark rates.
 * Recording IDs can be switched off (benchmarks) to keep snapshots small.
 */
/** FNV-1a's offset basis, and a second arbitrary odd seed for the other lane. */
const SEED1 = 0x811c9dc5;
const SEED2 = 0x9e3779b1;

export class RecordingStateMachine implements StateMachine {
  private ids: string[] = [];
  private h1 = SEED1;
  private h2 = SEED2;
  private count = 0;
  appliedIndex = 0;

  constructor(private readonly recordIds: boolean) {}

  apply(index: number, data: Uint8Array): void {
    const cmd = decodeCommand(data);
    if (this.recordIds) this.ids.push(cmd.requestId);
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x01000193) ^ (h2 >>> 13);
    }
    this.h1 = Math.imul(h1 ^ data.length, 0x01000193) >>> 0;
    this.h2 = Math.imul(h2 ^ data.length, 0x5bd1e995) >>> 0;
    this.count++;
    this.appliedIndex = index;
  }

  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify({ count: this.count, hash: this.hashHex(), appliedIndex: this.appliedIndex, ids: this.ids }), 'utf8');
  }

  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.ids = [];
      this.h1 = SEED1;
      this.h2 = SEED2;
      this.count = 0;
      this.appliedIndex = 0;
      return;
    }
    const s = JSON.parse(Buffer.from(data).toString('utf8')) as { count: number; hash: string; appliedIndex: number; ids: string[] };
    this.count = s.count;
    this.h1 = parseInt(s.hash.slice(0, 8), 16) >>> 0;
    this.h2 = parseInt(s.hash.slice(8, 16), 16) >>> 0;
    this.appliedIndex = s.appliedIndex;
    this.ids = s.ids;
  }

  private hashHex(): string {
    return this.h1.toString(16).padStart(8, '0') + this.h2.toString(16).padStart(8, '0');
  }

  report(includeIds: boolean): { count: number; hash: string; requestIds: string[]; appliedIndex: number } {
    return { count: this.count, hash: this.hashHex(), requestIds: includeIds ? [...this.ids] : [], appliedIndex: this.appliedIndex };
  }
}
