import type { NodeId } from '../types.js';

/**
 * A Raft snapshot's data as the driver writes it: the members' transport addresses (so a
 * member restored from a snapshot can reach everybody, including those whose addLearner
 * entries were compacted away) followed by the state machine's own bytes.
 *
 * Layout: u32 big-endian length of a JSON header, the header, then the state machine data.
 */
interface Header {
  readonly v: 1;
  readonly members: Array<[NodeId, string]>;
}

export interface SnapshotContents {
  readonly members: ReadonlyMap<NodeId, string>;
  readonly app: Uint8Array;
}

export function encodeSnapshotData(members: ReadonlyMap<NodeId, string>, app: Uint8Array): Uint8Array {
  const header: Header = { v: 1, members: [...members] };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length + app.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  out.set(app, 4 + json.length);
  return out;
}

export function decodeSnapshotData(data: Uint8Array): SnapshotContents {
  if (data.length < 4) return { members: new Map(), app: data };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = buf.readUInt32BE(0);
  const header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as Header;
  return { members: new Map(header.members), app: buf.subarray(4 + len) };
}
