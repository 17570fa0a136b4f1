// Flow control of one follower's progress: what pauses appends and what resumes them.

import { describe, expect, it } from "vitest";
import { Progress } from "./progress.js";

const probing = (match: number): Progress => {
  const pr = new Progress(match + 1, false, 4, 0);
  pr.match = match;
  return pr;
};

describe("a follower's progress", () => {
  it("in probe state, pauses after one append until the follower's answer moves its match", () => {
    const pr = probing(10);
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(20, 10, 1_000);
    expect(pr.isPaused()).toBe(true);
    expect(pr.next).toBe(11); // a probe does not advance next: the answer says where the follower is
    expect(pr.maybeUpdate(20)).toBe(true);
    expect(pr.match).toBe(20);
    expect(pr.isPaused()).toBe(false);
  });

  it("stays paused on an old answer, as etcd's MaybeUpdate does: only news, a rejection or a heartbeat answer resume a probe", () => {
    // Resuming on old news let every late acknowledgement of a follower far behind release one more
    // probe of up to appendBytesMax, all from the same index, while the first was still on its way.
    const pr = probing(10);
    pr.sentEntries(20, 10, 1_000);
    expect(pr.maybeUpdate(10)).toBe(false);
    expect(pr.maybeUpdate(7)).toBe(false);
    expect(pr.isPaused()).toBe(true);
    expect(pr.match).toBe(10);
    expect(pr.maybeDecrTo(10, 5)).toBe(true);
    expect(pr.isPaused()).toBe(false);
    expect(pr.next).toBe(11); // never below match + 1
  });

  it("in replicate state, pauses when the inflight window is full and resumes as acknowledgements free it", () => {
    const pr = probing(10);
    pr.becomeReplicate();
    for (let last = 11; last <= 14; last++) pr.sentEntries(last, 1, 100);
    expect(pr.next).toBe(15);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(12)).toBe(true);
    pr.inflights.freeLE(12);
    expect(pr.isPaused()).toBe(false);
  });
});
