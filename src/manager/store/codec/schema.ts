import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { ObjectKind } from '../../../objects/index.js';

/** protobufjs message types of proto/objects.proto, loaded once per process. */
export interface ObjectSchema {
  readonly root: protobuf.Root;
  readonly byKind: Readonly<Record<ObjectKind, protobuf.Type>>;
  readonly batch: protobuf.Type;
  readonly snapshot: protobuf.Type;
}

let loaded: ObjectSchema | undefined;

/** Walks up from this module (src/ or dist/src/) to the repository's proto/ directory. */
function findObjectsProto(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'proto', 'objects.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('proto/objects.proto not found above ' + fileURLToPath(import.meta.url));
}

export function objectSchema(): ObjectSchema {
  if (loaded !== undefined) return loaded;
  // Field names become camelCase (protobufjs's default), the form the TypeScript types use.
  const root = protobuf.loadSync(findObjectsProto());
  root.resolveAll();
  const t = (name: string): protobuf.Type => root.lookupType(`tsswarm.objects.${name}`);
  loaded = {
    root,
    byKind: { node: t('Node'), cluster: t('Cluster'), service: t('Service'), task: t('Task'), network: t('Network') },
    batch: t('StoreActionBatch'),
    snapshot: t('StoreSnapshot'),
  };
  return loaded;
}
