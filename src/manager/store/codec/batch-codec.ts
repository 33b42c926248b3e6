import protobuf from 'protobufjs';
import { objectKinds, type ObjectKind, type StoredObject } from '../../../objects/index.js';
import type { StagedChange } from '../state/overlay.js';
import { decodeMessage, encodedObject } from './object-codec.js';
import { objectSchema } from './schema.js';

/** StoreAction.Kind names (proto/objects.proto). */
export type ActionKind = 'CREATE' | 'UPDATE' | 'DELETE';

/** One change as it travels in the Raft log. */
export interface StoreAction {
  readonly kind: ActionKind;
  readonly objectKind: ObjectKind;
  /** CREATE/UPDATE: the whole object; DELETE: only its id. UPDATE's meta.version is the
   * version the writer read, which apply() checks against the replica's. */
  readonly object: StoredObject;
}

export interface StoreActionBatch {
  readonly proposalId: string;
  readonly actions: readonly StoreAction[];
  readonly proposedAtMs: number;
}

/** Turns a transaction's staged changes into log actions. */
export function actionsOf(changes: readonly StagedChange[]): StoreAction[] {
  return changes.map((c): StoreAction => {
    if (c.after === undefined) return { kind: 'DELETE', objectKind: c.kind, object: { id: c.id, meta: c.before!.meta } };
    if (c.before === undefined) return { kind: 'CREATE', objectKind: c.kind, object: c.after };
    if (c.after.meta.version === c.before.meta.version) return { kind: 'UPDATE', objectKind: c.kind, object: c.after };
    // Expect the version this transaction started from (a delete-then-create in one
    // transaction staged a fresh object whose own meta says nothing).
    return { kind: 'UPDATE', objectKind: c.kind, object: { ...c.after, meta: { ...c.after.meta, version: c.before.meta.version } } };
  });
}

// Field numbers of proto/objects.proto, for writing a batch around objects already encoded
// (an embedded message is its tag and its length-prefixed bytes). The decode side is plain
// protobufjs, and object-codec tests round-trip every path, so the two cannot drift apart
// unnoticed; test/manager/store/testdata/objects-fields.json freezes the numbers.
const wire = { lengthDelimited: 2, varint: 0 } as const;
const tag = (field: number, type: number): number => (field << 3) | type;
const storeObjectField: Readonly<Record<ObjectKind, number>> = { node: 1, cluster: 2, service: 3, task: 4, network: 5 };
const actionKindValue: Readonly<Record<ActionKind, number>> = { CREATE: 0, UPDATE: 1, DELETE: 2 };

const actionCache = new WeakMap<StoreAction, Uint8Array>();

/** The encoded StoreAction message (cached per action). */
function encodeAction(a: StoreAction): Uint8Array {
  const cached = actionCache.get(a);
  if (cached !== undefined) return cached;
  const object = a.kind === 'DELETE' ? encodedObject(a.objectKind, { id: a.object.id }) : encodedObject(a.objectKind, a.object);
  const target = protobuf.Writer.create().uint32(tag(storeObjectField[a.objectKind], wire.lengthDelimited)).bytes(object).finish();
  const w = protobuf.Writer.create();
  if (actionKindValue[a.kind] !== 0) w.uint32(tag(1, wire.varint)).uint32(actionKindValue[a.kind]);
  const bytes = w.uint32(tag(2, wire.lengthDelimited)).bytes(target).finish();
  actionCache.set(a, bytes);
  return bytes;
}

/** Bytes one action adds to a batch: its message plus tag and length prefix. */
export function encodedActionSize(a: StoreAction): number {
  const n = encodeAction(a).length;
  return 1 + varintLength(n) + n;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

export function encodeBatch(b: StoreActionBatch): Uint8Array {
  const w = protobuf.Writer.create();
  if (b.proposalId !== '') w.uint32(tag(1, wire.lengthDelimited)).string(b.proposalId);
  for (const a of b.actions) w.uint32(tag(2, wire.lengthDelimited)).bytes(encodeAction(a));
  if (b.proposedAtMs !== 0) w.uint32(tag(3, wire.varint)).int64(b.proposedAtMs);
  return w.finish();
}

interface WireBatch {
  proposalId: string;
  proposedAtMs: number;
  actions: Array<{ kind: ActionKind; target?: Partial<Record<ObjectKind, StoredObject>> }>;
}

/** Decodes a log entry; throws (protobufjs's error) on bytes that are not a batch. */
export function decodeBatch(data: Uint8Array): StoreActionBatch {
  const w = decodeMessage<WireBatch>(objectSchema().batch, data);
  const actions = w.actions.map((a): StoreAction => {
    const objectKind = objectKinds.find((k) => a.target?.[k] !== undefined);
    if (objectKind === undefined) throw new Error('a store action names no object');
    return { kind: a.kind, objectKind, object: a.target![objectKind]! };
  });
  return { proposalId: w.proposalId, proposedAtMs: w.proposedAtMs, actions };
}
