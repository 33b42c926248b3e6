/**
 * The binary wire format. A packet is [WIRE_VERSION][count] then count x [u16 length][message];
 * a stream frame is [WIRE_VERSION][message]; a message is [type][fields]. Integers are
 * big-endian; strings are u16-length UTF-8; Lamport times are two u32 (up to 2^53).
 * Decoding a malformed or oversized input throws GOSSIP_MALFORMED_MESSAGE.
 */
import { TsswarmError } from '../../errors/index.js';
import {
  COMPOUND_ENTRY_OVERHEAD,
  MAX_COMPOUND_MESSAGES,
  MAX_LIST_LENGTH,
  MAX_STREAM_FRAME,
  MAX_STRING_BYTES,
  MAX_VALUE_BYTES,
  WIRE_VERSION,
  WIRE_VERSION_MAX,
  WIRE_VERSION_MIN,
} from './limits.js';
import { MessageType, memberStateCodes, type GossipMessage, type MemberState, type TableEventMsg } from './messages.js';

const typeNames = new Map<number, GossipMessage['type']>(
  Object.entries(MessageType).map(([name, code]) => [code, name as GossipMessage['type']]),
);
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(reason: string): TsswarmError {
  return new TsswarmError('GOSSIP_MALFORMED_MESSAGE', { reason });
}

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.room(1); this.view.setUint8(this.len, v); this.len += 1; }
  u16(v: number): void { this.room(2); this.view.setUint16(this.len, v); this.len += 2; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.len, v >>> 0); this.len += 4; }
  u53(v: number): void { this.u32(Math.floor(v / 0x1_0000_0000)); this.u32(v % 0x1_0000_0000); }
  bool(v: boolean): void { this.u8(v ? 1 : 0); }
  str(s: string): void {
    const b = utf8.encode(s);
    if (b.length > MAX_STRING_BYTES) throw malformed(`string of ${b.length} bytes over ${MAX_STRING_BYTES}`);
    this.u16(b.length);
    this.raw(b);
  }
  bytes(b: Uint8Array): void {
    if (b.length > MAX_VALUE_BYTES) throw malformed(`value of ${b.length} bytes over ${MAX_VALUE_BYTES}`);
    this.u32(b.length);
    this.raw(b);
  }
  raw(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.len); this.len += b.length; }
  done(): Uint8Array { return this.buf.slice(0, this.len); }
}

class Reader {
  private off = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.off + n > this.buf.length) throw malformed('truncated');
  }
  u8(): number { this.need(1); return this.view.getUint8(this.off++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.off); this.off += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.off); this.off += 4; return v; }
  u53(): number {
    const hi = this.u32();
    if (hi > 0x1f_ffff) throw malformed('integer over 2^53');
    return hi * 0x1_0000_0000 + this.u32();
  }
  bool(): boolean { return this.u8() !== 0; }
  str(): string {
    const n = this.u16();
    if (n > MAX_STRING_BYTES) throw malformed('string too long');
    this.need(n);
    const s = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    try { return fromUtf8.decode(s); } catch { throw malformed('invalid UTF-8'); }
  }
  bytes(): Uint8Array {
    const n = this.u32();
    if (n > MAX_VALUE_BYTES) throw malformed('value too long');
    this.need(n);
    const b = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return b;
  }
  count(): number {
    const n = this.u32();
    if (n > MAX_LIST_LENGTH) throw malformed('list too long');
    return n;
  }
  sub(n: number): Uint8Array { this.need(n); const b = this.buf.subarray(this.off, this.off + n); this.off += n; return b; }
  get atEnd(): boolean { return this.off === this.buf.length; }
}

function writeTableEvent(w: Writer, m: Omit<TableEventMsg, 'type'>): void {
  w.str(m.network); w.str(m.table); w.str(m.key); w.str(m.owner); w.u53(m.lamport); w.bool(m.deleted); w.bytes(m.value);
}
function readTableEvent(r: Reader): TableEventMsg {
  return { type: 'TableEvent', network: r.str(), table: r.str(), key: r.str(), owner: r.str(), lamport: r.u53(), deleted: r.bool(), value: r.bytes() };
}
function stateCode(s: MemberState): number { return memberStateCodes.indexOf(s); }
function readState(r: Reader): MemberState {
  const s = memberStateCodes[r.u8()];
  if (s === undefined) throw malformed('unknown member state');
  return s;
}

