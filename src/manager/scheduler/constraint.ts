import { TsswarmError } from '../../errors/index.js';
import type { Node } from '../../objects/index.js';

/** One parsed `--constraint KEY==VALUE` / `KEY!=VALUE`. */
export interface Constraint {
  /** Lower-cased key: node.id, node.hostname, node.role, node.ip, node.platform.os|arch, node.labels.K, engine.labels.K. */
  readonly key: string;
  readonly op: '==' | '!=';
  readonly value: string;
}

const FIXED_KEYS = new Set(['node.id', 'node.hostname', 'node.role', 'node.ip', 'node.platform.os', 'node.platform.arch']);
const LABEL_PREFIXES = ['node.labels.', 'engine.labels.'];
// swarmkit's grammar: a key of word characters, dots and dashes, then == or !=, then a value
// of printable characters without operators in it.
const EXPRESSION = /^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$/;
const VALUE = /^[\w.\-:/@ ,+=*]+$/;

function invalid(expr: string, reason: string): TsswarmError {
  return new TsswarmError('PLACEMENT_INVALID_CONSTRAINT', { expr: JSON.stringify(expr), reason });
}

/** Parses one constraint expression; throws PLACEMENT_INVALID_CONSTRAINT. Pure. */
export function parseConstraint(expr: string): Constraint {
  const m = EXPRESSION.exec(expr);
  if (m === null) throw invalid(expr, 'a constraint is KEY==VALUE or KEY!=VALUE');
  const key = m[1]!.toLowerCase();
  const value = m[3]!;
  const label = LABEL_PREFIXES.find((p) => key.startsWith(p));
  if (label !== undefined) {
    if (key.length === label.length) throw invalid(expr, `${label}NAME needs a label name`);
  } else if (!FIXED_KEYS.has(key)) {
    throw invalid(expr, `the key ${m[1]} is not one the scheduler knows`);
  }
  if (value === '' || !VALUE.test(value) || value.includes('==') || value.includes('!=')) {
    throw invalid(expr, 'the value is missing or holds characters a constraint value cannot have');
  }
  if (key === 'node.role' && !['manager', 'worker'].includes(value.toLowerCase())) throw invalid(expr, 'node.role is manager or worker');
  if (key === 'node.ip' && parseIpOrCidr(value) === undefined) throw invalid(expr, 'node.ip is an IPv4 address or CIDR');
  return { key, op: m[2] as '==' | '!=', value };
}

export function parseConstraints(exprs: readonly string[]): Constraint[] {
  return exprs.map(parseConstraint);
}

function ipv4ToInt(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function parseIpOrCidr(s: string): { base: number; bits: number } | undefined {
  const [ip, bitsText] = s.split('/');
  const base = ipv4ToInt(ip ?? '');
  if (base === undefined) return undefined;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32 || (bitsText !== undefined && !/^\d+$/.test(bitsText))) return undefined;
  return { base, bits };
}

function ipMatches(nodeAddr: string, value: string): boolean {
  const want = parseIpOrCidr(value);
  const have = ipv4ToInt(nodeAddr.split(':')[0] ?? '');
  if (want === undefined || have === undefined) return false;
  if (want.bits === 0) return true;
  const shift = 32 - want.bits;
  return Math.floor(have / 2 ** shift) === Math.floor(want.base / 2 ** shift);
}

/** The node's value for a constraint key, or undefined when the node has none (a missing label). */
function nodeValue(node: Node, key: string): string | undefined {
  switch (key) {
    case 'node.id': return node.id;
    case 'node.hostname': return node.description?.hostname ?? '';
    case 'node.role': return node.role.toLowerCase();
    case 'node.platform.os': return node.description?.platform?.os ?? '';
    case 'node.platform.arch': return node.description?.platform?.architecture ?? '';
  }
  if (key.startsWith('node.labels.')) return findLabel(node.spec.annotations.labels, key.slice('node.labels.'.length));
  if (key.startsWith('engine.labels.')) return findLabel(node.description?.engineLabels ?? {}, key.slice('engine.labels.'.length));
  return undefined;
}

/** Label names compare without case, as Docker's constraint keys do. */
function findLabel(labels: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [k, v] of Object.entries(labels)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Whether a node satisfies one constraint. Values compare without case (as swarmkit's
 * constraint filter does); node.ip matches an address or a CIDR against the node's status
 * address. A missing label fails == and passes !=.
 */
export function nodeMatchesConstraint(node: Node, c: Constraint): boolean {
  let equal: boolean;
  if (c.key === 'node.ip') {
    equal = ipMatches(node.status?.addr ?? '', c.value);
  } else {
    const have = nodeValue(node, c.key);
    equal = have !== undefined && have.toLowerCase() === c.value.toLowerCase();
  }
  return c.op === '==' ? equal : !equal;
}

export function nodeMatchesConstraints(node: Node, cs: readonly Constraint[]): boolean {
  return cs.every((c) => nodeMatchesConstraint(node, c));
}
