/**
 * VXLAN network identifiers for overlay networks, one per network. IDs come from a range
 * (4096 to 2^24-1 by default, as Docker Swarm: ingress usually gets 4096, the first user network
 * 4097), through a rotating cursor so that a released ID is not given to a new network while
 * workers may still hold forwarding entries for the old one.
 */
import { TsswarmError } from '../../errors/index.js';
import { Bitmap } from './bitmap.js';
import { invalid } from './invalid.js';

/** The VXLAN header's VNI field is 24 bits wide. */
export const MAX_VNI = 2 ** 24 - 1;

export interface VniRange {
  /** Lowest ID handed out, inclusive. */
  readonly min: number;
  /** Highest ID handed out, inclusive. */
  readonly max: number;
}

export interface VniState {
  /** network ID -> VNI, sorted by network ID. */
  readonly assignments: readonly { readonly network: string; readonly vni: number }[];
  /** Where the rotating search resumes; without it, just after the highest assigned ID. */
  readonly next?: number | undefined;
}

export class VniAllocator {
  private readonly bits: Bitmap;
  private readonly byNetwork = new Map<string, number>();
  private readonly byVni = new Map<number, string>();
  private cursor: number;

  constructor(readonly range: VniRange) {
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 1 || range.max > MAX_VNI || range.min > range.max) {
      throw invalid(`VXLAN ID range ${range.min}-${range.max}`, `it must lie within 1-${MAX_VNI} with min <= max`, 'use e.g. 4096-16777215, the default');
    }
    // Indexed by VNI itself: the bitmap is sparse, so the unused low IDs cost nothing.
    this.bits = new Bitmap(range.max + 1);
    this.cursor = range.min;
  }

  static restore(range: VniRange, state: VniState): VniAllocator {
    const allocator = new VniAllocator(range);
    for (const { network, vni } of state.assignments) allocator.allocate(network, vni);
    let highest = range.min - 1;
    for (const vni of allocator.byVni.keys()) highest = Math.max(highest, vni);
    allocator.cursor = state.next ?? (highest >= range.max ? range.min : highest + 1);
    return allocator;
  }

  /**
   * Gives `network` a VNI: `requested` if free, else the next free one. A network that already
   * has one keeps it (so a retried allocation is harmless). Throws IPAM_INVALID,
   * IPAM_VNI_IN_USE or IPAM_VNI_EXHAUSTED.
   */
  allocate(network: string, requested?: number): number {
    const current = this.byNetwork.get(network);
    if (current !== undefined) {
      if (requested === undefined || requested === current) return current;
      throw invalid(`VXLAN ID ${requested} for network ${network}`, `the network already has VXLAN ID ${current}`, 'a network keeps its VXLAN ID for its whole life; recreate it to change it');
    }
    let vni: number;
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < this.range.min || requested > this.range.max) {
        throw invalid(`VXLAN ID ${requested}`, `it is outside ${this.range.min}-${this.range.max}`, `choose an ID in ${this.range.min}-${this.range.max}, or leave it out`);
      }
      const owner = this.byVni.get(requested);
      if (owner !== undefined) throw new TsswarmError('IPAM_VNI_IN_USE', { vni: requested, owner });
      vni = requested;
    } else {
      vni = this.bits.findClearRotating(this.range.min, this.range.max, this.cursor);
      if (vni < 0) throw new TsswarmError('IPAM_VNI_EXHAUSTED', { min: this.range.min, max: this.range.max });
      this.cursor = vni === this.range.max ? this.range.min : vni + 1;
    }
    this.bits.set(vni);
    this.byNetwork.set(network, vni);
    this.byVni.set(vni, network);
    return vni;
  }

  /** Frees the network's VNI; returns it, or undefined if the network had none. */
  release(network: string): number | undefined {
    const vni = this.byNetwork.get(network);
    if (vni === undefined) return undefined;
    this.bits.clear(vni);
    this.byNetwork.delete(network);
    this.byVni.delete(vni);
    return vni;
  }

  vniOf(network: string): number | undefined {
    return this.byNetwork.get(network);
  }

  get size(): number {
    return this.byNetwork.size;
  }

  serialize(): VniState {
    const assignments = [...this.byNetwork.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([network, vni]) => ({ network, vni }));
    return { assignments, next: this.cursor };
  }
}
