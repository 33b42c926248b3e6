/**
 * Hand-written TypeScript shapes of the messages in proto/raft.proto, as @grpc/proto-loader
 * hands them over with the options in load-proto.ts: camelCase field names, 64-bit integers
 * as JS numbers, enums as numbers, bytes as Buffer, and every field present (defaults: true).
 * Keep in step with the .proto file: field additions go to both.
 */

export interface WireEntry {
  term: number;
  index: number;
  type: number;
  data: Uint8Array;
}

export interface WireConfState {
  voters: string[];
  learners: string[];
}

export interface WireSnapshotMetadata {
  index: number;
  term: number;
  confState: WireConfState | null;
}

export interface WireMessage {
  type: number;
  to: string;
  from: string;
  term: number;
  logTerm: number;
  index: number;
  entries: WireEntry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshotMetadata: WireSnapshotMetadata | null;
  context: Uint8Array;
}

export interface WireMessageBatch {
  from: string;
  messages: WireMessage[];
}

export type WireStreamAck = Record<string, never>;

export interface WireSnapshotChunk {
  message: WireMessage | null;
  totalSize: number;
  offset: number;
  data: Uint8Array;
}

export interface WireSnapshotAck {
  ok: boolean;
  error: string;
}

export interface WireProposal {
  requestId: number;
  data: Uint8Array;
}

export interface WireProposeRequest {
  proposals: WireProposal[];
  timeoutMs: number;
}

export interface WireProposalResult {
  requestId: number;
  ok: boolean;
  index: number;
  term: number;
  errorCode: string;
  errorMessage: string;
  leaderId: string;
  leaderAddr: string;
}

export interface WireProposeResponse {
  results: WireProposalResult[];
}

export type WireStatusRequest = Record<string, never>;

export interface WireMember {
  id: string;
  addr: string;
  learner: boolean;
}

export interface WireStatusResponse {
  id: string;
  term: number;
  leaderId: string;
  leaderAddr: string;
  commit: number;
  applied: number;
  members: WireMember[];
  role: string;
}

export interface WireAppliedRequest {
  includeIds: boolean;
}

export interface WireAppliedResponse {
  count: number;
  hash: string;
  requestIds: string[];
  appliedIndex: number;
}
