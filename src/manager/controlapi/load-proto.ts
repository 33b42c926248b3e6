import type { ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import { loadProtoPackage } from '../../util/proto-files.js';

/**
 * Loads proto/control.proto (and the objects.proto it imports) once per process, with the
 * project's proto options (src/util/proto-files.ts): messages come out as the store hands
 * objects out.
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

export function loadControlProto(): ControlProto {
  if (cached !== undefined) return cached;
  const pkg = loadProtoPackage('control.proto') as unknown as {
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
