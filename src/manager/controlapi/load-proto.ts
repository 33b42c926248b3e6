import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';

/**
 * Loads proto/control.proto (and the objects.proto it imports) once per process. Found by
 * walking up from this module, so the same code runs from src/ (vitest) and dist/src/.
 * Messages come out as the store hands objects out: camelCase, enums as names, int64 as
 * number, every field present.
 */
export interface ControlProto {
  readonly controlService: ServiceDefinition;
  readonly ControlClient: ServiceClientConstructor;
  readonly nodeCaService: ServiceDefinition;
  readonly NodeCaClient: ServiceClientConstructor;
  readonly membershipService: ServiceDefinition;
  readonly MembershipClient: ServiceClientConstructor;
}

let cached: ControlProto | undefined;

function findProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'proto', 'control.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('proto/control.proto not found above ' + fileURLToPath(import.meta.url));
}

export function loadControlProto(): ControlProto {
  if (cached !== undefined) return cached;
  const protoDir = findProtoDir();
  const definition = loadSync(join(protoDir, 'control.proto'), {
    includeDirs: [protoDir],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
    oneofs: false,
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    tsswarm: { control: { Control: ServiceClientConstructor; NodeCA: ServiceClientConstructor; RaftMembership: ServiceClientConstructor } };
  };
  const { Control, NodeCA, RaftMembership } = pkg.tsswarm.control;
  cached = {
    controlService: Control.service, ControlClient: Control,
    nodeCaService: NodeCA.service, NodeCaClient: NodeCA,
    membershipService: RaftMembership.service, MembershipClient: RaftMembership,
  };
  return cached;
}
