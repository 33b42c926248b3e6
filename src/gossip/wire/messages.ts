/**
 * The gossip messages. Message type numbers are on the wire: ONLY APPEND TO THIS LIST, never
 * renumber or reuse.
 */
export const MessageType = {
  Ping: 1,
  IndirectPing: 2,
  Ack: 3,
  Nack: 4,
  Alive: 5,
  Suspect: 6,
  Dead: 7,
  NetworkEvent: 8,
  TableEvent: 9,
  PushPull: 10,
  BulkSync: 11,
  StreamPing: 12,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
/** Member states on the wire. ONLY APPEND. */
export const memberStateCodes: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

export interface PingMsg { type: 'Ping'; seq: number; target: string; source: string; sourceAddr: string; }
export interface IndirectPingMsg { type: 'IndirectPing'; seq: number; target: string; targetAddr: string; source: string; sourceAddr: string; }
export interface AckMsg { type: 'Ack'; seq: number; }
export interface NackMsg { type: 'Nack'; seq: number; }
export interface AliveMsg { type: 'Alive'; node: string; addr: string; incarnation: number; }
export interface SuspectMsg { type: 'Suspect'; node: string; incarnation: number; from: string; }
/** `from === node` means the member left gracefully. */
export interface DeadMsg { type: 'Dead'; node: string; incarnation: number; from: string; }
/** A node joined (or left) a network, ordered per node by `lamport`. */
export interface NetworkEventMsg { type: 'NetworkEvent'; node: string; network: string; lamport: number; joined: boolean; }
/** One table entry (or its tombstone), owned by the node that wrote it. */
export interface TableEventMsg {
  type: 'TableEvent';
  network: string;
  table: string;
  key: string;
  owner: string;
  lamport: number;
  deleted: boolean;
  value: Uint8Array;
}
export interface MemberRecord { node: string; addr: string; incarnation: number; state: MemberState; }
export interface NetworkRecord { node: string; network: string; lamport: number; joined: boolean; }
/** A full-state exchange over TCP; the reply has the same shape with `reply` set. */
export interface PushPullMsg { type: 'PushPull'; reply: boolean; join: boolean; from: string; members: MemberRecord[]; networks: NetworkRecord[]; }
/** A network's whole tables over TCP; the reply carries the other side's. */
export interface BulkSyncMsg { type: 'BulkSync'; reply: boolean; network: string; from: string; entries: TableEventMsg[]; }
/** A probe over TCP (answered with an Ack or, for the wrong target, a Nack). */
export interface StreamPingMsg { type: 'StreamPing'; seq: number; target: string; source: string; sourceAddr: string; }

export type GossipMessage =
  | PingMsg
  | IndirectPingMsg
  | AckMsg
  | NackMsg
  | AliveMsg
  | SuspectMsg
  | DeadMsg
  | NetworkEventMsg
  | TableEventMsg
  | PushPullMsg
  | BulkSyncMsg
  | StreamPingMsg;
