/**
 * Majority arithmetic for a single (non-joint) configuration of voters.
 */

export type VoteResult = 'won' | 'lost' | 'pending';

const scratch: number[] = [];

/**
 * The highest index that a majority of `voters` have matched (Raft §5.3: an entry is
 * committed once replicated on a majority). With no voters nothing is committed (0).
 */
export function committedIndex(voters: Iterable<string>, matchOf: (id: string) => number): number {
  scratch.length = 0;
  for (const id of voters) scratch.push(matchOf(id));
  const n = scratch.length;
  if (n === 0) return 0;
  // Insertion sort, descending: configurations have a handful of voters.
  for (let i = 1; i < n; i++) {
    const v = scratch[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! < v) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = v;
  }
  // The q-th largest match, q = floor(n/2)+1, is held by at least q voters.
  return scratch[Math.floor(n / 2)]!;
}

/** Whether `votes` (granted or not, by voter) already decide an election among `voters`. */
export function voteResult(voters: Iterable<string>, votes: ReadonlyMap<string, boolean>): VoteResult {
  let n = 0;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    n++;
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const quorum = Math.floor(n / 2) + 1;
  if (granted >= quorum) return 'won';
  if (n - rejected < quorum) return 'lost';
  return 'pending';
}

/** Whether the voters for which `isActive` holds form a majority. */
export function quorumActive(voters: Iterable<string>, isActive: (id: string) => boolean): boolean {
  let n = 0;
  let active = 0;
  for (const id of voters) {
    n++;
    if (isActive(id)) active++;
  }
  return active >= Math.floor(n / 2) + 1;
}
