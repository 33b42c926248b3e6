/**
 * Base-36 encoding of unsigned big-endian byte strings, zero-padded to a fixed width, as
 * Docker's join tokens use (swarmkit ca/config.go: big.Int.Text(36) with "%0Ns").
 */
export function bytesToBase36(bytes: Uint8Array, width: number): string {
  const hex = Buffer.from(bytes).toString('hex');
  const value = hex.length === 0 ? 0n : BigInt(`0x${hex}`);
  const text = value.toString(36);
  if (text.length > width) {
    // Cannot happen for the widths used (SHA-256 fits in 50, 128 bits in 25): a broken invariant.
    throw new RangeError(`base36: ${bytes.length} bytes do not fit in ${width} digits`);
  }
  return text.padStart(width, '0');
}
