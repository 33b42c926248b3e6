import type { ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import { loadProtoPackage } from '../../util/proto-files.js';

/**
 * Loads proto/dispatcher.proto (and objects.proto) once per process, with the project's proto
 * options (src/util/proto-files.ts), so a Node or Task decodes exactly as the store hands it out. The agent imports this file
 * (the wire contract) and messages.ts, nothing else of the manager.
 */
export interface DispatcherProto {
  readonly dispatcherService: ServiceDefinition;
  readonly DispatcherClient: ServiceClientConstructor;
}

let cached: DispatcherProto | undefined;

export function loadDispatcherProto(): DispatcherProto {
  if (cached !== undefined) return cached;
  const pkg = loadProtoPackage('dispatcher.proto') as unknown as { tsswarm: { dispatcher: { Dispatcher: ServiceClientConstructor } } };
  const { Dispatcher } = pkg.tsswarm.dispatcher;
  cached = { dispatcherService: Dispatcher.service, DispatcherClient: Dispatcher };
  return cached;
}
