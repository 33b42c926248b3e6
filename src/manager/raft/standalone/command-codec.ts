/**
 * The standalone member's command: a client-chosen request ID and an opaque payload.
 * Layout: u16 big-endian byte length of the UTF-8 ID, the ID, the payload.
 */
export interface Command {
  readonly requestId: string;
  readonly payload: Uint8Array;
}

export function encodeCommand(requestId: string, payload: Uint8Array): Uint8Array {
  const id = Buffer.from(requestId, 'utf8');
  if (id.length > 0xffff) throw new RangeError('request ID longer than 65535 bytes');
  const out = Buffer.allocUnsafe(2 + id.length + payload.length);
  out.writeUInt16BE(id.length, 0);
  id.copy(out, 2);
  out.set(payload, 2 + id.length);
  return out;
}

export function decodeCommand(data: Uint8Array): Command {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = buf.readUInt16BE(0);
  return { requestId: buf.toString('utf8', 2, 2 + len), payload: buf.subarray(2 + len) };
}
