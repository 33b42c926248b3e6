import protobuf from 'protobufjs';
import { TsswarmError } from '../../../errors/index.js';
import type { ObjectKind, ObjectOfKind } from '../../../objects/index.js';
import { objectSchema } from './schema.js';

/**
 * The one conversion between plain objects and protobuf bytes. Decoding fills every proto3
 * default (so readers never meet a missing list or scalar), turns int64 into numbers and
 * enums into their names, and leaves absent sub-messages out.
 */
const toObjectOptions: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

/** Checks a plain object against a message type: no unknown fields, enum names that exist. */
export function checkShape(type: protobuf.Type, value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${path || type.name} must be an object`;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const field = type.fields[key];
    const here = path === '' ? key : `${path}.${key}`;
    if (field === undefined) return `${here} is not a field of ${type.name}`;
    const problem = field.map
      ? checkMap(field, v, here)
      : field.repeated
        ? Array.isArray(v)
          ? v.map((e, i) => checkValue(field, e, `${here}[${i}]`)).find((p) => p !== undefined)
          : `${here} must be a list`
        : checkValue(field, v, here);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkMap(field: protobuf.Field, v: unknown, path: string): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${path} must be a map`;
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    const p = checkValue(field, e, `${path}.${k}`);
    if (p !== undefined) return p;
  }
  return undefined;
}

function checkValue(field: protobuf.Field, v: unknown, path: string): string | undefined {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return checkShape(rt, v, path);
  if (rt instanceof protobuf.Enum) {
    if (typeof v === 'string' && rt.values[v] !== undefined) return undefined;
    if (typeof v === 'number' && rt.valuesById[v] !== undefined) return undefined;
    return `${path} must be one of ${Object.keys(rt.values).join(', ')}`;
  }
  switch (field.type) {
    case 'string':
      return typeof v === 'string' ? undefined : `${path} must be a string`;
    case 'bool':
      return typeof v === 'boolean' ? undefined : `${path} must be a boolean`;
    case 'bytes':
      return v instanceof Uint8Array ? undefined : `${path} must be bytes`;
    case 'float':
    case 'double':
      return typeof v === 'number' ? undefined : `${path} must be a number`;
    default:
      // Integer kinds: a JS number is exact up to 2^53 (see the units note in objects.proto).
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return `${path} must be a safe integer`;
      if (field.type.startsWith('uint') && v < 0) return `${path} must not be negative`;
      return undefined;
  }
}

/** Drops the nulls protobufjs writes for absent sub-messages, and freezes the result. */
function settle(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = settle(value[i]);
    return Object.freeze(value);
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (o[key] === null) delete o[key];
    else o[key] = settle(o[key]);
  }
  return Object.freeze(o);
}

export function encodeMessage(type: protobuf.Type, value: unknown): Uint8Array {
  return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
}

/** Decodes into a deep-frozen plain object in the canonical form (see above). */
export function decodeMessage<T>(type: protobuf.Type, bytes: Uint8Array): T {
  return settle(type.toObject(type.decode(bytes), toObjectOptions)) as T;
}

/**
 * Validates a caller's object of `kind` and returns its canonical, frozen copy (a protobuf
 * round trip): what the store keeps and what every replica will decode from the log.
 * Throws STORE_INVALID_OBJECT naming the first bad field.
 */
export function canonicalObject<K extends ObjectKind>(kind: K, value: unknown): ObjectOfKind[K] {
  const type = objectSchema().byKind[kind];
  const problem = checkShape(type, value, '');
  if (problem !== undefined) throw new TsswarmError('STORE_INVALID_OBJECT', { kind, problem });
  const id = (value as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') throw new TsswarmError('STORE_INVALID_OBJECT', { kind, problem: 'id is empty' });
  const bytes = encodeMessage(type, withRequired(kind, value as Record<string, unknown>));
  const canonical = decodeMessage<ObjectOfKind[K]>(type, bytes);
  encodedCache.set(canonical, bytes);
  return canonical;
}

// The bytes each canonical object was decoded from (the same bytes re-encoding would give), so
// that a transaction's objects are not encoded again to measure and send them.
const encodedCache = new WeakMap<object, Uint8Array>();

/** The protobuf encoding of a stored or canonical object of `kind`. */
export function encodedObject(kind: ObjectKind, value: object): Uint8Array {
  const cached = encodedCache.get(value);
  if (cached !== undefined) return cached;
  const bytes = encodeMessage(objectSchema().byKind[kind], value);
  encodedCache.set(value, bytes);
  return bytes;
}

/**
 * Sub-messages every object of a kind has (its spec, a task's status...), so that readers can
 * rely on them: an absent one is filled with its defaults.
 */
const requiredPaths: Readonly<Record<ObjectKind, readonly string[]>> = {
  node: ['meta', 'spec', 'spec.annotations'],
  cluster: ['meta', 'spec', 'spec.annotations'],
  service: ['meta', 'spec', 'spec.annotations', 'spec.task'],
  task: ['meta', 'spec', 'status'],
  network: ['meta', 'spec', 'spec.annotations'],
};

function withRequired(kind: ObjectKind, value: Record<string, unknown>): Record<string, unknown> {
  const out = { ...value };
  for (const path of requiredPaths[kind]) {
    const parts = path.split('.');
    let node = out;
    for (const part of parts) {
      const child = node[part];
      const copy = child === undefined || child === null ? {} : { ...(child as Record<string, unknown>) };
      node[part] = copy;
      node = copy;
    }
  }
  return out;
}
