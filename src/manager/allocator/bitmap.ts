/**
 * A sparse bitmap over the indices [0, size): one bit per address, VXLAN ID or port.
 *
 * Bits live in pages of PAGE_BITS that are created on the first set bit and dropped when their
 * last bit clears, so a /8 network or the 16M VXLAN IDs cost memory only for the regions in
 * use. Each page keeps its count of set bits so that a search skips full pages in one step:
 * finding a free address in a nearly full /16 touches a few words, not 65k entries.
 */

const WORD_BITS = 32;
/** 2^15 bits = 4 KiB per page: small enough for sparse use, big enough to keep the map short. */
export const PAGE_BITS = 32768;
const PAGE_WORDS = PAGE_BITS / WORD_BITS;
const FULL_WORD = 0xffffffff;

interface Page {
  readonly words: Uint32Array;
  count: number;
}

/** Index (0..31) of the lowest set bit of a non-zero 32-bit value. */
function lowestBit(value: number): number {
  return 31 - Math.clz32(value & -value);
}

export class Bitmap {
  private readonly pages = new Map<number, Page>();
  private setBits = 0;

  /** `size` may be up to 2^32 (a whole IPv4 space); indices are plain non-negative numbers. */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0 || size > 2 ** 32) {
      throw new RangeError(`bitmap size ${size} is not an integer in [0, 2^32]`);
    }
  }

  /** Number of set bits. */
  get count(): number {
    return this.setBits;
  }

  has(index: number): boolean {
    this.check(index);
    const page = this.pages.get(Math.floor(index / PAGE_BITS));
    if (page === undefined) return false;
    const offset = index % PAGE_BITS;
    return ((page.words[offset >>> 5]! >>> (offset & 31)) & 1) === 1;
  }

  /** Sets the bit; returns false when it was already set. */
  set(index: number): boolean {
    this.check(index);
    const pageNo = Math.floor(index / PAGE_BITS);
    let page = this.pages.get(pageNo);
    if (page === undefined) {
      page = { words: new Uint32Array(PAGE_WORDS), count: 0 };
      this.pages.set(pageNo, page);
    }
    const offset = index % PAGE_BITS;
    const bit = 1 << (offset & 31);
    const word = page.words[offset >>> 5]!;
    if ((word & bit) !== 0) return false;
    page.words[offset >>> 5] = word | bit;
    page.count++;
    this.setBits++;
    return true;
  }

  /** Clears the bit; returns false when it was already clear. */
  clear(index: number): boolean {
    this.check(index);
    const pageNo = Math.floor(index / PAGE_BITS);
    const page = this.pages.get(pageNo);
    if (page === undefined) return false;
    const offset = index % PAGE_BITS;
    const bit = 1 << (offset & 31);
    const word = page.words[offset >>> 5]!;
    if ((word & bit) === 0) return false;
    page.words[offset >>> 5] = word & ~bit;
    page.count--;
    this.setBits--;
    if (page.count === 0) this.pages.delete(pageNo);
    return true;
  }

  /** The first clear index in [from, to), or -1. */
  findClear(from: number, to: number): number {
    const end = Math.min(to, this.size);
    let index = Math.max(from, 0);
    while (index < end) {
      const pageNo = Math.floor(index / PAGE_BITS);
      const pageStart = pageNo * PAGE_BITS;
      const page = this.pages.get(pageNo);
      if (page === undefined) return index;
      if (page.count < PAGE_BITS) {
        const found = this.findClearInPage(page, index - pageStart, Math.min(end - pageStart, PAGE_BITS));
        if (found >= 0) return pageStart + found;
      }
      index = pageStart + PAGE_BITS;
    }
    return -1;
  }

  /**
   * The first clear index in [lo, hi] at or after `cursor`, wrapping around to lo: the rotating
   * search that keeps a just-released index out of use for as long as possible. -1 when the
   * whole range is set.
   */
  findClearRotating(lo: number, hi: number, cursor: number): number {
    const start = cursor < lo || cursor > hi ? lo : cursor;
    const found = this.findClear(start, hi + 1);
    if (found >= 0 || start === lo) return found;
    return this.findClear(lo, start);
  }

  /** The set indices in ascending order. */
  *indices(): IterableIterator<number> {
    const pageNos = [...this.pages.keys()].sort((a, b) => a - b);
    for (const pageNo of pageNos) {
      const page = this.pages.get(pageNo)!;
      for (let w = 0; w < PAGE_WORDS; w++) {
        let word = page.words[w]!;
        while (word !== 0) {
          const bit = lowestBit(word);
          yield pageNo * PAGE_BITS + w * WORD_BITS + bit;
          word &= word - 1;
        }
      }
    }
  }

  private findClearInPage(page: Page, from: number, to: number): number {
    for (let w = from >>> 5; w * WORD_BITS < to; w++) {
      let free = ~page.words[w]! >>> 0;
      if (w === from >>> 5) free = (free & (FULL_WORD << (from & 31))) >>> 0;
      if (free === 0) continue;
      const found = w * WORD_BITS + lowestBit(free);
      return found < to ? found : -1;
    }
    return -1;
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`bitmap index ${index} is outside [0, ${this.size})`);
    }
  }
}
