import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeConfChange, encodeConfChange } from '../../../../src/manager/raft/core/index.js';
import type { ConfChange } from '../../../../src/manager/raft/types.js';
import { codeOf } from '../../../support/errors.js';

describe('conf change codec', () => {
  it.each<ConfChange>([
    { type: 'addLearner', nodeId: 'n1', context: new TextEncoder().encode('10.0.0.1:2377') },
    { type: 'addLearner', nodeId: 'n1', context: new Uint8Array(0) },
    { type: 'promote', nodeId: 'abcdef0123456789' },
    { type: 'remove', nodeId: 'ünïcødé' },
  ])('round-trips $type $nodeId', (cc) => {
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('round-trips any change', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('addLearner' as const, 'promote' as const, 'remove' as const),
        fc.string({ maxLength: 40 }),
        fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
        (type, nodeId, context) => {
          const cc: ConfChange = context === undefined ? { type, nodeId } : { type, nodeId, context };
          expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
        },
      ),
      { numRuns: 500, seed: 5 },
    );
  });

  it('decodes from a view into a larger buffer', () => {
    const enc = encodeConfChange({ type: 'remove', nodeId: 'x' });
    const big = new Uint8Array(enc.length + 10);
    big.set(enc, 5);
    expect(decodeConfChange(big.subarray(5, 5 + enc.length))).toEqual({ type: 'remove', nodeId: 'x' });
  });

  it('rejects anything it could not have produced with RAFT_CONF_CHANGE_MALFORMED', () => {
    const good = encodeConfChange({ type: 'promote', nodeId: 'n1', context: new Uint8Array([1, 2]) });
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(2, ...good.slice(1)), // unknown version
      Uint8Array.of(1, 9, ...good.slice(2)), // unknown type
      good.slice(0, good.length - 1), // truncated context
      Uint8Array.of(...good, 0), // trailing byte
      Uint8Array.of(1, 0, 0, 2, 0xff, 0xfe, 0), // node ID not UTF-8
    ];
    for (const data of bad) expect(codeOf(() => decodeConfChange(data))).toBe('RAFT_CONF_CHANGE_MALFORMED');
  });
});