function writeMessage(w: Writer, m: GossipMessage): void {
  w.u8(MessageType[m.type]);
  switch (m.type) {
    case 'Ping':
    case 'StreamPing':
      w.u32(m.seq); w.str(m.target); w.str(m.source); w.str(m.sourceAddr); return;
    case 'IndirectPing':
      w.u32(m.seq); w.str(m.target); w.str(m.targetAddr); w.str(m.source); w.str(m.sourceAddr); return;
    case 'Ack':
    case 'Nack':
      w.u32(m.seq); return;
    case 'Alive':
      w.str(m.node); w.str(m.addr); w.u32(m.incarnation); return;
    case 'Suspect':
    case 'Dead':
      w.str(m.node); w.u32(m.incarnation); w.str(m.from); return;
    case 'NetworkEvent':
      w.str(m.node); w.str(m.network); w.u53(m.lamport); w.bool(m.joined); return;
    case 'TableEvent':
      writeTableEvent(w, m); return;
    case 'PushPull':
      w.bool(m.reply); w.bool(m.join); w.str(m.from);
      w.u32(m.members.length);
      for (const mm of m.members) { w.str(mm.node); w.str(mm.addr); w.u32(mm.incarnation); w.u8(stateCode(mm.state)); }
      w.u32(m.networks.length);
      for (const n of m.networks) { w.str(n.node); w.str(n.network); w.u53(n.lamport); w.bool(n.joined); }
      return;
    case 'BulkSync':
      w.bool(m.reply); w.str(m.network); w.str(m.from);
      w.u32(m.entries.length);
      for (const e of m.entries) writeTableEvent(w, e);
      return;
  }
}

function readMessage(r: Reader): GossipMessage {
  const type = typeNames.get(r.u8());
  switch (type) {
    case 'Ping':
    case 'StreamPing':
      return { type, seq: r.u32(), target: r.str(), source: r.str(), sourceAddr: r.str() };
    case 'IndirectPing':
      return { type, seq: r.u32(), target: r.str(), targetAddr: r.str(), source: r.str(), sourceAddr: r.str() };
    case 'Ack':
    case 'Nack':
      return { type, seq: r.u32() };
    case 'Alive':
      return { type, node: r.str(), addr: r.str(), incarnation: r.u32() };
    case 'Suspect':
    case 'Dead':
      return { type, node: r.str(), incarnation: r.u32(), from: r.str() };
    case 'NetworkEvent':
      return { type, node: r.str(), network: r.str(), lamport: r.u53(), joined: r.bool() };
    case 'TableEvent':
      return readTableEvent(r);
    case 'PushPull': {
      const reply = r.bool(); const join = r.bool(); const from = r.str();
      const members = Array.from({ length: r.count() }, () => ({ node: r.str(), addr: r.str(), incarnation: r.u32(), state: readState(r) }));
      const networks = Array.from({ length: r.count() }, () => ({ node: r.str(), network: r.str(), lamport: r.u53(), joined: r.bool() }));
      return { type, reply, join, from, members, networks };
    }
    case 'BulkSync': {
      const reply = r.bool(); const network = r.str(); const from = r.str();
      const entries = Array.from({ length: r.count() }, () => readTableEvent(r));
      return { type, reply, network, from, entries };
    }
    default:
      throw malformed('unknown message type');
  }
}

/** One message's encoding (without packet framing); its length is what it costs in a packet. */
export function encodeMessage(m: GossipMessage): Uint8Array {
  const w = new Writer();
  writeMessage(w, m);
  return w.done();
}

/** Packs already-encoded messages into one packet. The caller keeps it under its limit. */
export function encodePacket(encoded: readonly Uint8Array[]): Uint8Array {
  if (encoded.length === 0 || encoded.length > MAX_COMPOUND_MESSAGES) throw malformed(`${encoded.length} messages in one packet`);
  const w = new Writer();
  w.u8(WIRE_VERSION);
  w.u8(encoded.length);
  for (const e of encoded) {
    if (e.length > 0xffff) throw malformed('message over 64 KiB in a packet');
    w.u16(e.length);
    w.raw(e);
  }
  return w.done();
}

/** The packet bytes `encodePacket` adds to a set of messages: version, count, per-message lengths. */
export function packetOverhead(messages: number): number {
  return 2 + messages * COMPOUND_ENTRY_OVERHEAD;
}

function checkVersion(r: Reader): void {
  const v = r.u8();
  if (v < WIRE_VERSION_MIN || v > WIRE_VERSION_MAX) throw malformed(`wire version ${v} not in ${WIRE_VERSION_MIN}..${WIRE_VERSION_MAX}`);
}

export function decodePacket(buf: Uint8Array): GossipMessage[] {
  const r = new Reader(buf);
  checkVersion(r);
  const n = r.u8();
  if (n === 0) throw malformed('empty packet');
  const out: GossipMessage[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u16();
    const inner = new Reader(r.sub(len));
    out.push(readMessage(inner));
    if (!inner.atEnd) throw malformed('trailing bytes in a message');
  }
  if (!r.atEnd) throw malformed('trailing bytes after the messages');
  return out;
}

export function encodeStreamFrame(m: GossipMessage): Uint8Array {
  const w = new Writer();
  w.u8(WIRE_VERSION);
  writeMessage(w, m);
  if (w.len > MAX_STREAM_FRAME) throw malformed(`stream frame of ${w.len} bytes over ${MAX_STREAM_FRAME}`);
  return w.done();
}

export function decodeStreamFrame(buf: Uint8Array): GossipMessage {
  if (buf.length > MAX_STREAM_FRAME) throw malformed('stream frame too large');
  const r = new Reader(buf);
  checkVersion(r);
  const m = readMessage(r);
  if (!r.atEnd) throw malformed('trailing bytes after the message');
  return m;
}
