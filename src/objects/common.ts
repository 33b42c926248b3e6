/**
 * TypeScript shapes of proto/objects.proto, in the form the store hands out: protobufjs's
 * camelCase names, every scalar, list and map present (proto3 defaults filled in), enums as
 * their names, int64 as number. Sub-messages whose absence means something are optional.
 * Keep in step with the .proto file (append only).
 */

/** Written by the store, never by callers: version = Raft index of the last write. */
export interface Meta {
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface Annotations {
  name: string;
  labels: Record<string, string>;
}

export interface Platform {
  architecture: string;
  os: string;
}

/** Every stored object: an ID and its Meta. */
export interface StoredObject {
  id: string;
  meta: Meta;
}

/** What a caller writes: any field may be left out and gets its proto3 default. */
export type DeepPartial<T> = T extends Uint8Array
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<DeepPartial<E>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;
