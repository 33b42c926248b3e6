import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';

/**
 * Loads proto/raft.proto once per process. The file is found by walking up from this module,
 * so the same code works from src/ (vitest) and from dist/src/ (the compiled daemon).
 */
export interface RaftProto {
  readonly raftService: ServiceDefinition;
  readonly RaftClient: ServiceClientConstructor;
  readonly probeService: ServiceDefinition;
  readonly ProbeClient: ServiceClientConstructor;
}

let cached: RaftProto | undefined;

function findProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'proto', 'raft.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('proto/raft.proto not found above ' + fileURLToPath(import.meta.url));
}

export function loadRaftProto(): RaftProto {
  if (cached !== undefined) return cached;
  const definition = loadSync(join(findProtoDir(), 'raft.proto'), {
    // camelCase names, numbers for 64-bit fields and enums, every field present: the shapes
    // that wire-types.ts describes. Terms and indexes stay far below 2^53.
    keepCase: false,
    longs: Number,
    enums: Number,
    defaults: true,
    arrays: true,
    oneofs: false,
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    tsswarm: { raft: { Raft: ServiceClientConstructor; MemberProbe: ServiceClientConstructor } };
  };
  const { Raft, MemberProbe } = pkg.tsswarm.raft;
  cached = { raftService: Raft.service, RaftClient: Raft, probeService: MemberProbe.service, ProbeClient: MemberProbe };
  return cached;
}
