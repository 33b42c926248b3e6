/**
 * A deep copy without null fields. proto-loader (defaults: true) hands every absent
 * sub-message over as null, while the objects of src/objects mark "absent" as undefined:
 * `spec.global !== undefined` must not be true for a replicated service read off the wire.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withoutNulls(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out as T;
}
