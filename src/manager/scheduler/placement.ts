import { TsswarmError } from '../../errors/index.js';
import type { Node } from '../../objects/index.js';
import { parseConstraint } from './constraint.js';

/** A `--placement-pref spread=KEY`: the label whose values tasks are spread over first. */
export interface SpreadPreference {
  /** node.labels.NAME or engine.labels.NAME, lower-cased. */
  readonly key: string;
}

/**
 * Parses a spread descriptor as stored in Placement.preferences (`node.labels.rack`); the
 * flag's own form (`spread=node.labels.rack`) is accepted too. Throws PLACEMENT_INVALID_PREFERENCE.
 */
export function parsePreference(descriptor: string): SpreadPreference {
  const text = descriptor.trim();
  const body = text.toLowerCase().startsWith('spread=') ? text.slice('spread='.length).trim() : text;
  if (text.includes('=') && !text.toLowerCase().startsWith('spread=')) {
    throw new TsswarmError('PLACEMENT_INVALID_PREFERENCE', { expr: JSON.stringify(descriptor), reason: 'the only placement preference is spread' });
  }
  const key = body.toLowerCase();
  const ok = /^(node|engine)\.labels\.[\w.-]+$/.test(key);
  if (!ok) {
    throw new TsswarmError('PLACEMENT_INVALID_PREFERENCE', {
      expr: JSON.stringify(descriptor),
      reason: 'spread takes a label key, node.labels.NAME or engine.labels.NAME',
    });
  }
  return { key };
}

/**
 * Checks --constraint and --placement-pref values before a service is created or updated, so
 * bad input is refused and nothing is written. Pure; throws PLACEMENT_INVALID_CONSTRAINT or
 * PLACEMENT_INVALID_PREFERENCE naming the first bad expression.
 */
export function validatePlacement(constraints: readonly string[], preferences: readonly string[]): void {
  for (const c of constraints) parseConstraint(c);
  for (const p of preferences) parsePreference(p);
}

/** The node's value for a spread key; nodes without the label form their own group (""). */
export function spreadValue(node: Node, pref: SpreadPreference): string {
  const [scope, , ...rest] = pref.key.split('.');
  const name = rest.join('.');
  const labels = scope === 'node' ? node.spec.annotations.labels : node.description?.engineLabels ?? {};
  for (const [k, v] of Object.entries(labels)) if (k.toLowerCase() === name) return `=${v}`;
  return '';
}
