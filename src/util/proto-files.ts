import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type Options } from '@grpc/proto-loader';
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';

/**
 * The options every tsswarm proto is loaded with: camelCase names, int64 as number (terms,
 * indexes, versions and ms stay far below 2^53), enums as their names, every field present
 * (absent sub-messages come out as null: see without-nulls.ts), no oneof marker fields. So a
 * Node or Task decodes exactly as the store hands it out.
 */
export const PROTO_LOAD_OPTIONS: Readonly<Options> = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: false,
};

/**
 * The repository's proto/ folder, found by walking up from this module, so the same code runs
 * from src/ (vitest) and from dist/src/ (the compiled daemon).
 */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'proto', 'objects.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error('proto/ not found above ' + fileURLToPath(import.meta.url));
}

/** Loads proto/FILE (and what it imports) as a gRPC package object; `overrides` change options. */
export function loadProtoPackage(file: string, overrides: Readonly<Options> = {}): GrpcObject {
  const dir = protoDir();
  return loadPackageDefinition(loadSync(join(dir, file), { includeDirs: [dir], ...PROTO_LOAD_OPTIONS, ...overrides }));
}
