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
