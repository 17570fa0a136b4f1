// Majority arithmetic over a set of voters: what index a quorum has reached, and how a vote stands.
// Pure functions, checked against a naive model in quorum.test.ts.

import type { NodeId } from "./types.js";

export type VoteResult = "won" | "lost" | "pending";

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/** The largest index that a majority of `voters` has reached; 0 with no voters. */
export function committedIndex(voters: readonly NodeId[], indexOf: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return 0;
  const indexes = new Array<number>(n);
  for (let i = 0; i < n; i++) indexes[i] = indexOf(voters[i]!);
  indexes.sort((a, b) => b - a);
  return indexes[quorumSize(n) - 1]!;
}

/** Won once a majority said yes, lost once a majority can no longer say yes. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const quorum = quorumSize(voters.length);
  if (granted >= quorum) return "won";
  if (granted + missing >= quorum) return "pending";
  return "lost";
}

/** Whether the ids in `active` make up a majority of `voters`. */
export function hasQuorum(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  let count = 0;
  for (const id of voters) if (active(id)) count++;
  return count >= quorumSize(voters.length);
}
