import { TsswarmError } from '../../../errors/index.js';
import type { ConfChange, ConfChangeType } from '../types.js';

/**
 * Wire format of a ConfChange inside an entry's data (big-endian):
 *   u8 version (1) | u8 type | u16 nodeId length | nodeId UTF-8 | u8 hasContext | [u32 length | bytes]
 * Type numbers are append only: a committed entry must decode the same way forever.
 */
const VERSION = 1;
const TYPE_CODES: readonly ConfChangeType[] = ['addLearner', 'promote', 'remove'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const typeCode = TYPE_CODES.indexOf(cc.type);
  if (typeCode < 0) throw new TsswarmError('RAFT_CONF_CHANGE_MALFORMED', { reason: `unknown type ${String(cc.type)}` });
  const id = encoder.encode(cc.nodeId);
  if (id.length > 0xffff) throw new TsswarmError('RAFT_CONF_CHANGE_MALFORMED', { reason: 'node ID longer than 65535 bytes' });
  const ctx = cc.context;
  const out = new Uint8Array(2 + 2 + id.length + 1 + (ctx === undefined ? 0 : 4 + ctx.length));
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = typeCode;
  view.setUint16(2, id.length);
  out.set(id, 4);
  let at = 4 + id.length;
  out[at++] = ctx === undefined ? 0 : 1;
  if (ctx !== undefined) {
    view.setUint32(at, ctx.length);
    out.set(ctx, at + 4);
  }
  return out;
}

/** Throws RAFT_CONF_CHANGE_MALFORMED for anything encodeConfChange could not have produced. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const fail = (reason: string): never => {
    throw new TsswarmError('RAFT_CONF_CHANGE_MALFORMED', { reason });
  };
  if (data.length < 5) fail(`${data.length} bytes is too short`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data[0] !== VERSION) fail(`unknown version ${data[0]}`);
  const type = TYPE_CODES[data[1]!];
  if (type === undefined) fail(`unknown type code ${data[1]}`);
  const idLength = view.getUint16(2);
  let at = 4 + idLength;
  if (at + 1 > data.length) fail('node ID runs past the end');
  let nodeId = '';
  try {
    nodeId = decoder.decode(data.subarray(4, at));
  } catch {
    fail('node ID is not valid UTF-8');
  }
  const hasContext = data[at++];
  if (hasContext === 0) {
    if (at !== data.length) fail('trailing bytes');
    return { type: type!, nodeId };
  }
  if (hasContext !== 1) fail(`bad context flag ${hasContext}`);
  if (at + 4 > data.length) fail('context length runs past the end');
  const ctxLength = view.getUint32(at);
  at += 4;
  if (at + ctxLength !== data.length) fail('context length does not match the entry');
  return { type: type!, nodeId, context: data.slice(at, at + ctxLength) };
}
