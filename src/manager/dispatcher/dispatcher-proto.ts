import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';

/**
 * Loads proto/dispatcher.proto (and objects.proto) once per process, with the same options as
 * the Control API's loader: camelCase, enums as names, int64 as number, every field present,
 * so a Node or Task decodes exactly as the store hands it out. The agent imports this file
 * (the wire contract) and messages.ts, nothing else of the manager.
 */
export interface DispatcherProto {
  readonly dispatcherService: ServiceDefinition;
  readonly DispatcherClient: ServiceClientConstructor;
}

let cached: DispatcherProto | undefined;

function findProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'proto', 'dispatcher.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('proto/dispatcher.proto not found above ' + fileURLToPath(import.meta.url));
}

export function loadDispatcherProto(): DispatcherProto {
  if (cached !== undefined) return cached;
  const protoDir = findProtoDir();
  const definition = loadSync(join(protoDir, 'dispatcher.proto'), {
    includeDirs: [protoDir],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
    oneofs: false,
  });
  const pkg = loadPackageDefinition(definition) as unknown as { tsswarm: { dispatcher: { Dispatcher: ServiceClientConstructor } } };
  const { Dispatcher } = pkg.tsswarm.dispatcher;
  cached = { dispatcherService: Dispatcher.service, DispatcherClient: Dispatcher };
  return cached;
}
