/**
 * The addresses of one network: its subnet, its gateway, the sub-range that tasks and VIPs get
 * addresses from (--ip-range, the whole subnet by default), and which addresses are taken.
 *
 * Taken addresses are bits in a Bitmap indexed by offset in the subnet, so a /16 (65k
 * addresses) costs a few KiB and a search skips full regions word by word. The network,
 * broadcast and gateway addresses are set in the bitmap for the network's whole life, so the
 * search never returns them. New addresses come from a rotating cursor, as Docker does: a
 * just-released address is the last to be handed out again, which gives stale ARP entries and
 * DNS answers for the dead task time to expire before anyone else uses the address.
 */
import { TsswarmError } from '../../../errors/index.js';
import { Bitmap } from '../bitmap.js';
import { invalid, quote } from '../invalid.js';
import { blockSize, cidrContains, cidrContainsCidr, cidrLast, cidrSize, formatCidr, type Cidr } from './cidr.js';
import { formatIpv4, type Ipv4 } from './ipv4.js';
import { MAX_NETWORK_PREFIX } from './subnet-pool.js';

export interface NetworkAddressing {
  readonly subnet: Cidr;
  /** Defaults to the first usable address of the subnet. */
  readonly gateway?: Ipv4 | undefined;
  /** Where automatic addresses come from; defaults to the whole subnet. */
  readonly ipRange?: Cidr | undefined;
}

export class NetworkAddresses {
  readonly subnet: Cidr;
  readonly gateway: Ipv4;
  readonly ipRange: Cidr | undefined;
  /** Number of addresses automatic allocation can hand out when none is taken. */
  readonly capacity: number;
  private readonly bits: Bitmap;
  private readonly reserved: ReadonlySet<Ipv4>;
  private readonly rangeFirst: Ipv4;
  private readonly rangeLast: Ipv4;
  private cursor: Ipv4;
  private allocated = 0;

  /** Checks the addressing (IPAM_INVALID naming the bad flag) and reserves its fixed addresses. */
  constructor(
    readonly label: string,
    addressing: NetworkAddressing,
  ) {
    const { subnet } = addressing;
    const subnetText = formatCidr(subnet);
    if (subnet.prefix > MAX_NETWORK_PREFIX) {
      throw invalid(
        `--subnet ${quote(subnetText)}`,
        `a /${subnet.prefix} has no room for a gateway and a task`,
        `use a /${MAX_NETWORK_PREFIX} or larger; a /24 gives 253 task addresses`,
      );
    }
    const last = cidrLast(subnet);
    const usable = `${formatIpv4(subnet.base + 1)}-${formatIpv4(last - 1)}`;
    const gateway = addressing.gateway ?? subnet.base + 1;
    if (!cidrContains(subnet, gateway) || gateway === subnet.base || gateway === last) {
      const why = !cidrContains(subnet, gateway)
        ? `it is outside --subnet ${subnetText}`
        : `it is the ${gateway === last ? 'broadcast' : 'network'} address of ${subnetText}, which no host can use`;
      throw invalid(`--gateway ${quote(formatIpv4(gateway))}`, why, `use an address in ${usable}, or leave --gateway out to get ${formatIpv4(subnet.base + 1)}`);
    }
    const ipRange = addressing.ipRange;
    if (ipRange !== undefined && !cidrContainsCidr(subnet, ipRange)) {
      throw invalid(
        `--ip-range ${quote(formatCidr(ipRange))}`,
        `it is not inside --subnet ${subnetText}`,
        `use a range within ${subnetText}, or leave --ip-range out to use the whole subnet`,
      );
    }
    this.subnet = subnet;
    this.gateway = gateway;
    this.ipRange = ipRange;
    this.reserved = new Set([subnet.base, last, gateway]);
    const range = ipRange ?? subnet;
    this.rangeFirst = range.base;
    this.rangeLast = cidrLast(range);
    this.capacity = cidrSize(range) - [...this.reserved].filter((a) => cidrContains(range, a)).length;
    if (this.capacity <= 0) {
      throw invalid(
        `--ip-range ${quote(formatCidr(range))}`,
        'it holds no address besides the gateway and the network and broadcast addresses',
        `use a wider --ip-range within ${subnetText}`,
      );
    }
    this.bits = new Bitmap(cidrSize(subnet));
    for (const address of this.reserved) this.bits.set(address - subnet.base);
    this.cursor = this.rangeFirst;
  }

  /** Number of allocated addresses (tasks, VIPs, load-balancer endpoints), reserved ones not counted. */
  get allocatedCount(): number {
    return this.allocated;
  }

