import { describe, expect, it } from 'vitest';
import { LogReplay } from '../../../../src/manager/raft/storage/log-replay.js';
import { entry, ids } from './helpers.js';

type Step = ['e', number, number] | ['m', number, number] | ['h', number];

function run(steps: Step[], snapshot?: { index: number; term: number }) {
  const replay = new LogReplay();
  steps.forEach((s, i) => {
    const where = { file: 'seg', offset: i };
    if (s[0] === 'e') replay.entry(entry(s[1], s[2]), where);
    else if (s[0] === 'm') replay.marker(s[1], s[2], where);
    else replay.hardStateRecord({ term: 1, vote: '', commit: s[1] }, where);
  });
  const result = replay.finish(snapshot);
  return { ids: ids(result.entries), lastIndex: result.lastIndex };
}

const e = (index: number, term: number): Step => ['e', index, term];
const m = (index: number, term: number): Step => ['m', index, term];

describe('LogReplay', () => {
  it.each<[string, Step[], { index: number; term: number } | undefined, string[], number]>([
    ['appends in order', [e(1, 1), e(2, 1), e(3, 1)], undefined, ['1@1', '2@1', '3@1'], 3],
    ['overwrite replaces the suffix', [e(1, 1), e(2, 1), e(3, 1), e(2, 2)], undefined, ['1@1', '2@2'], 2],
    ['rewrite of the same index', [e(1, 1), e(1, 2)], undefined, ['1@2'], 1],
    ['own snapshot keeps the log after it', [e(1, 1), e(2, 1), e(3, 1), m(2, 1)], { index: 2, term: 1 }, ['3@1'], 3],
    ['conflicting snapshot drops the log', [e(1, 1), e(2, 1), e(3, 1), m(2, 5)], { index: 2, term: 5 }, [], 2],
    ['snapshot past the log end, then entries after it', [e(1, 1), m(9, 2), e(10, 2)], { index: 9, term: 2 }, ['10@2'], 10],
    ['released prefix: log starts right after the snapshot', [e(6, 1), e(7, 1)], { index: 5, term: 1 }, ['6@1', '7@1'], 7],
    ['snapshot file newer than any marker', [e(1, 1), e(2, 1), e(3, 1)], { index: 2, term: 1 }, ['3@1'], 3],
    ['older snapshot file still joined by the log', [e(1, 1), e(2, 1), e(3, 1), e(4, 1), m(3, 1)], { index: 1, term: 1 }, ['2@1', '3@1', '4@1'], 4],
    ['hard state commit within the log', [e(1, 1), ['h', 1]], undefined, ['1@1'], 1],
  ])('%s', (_name, steps, snapshot, expected, lastIndex) => {
    expect(run(steps, snapshot)).toEqual({ ids: expected, lastIndex });
  });

  it.each<[string, Step[], { index: number; term: number } | undefined, number]>([
    ['a hole between entries', [e(1, 1), e(2, 1), e(4, 1)], undefined, 2],
    ['log does not start at 1 without a snapshot', [e(3, 1), e(4, 1)], undefined, 1],
    ['log starts past the snapshot', [e(7, 1)], { index: 5, term: 1 }, 0],
    ['entry skips past a marker that dropped the log', [e(1, 1), m(5, 3), e(7, 3)], { index: 5, term: 3 }, 2],
    ['marker refers to a snapshot newer than the one on disk', [e(1, 1), m(5, 3)], { index: 0, term: 0 }, 1],
    ['commit past the last entry', [e(1, 1), ['h', 2]], undefined, 1],
  ])('STORAGE_CORRUPT: %s', (_name, steps, snapshot, offset) => {
    let caught: unknown;
    try {
      run(steps, snapshot?.index === 0 ? undefined : snapshot);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'STORAGE_CORRUPT', details: { file: 'seg', offset } });
  });
});
