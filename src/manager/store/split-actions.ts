import { TsswarmError } from '../../errors/index.js';
import { encodedActionSize, type StoreAction } from './codec/batch-codec.js';

// Room left in each entry for the batch's own fields (proposal ID, timestamp, framing).
const batchOverheadBytes = 256;

/**
 * Cuts a change set into entries of at most maxActions changes and maxBytes encoded bytes,
 * keeping the order. One change larger than an entry on its own is STORE_TX_TOO_LARGE.
 */
export function splitActions(actions: readonly StoreAction[], maxActions: number, maxBytes: number): StoreAction[][] {
  const chunks: StoreAction[][] = [];
  let current: StoreAction[] = [];
  let bytes = batchOverheadBytes;
  for (const a of actions) {
    const size = encodedActionSize(a);
    if (size + batchOverheadBytes > maxBytes) throw new TsswarmError('STORE_TX_TOO_LARGE', { bytes: size, limit: maxBytes });
    if (current.length > 0 && (current.length >= maxActions || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = batchOverheadBytes;
    }
    current.push(a);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