  /**
   * Allocates `requested` (anywhere in the subnet, as Docker allows with --ip), or the next free
   * address of the range after the cursor. Throws IPAM_INVALID, IPAM_ADDRESS_IN_USE or
   * IPAM_ADDRESSES_EXHAUSTED.
   */
  allocate(requested?: Ipv4): Ipv4 {
    if (requested !== undefined) {
      this.checkUsable(requested);
      if (!this.bits.set(requested - this.subnet.base)) {
        throw new TsswarmError('IPAM_ADDRESS_IN_USE', {
          address: formatIpv4(requested),
          network: this.label,
          holder: requested === this.gateway ? 'the gateway' : 'allocated',
        });
      }
      this.allocated++;
      return requested;
    }
    const base = this.subnet.base;
    const offset = this.bits.findClearRotating(this.rangeFirst - base, this.rangeLast - base, this.cursor - base);
    if (offset < 0) throw this.exhausted();
    this.bits.set(offset);
    this.allocated++;
    const address = base + offset;
    this.cursor = address === this.rangeLast ? this.rangeFirst : address + 1;
    return address;
  }

  /** Frees an allocated address; false if it was not allocated or is reserved. */
  release(address: Ipv4): boolean {
    if (!cidrContains(this.subnet, address)) {
      throw invalid(`address ${quote(formatIpv4(address))}`, `it is not in network ${this.label}'s subnet ${formatCidr(this.subnet)}`, 'release an address of this network');
    }
    if (this.reserved.has(address)) return false;
    if (!this.bits.clear(address - this.subnet.base)) return false;
    this.allocated--;
    return true;
  }

  isAllocated(address: Ipv4): boolean {
    return cidrContains(this.subnet, address) && !this.reserved.has(address) && this.bits.has(address - this.subnet.base);
  }

  /** The allocated addresses in ascending order, reserved ones excluded. */
  addresses(): Ipv4[] {
    const result: Ipv4[] = [];
    for (const offset of this.bits.indices()) {
      const address = this.subnet.base + offset;
      if (!this.reserved.has(address)) result.push(address);
    }
    return result;
  }

  /** Where the next automatic search starts. */
  get nextAddress(): Ipv4 {
    return this.cursor;
  }

  /** Moves the cursor (restore only); an address outside the range means the range start. */
  set nextAddress(address: Ipv4) {
    this.cursor = address >= this.rangeFirst && address <= this.rangeLast ? address : this.rangeFirst;
  }

  /** The cursor a restore without one uses: just after the highest allocated address of the range. */
  cursorAfterHighest(): Ipv4 {
    let highest: Ipv4 | undefined;
    for (const address of this.addresses()) {
      if (address >= this.rangeFirst && address <= this.rangeLast) highest = address;
    }
    return highest === undefined || highest === this.rangeLast ? this.rangeFirst : highest + 1;
  }

  private checkUsable(address: Ipv4): void {
    const subnetText = formatCidr(this.subnet);
    const detail = `address ${quote(formatIpv4(address))} for network ${this.label}`;
    const hint = `request an address in ${formatIpv4(this.subnet.base + 1)}-${formatIpv4(cidrLast(this.subnet) - 1)}, or leave it out to get the next free one`;
    if (!cidrContains(this.subnet, address)) throw invalid(detail, `it is outside the subnet ${subnetText}`, hint);
    if (address === this.subnet.base || address === cidrLast(this.subnet)) {
      const which = address === this.subnet.base ? 'network' : 'broadcast';
      throw invalid(detail, `it is the ${which} address of ${subnetText}, which no host can use`, hint);
    }
  }

  private exhausted(): TsswarmError {
    const subnetText = formatCidr(this.subnet);
    const ipRange = this.ipRange !== undefined && this.ipRange.prefix > this.subnet.prefix ? this.ipRange : undefined;
    const largerPrefix = Math.max(this.subnet.prefix - 2, 1);
    const suggestion = ipRange !== undefined
      ? `widen --ip-range ${formatCidr(ipRange)} (the subnet ${subnetText} has ${cidrSize(this.subnet) - 3} usable addresses)`
      : `recreate it with a larger --subnet, e.g. a /${largerPrefix} (${blockSize(largerPrefix) - 3} usable addresses)`;
    return new TsswarmError('IPAM_ADDRESSES_EXHAUSTED', {
      network: this.label,
      subnet: ipRange !== undefined ? `${subnetText}, --ip-range ${formatCidr(ipRange)}` : subnetText,
      size: this.capacity,
      suggestion,
    });
  }
}
