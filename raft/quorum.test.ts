// Majority math against a naive model over random inputs (etcd-io/raft's quorum/quick_test.go idea).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { committedIndex, voteResult } from "./quorum.js";

function naiveCommitted(matches: readonly number[]): number {
  // The largest index that more than half of the voters have reached.
  let best = 0;
  for (const candidate of matches) {
    if (matches.filter((m) => m >= candidate).length * 2 > matches.length) best = Math.max(best, candidate);
  }
  return best;
}

describe("quorum", () => {
  it("the committed index is the largest index a majority has reached", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 9 }), (matches) => {
        const voters = matches.map((_, i) => i + 1);
        expect(committedIndex(voters, (id) => matches[id - 1]!)).toBe(naiveCommitted(matches));
      }),
    );
  });

  it("a vote is won with a majority of yes, lost once a majority is out of reach", () => {
    const voters = [1, 2, 3, 4, 5];
    const votes = (entries: [number, boolean][]): Map<number, boolean> => new Map(entries);
    expect(voteResult(voters, votes([[1, true], [2, true]]))).toBe("pending");
    expect(voteResult(voters, votes([[1, true], [2, true], [3, true]]))).toBe("won");
    expect(voteResult(voters, votes([[1, false], [2, false], [3, false]]))).toBe("lost");
    expect(voteResult(voters, votes([[1, true], [2, false], [3, false], [4, false]]))).toBe("lost");
    expect(voteResult([1], votes([[1, true]]))).toBe("won");
  });

  it("a vote result matches counting over random votes", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.boolean()), { minLength: 1, maxLength: 9 }), (raw) => {
        const voters = raw.map((_, i) => i + 1);
        const votes = new Map<number, boolean>();
        raw.forEach((v, i) => v !== null && votes.set(i + 1, v));
        const yes = raw.filter((v) => v === true).length;
        const no = raw.filter((v) => v === false).length;
        const q = Math.floor(raw.length / 2) + 1;
        const expected = yes >= q ? "won" : raw.length - no < q ? "lost" : "pending";
        expect(voteResult(voters, votes)).toBe(expected);
      }),
    );
  });
});
