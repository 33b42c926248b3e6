import type { ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import { loadProtoPackage } from '../../../util/proto-files.js';

/** Loads proto/raft.proto once per process (src/util/proto-files.ts finds it). */
export interface RaftProto {
  readonly raftService: ServiceDefinition;
  readonly RaftClient: ServiceClientConstructor;
  readonly probeService: ServiceDefinition;
  readonly ProbeClient: ServiceClientConstructor;
}

let cached: RaftProto | undefined;

export function loadRaftProto(): RaftProto {
  if (cached !== undefined) return cached;
  // Enums as numbers and no default objects: the shapes that wire-types.ts describes.
  const pkg = loadProtoPackage('raft.proto', { enums: Number, objects: false }) as unknown as {
    tsswarm: { raft: { Raft: ServiceClientConstructor; MemberProbe: ServiceClientConstructor } };
  };
  const { Raft, MemberProbe } = pkg.tsswarm.raft;
  cached = { raftService: Raft.service, RaftClient: Raft, probeService: MemberProbe.service, ProbeClient: MemberProbe };
  return cached;
}
