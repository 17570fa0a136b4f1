// What happens to a proposal, wherever it lands: the rules of ProposeResult, one story each.

import { describe, expect, it } from "vitest";
import { TestCluster } from "../test/support/cluster.js";

describe("proposals", () => {
  it("on the leader, is appended at the next index of its term", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    const last = c.raft(1).log.lastIndex();
    expect(c.propose(1, "x")).toEqual({ kind: "appended", firstIndex: last + 1, lastIndex: last + 1, term: 2 });
  });

  it("on a follower, is forwarded to the leader and applies everywhere", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    expect(c.propose(3, "via follower")).toEqual({ kind: "forwarded", to: 1 });
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.appliedTexts(id)).toEqual(["via follower"]);
  });

  it("forwarded, passes through the leader's stampForwarded before it is appended; the leader's own does not", () => {
    const stamp = (data: Uint8Array): Uint8Array => Buffer.concat([data, Buffer.from(" (stamped)")]);
    const c = new TestCluster([1, 2, 3], { stampForwarded: stamp });
    c.elect(1);
    expect(c.propose(3, "via follower").kind).toBe("forwarded");
    c.stabilize();
    expect(c.propose(1, "on the leader").kind).toBe("appended");
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.appliedTexts(id)).toEqual(["via follower (stamped)", "on the leader"]);
  });

  it("on a follower with forwarding off, is refused and names the leader", () => {
    const c = new TestCluster([1, 2, 3], { forwardProposals: false });
    c.elect(1);
    const result = c.propose(2, "x");
    expect(result).toMatchObject({ kind: "dropped", reason: "notLeader" });
    expect(result.kind === "dropped" && result.message).toContain("leader, 1");
  });

  it("without a known leader, or during an election, is dropped at once", () => {
    const c = new TestCluster([1, 2, 3]);
    expect(c.propose(1, "x")).toMatchObject({ kind: "dropped", reason: "noLeader" });
    for (const n of c.nodes.values()) n.raft.leaderContactElapsed = 100;
    c.node(1).raw.campaign();
    expect(c.propose(1, "x")).toMatchObject({ kind: "dropped", reason: "noLeader" });
  });

  it("during a leadership transfer, is dropped so that the client retries with the new leader", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.cut.add("1>3");
    c.node(1).raw.transferLeader(3);
    expect(c.propose(1, "x")).toMatchObject({ kind: "dropped", reason: "transferring" });
  });

  it("a forwarded proposal that reaches a replica that is no longer leader is dropped silently", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.raft(2).step({ type: "prop", from: 3, to: 2, term: 0, entries: [{ type: "normal", data: new Uint8Array([1]) }] });
    expect(c.raft(2).msgs).toEqual([]);
    expect(c.raft(2).log.lastIndex()).toBe(c.raft(1).log.lastIndex());
  });

  it("past the uncommitted byte limit, is refused until earlier entries apply", () => {
    const c = new TestCluster([1, 2, 3], { uncommittedBytesMax: 250 });
    c.elect(1);
    c.isolate(1);
    expect(c.propose(1, "a".repeat(200)).kind).toBe("appended");
    expect(c.propose(1, "b".repeat(100))).toMatchObject({ kind: "dropped", reason: "uncommittedLimit" });
    c.heal();
    c.tickAll(2);
    expect(c.propose(1, "b".repeat(100)).kind).toBe("appended");
  });
});

describe("leadership transfer", () => {
  it("the transferee campaigns at once and wins, even while followers hear the old leader", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, "x");
    c.stabilize();
    c.node(1).raw.transferLeader(3);
    c.stabilize();
    expect(c.raft(3).role).toBe("leader");
    expect(c.raft(1).role).toBe("follower");
    expect(c.raft(1).lead).toBe(3);
  });

  it("first brings a lagging transferee up to date", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.propose(1, "x");
    c.stabilize();
    c.heal();
    c.node(1).raw.transferLeader(3);
    c.stabilize();
    expect(c.raft(3).role).toBe("leader");
    expect(c.appliedTexts(3)).toEqual(["x"]);
  });

  it("is abandoned after an election timeout if the transferee never catches up", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.node(1).raw.transferLeader(3);
    expect(c.raft(1).leadTransferee).toBe(3);
    c.tickAll(10);
    expect(c.raft(1).leadTransferee).toBe(0);
    expect(c.propose(1, "x").kind).toBe("appended");
  });
});
