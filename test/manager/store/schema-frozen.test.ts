import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { objectSchema } from '../../../src/manager/store/codec/schema.js';

const frozenFile = fileURLToPath(new URL('./testdata/objects-fields.json', import.meta.url));

/** Every field and enum value of proto/objects.proto as "Message.field" -> "number type". */
function describeSchema(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        for (const f of nested.fieldsArray) out[`${f.fullName.slice(1)}`] = `${f.id} ${f.map ? 'map ' : f.repeated ? 'repeated ' : ''}${f.type}`;
      }
      if (nested instanceof protobuf.Enum) {
        for (const [name, id] of Object.entries(nested.values)) out[`${nested.fullName.slice(1)}.${name}`] = `${id}`;
      }
      if (nested instanceof protobuf.Namespace) walk(nested);
    }
  };
  walk(objectSchema().root.lookup('tsswarm.objects') as protobuf.Namespace);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('proto/objects.proto stays append-only', () => {
  it('keeps the number and type of every field and enum value recorded in testdata/objects-fields.json', () => {
    const now = describeSchema();
    // TSSWARM_REWRITE_FROZEN=1 records the fields added since (never changes a recorded one).
    if (process.env.TSSWARM_REWRITE_FROZEN === '1') {
      const before = JSON.parse(readFileSync(frozenFile, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(before)) expect(now[k], k).toBe(v);
      writeFileSync(frozenFile, JSON.stringify(now, null, 1) + '\n');
    }
    const frozen = JSON.parse(readFileSync(frozenFile, 'utf8')) as Record<string, string>;
    for (const [name, numberAndType] of Object.entries(frozen)) expect(now[name], name).toBe(numberAndType);
    expect(Object.keys(frozen).length).toBeGreaterThan(200);
  });
});
