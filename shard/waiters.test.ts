import { describe, expect, it } from "vitest";
import type { ApplyResult } from "./mvcc/index.js";
import { Waiters } from "./waiters.js";

const applied = (index: number, requestId: bigint): ApplyResult => ({ index, requestId, revision: index, ok: true, response: {} });
const FAR_MS = 1e15;

describe("proposals waiting for their entry to apply", () => {
  it("a proposal is answered when its own entry applies", async () => {
    const waiters = new Waiters();
    const answer = waiters.addProposal(5n, FAR_MS);
    waiters.placed(5n, 10);
    waiters.applied([applied(9, 0n), applied(10, 5n)]);
    await expect(answer).resolves.toMatchObject({ index: 10, requestId: 5n });
    expect(waiters.proposalCount).toBe(0);
  });

  it("a proposal whose index applies with another entry fails with leader changed, later ones keep waiting", async () => {
    const waiters = new Waiters();
    const lost = waiters.addProposal(1n, FAR_MS);
    const later = waiters.addProposal(2n, FAR_MS);
    waiters.placed(1n, 10);
    waiters.placed(2n, 11);
    waiters.applied([applied(10, 99n)]);
    await expect(lost).rejects.toThrow("etcdserver: leader changed");
    expect(waiters.proposalCount).toBe(1);
    waiters.applied([applied(11, 2n)]);
    await expect(later).resolves.toMatchObject({ index: 11 });
  });

  it("appending again at an index placed before loses the proposals from there on (the log was cut)", async () => {
    const waiters = new Waiters();
    const kept = waiters.addProposal(1n, FAR_MS);
    const cutA = waiters.addProposal(2n, FAR_MS);
    const cutB = waiters.addProposal(3n, FAR_MS);
    const again = waiters.addProposal(4n, FAR_MS);
    waiters.placed(1n, 10);
    waiters.placed(2n, 11);
    waiters.placed(3n, 12);
    waiters.placed(4n, 11);
    await expect(cutA).rejects.toThrow("etcdserver: leader changed");
    await expect(cutB).rejects.toThrow("etcdserver: leader changed");
    waiters.applied([applied(10, 1n), applied(11, 4n)]);
    await expect(kept).resolves.toMatchObject({ index: 10 });
    await expect(again).resolves.toMatchObject({ index: 11 });
    expect(waiters.proposalCount).toBe(0);
  });
});

describe("proposals forwarded to a leader that then changed", () => {
  const leaderChanged = new Error("etcdserver: leader changed");

  // A leader transfer hands the old leader's entries to the new one: failing them at the change made
  // etcd3, which retries UNAVAILABLE, apply a Lock's txn twice and find its own key.
  it("are answered when their entry applies under the new leader", async () => {
    const waiters = new Waiters();
    const answer = waiters.addProposal(1n, FAR_MS);
    waiters.forwarded(1n);
    waiters.leaderChanged(3);
    waiters.applied([applied(10, 1n)]);
    waiters.settle(3, () => leaderChanged);
    await expect(answer).resolves.toMatchObject({ index: 10, requestId: 1n });
  });

  it("fail with leader changed once an entry of the new term applies without them, not before", async () => {
    const waiters = new Waiters();
    const lost = waiters.addProposal(1n, FAR_MS);
    waiters.forwarded(1n);
    waiters.leaderChanged(3);
    // Entries of the old term still apply: the proposal may be among the next ones.
    waiters.applied([applied(9, 0n)]);
    waiters.settle(2, () => leaderChanged);
    expect(waiters.isWaiting(1n)).toBe(true);
    waiters.applied([applied(10, 0n)]);
    waiters.settle(3, () => leaderChanged);
    await expect(lost).rejects.toThrow("etcdserver: leader changed");
    expect(waiters.proposalCount).toBe(0);
  });

  it("leave alone what was forwarded to the new leader", async () => {
    const waiters = new Waiters();
    const old = waiters.addProposal(1n, FAR_MS);
    waiters.forwarded(1n);
    waiters.leaderChanged(3);
    const fresh = waiters.addProposal(2n, FAR_MS);
    waiters.forwarded(2n);
    waiters.settle(3, () => leaderChanged);
    await expect(old).rejects.toThrow("etcdserver: leader changed");
    expect(waiters.isWaiting(2n)).toBe(true);
    // A later change takes it along, with the older doubtful ones, to the later term.
    waiters.leaderChanged(4);
    waiters.settle(3, () => leaderChanged);
    expect(waiters.isWaiting(2n)).toBe(true);
    waiters.settle(4, () => leaderChanged);
    await expect(fresh).rejects.toThrow("etcdserver: leader changed");
  });
});
