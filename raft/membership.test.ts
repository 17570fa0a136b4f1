// Single-server membership changes (thesis §4.1), learners (§4.2.1) and removing the leader (§4.2.2).

import { describe, expect, it } from "vitest";
import { ChangesConfigBeforeTermCommit } from "../test/sim/broken_variants.js";
import { TestCluster } from "../test/support/cluster.js";

describe("membership", () => {
  it("a learner receives the log but neither votes nor counts towards commitment", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.addNode(4, undefined);
    expect(c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 4 }).kind).toBe("appended");
    c.tickAll(3);
    c.propose(1, "x");
    c.stabilize();
    expect(c.appliedTexts(4)).toEqual(["x"]);
    expect(c.raft(4).currentConfiguration()).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(c.raft(4).promotable()).toBe(false);
    // With two voters cut off, the learner's ack does not make a majority.
    c.isolate(2);
    c.isolate(3);
    c.cut.delete("4>1");
    c.cut.delete("1>4");
    c.propose(1, "y");
    c.stabilize();
    expect(c.appliedTexts(1)).toEqual(["x"]);
  });

  it("a promoted learner votes and counts", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.addNode(4, undefined);
    c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 4 });
    c.tickAll(3);
    expect(c.node(1).raw.proposeConfChange({ type: "addVoter", nodeId: 4 }).kind).toBe("appended");
    c.tickAll(2);
    expect(c.raft(4).currentConfiguration()).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    expect(c.raft(4).promotable()).toBe(true);
  });

  it("a change waits until the leader has committed an entry of its term", () => {
    const c = new TestCluster([1, 2, 3], { preVote: false });
    c.elect(2);
    c.electCutOff(1);
    const refused = c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 9 });
    expect(refused).toMatchObject({ kind: "dropped", reason: "confChangePending" });
    expect(refused.kind === "dropped" && refused.message).toMatch(/has not committed an entry of its term/);
    c.heal();
    c.tickAll(2);
    expect(c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 9 }).kind).toBe("appended");
  });

  it("the same story catches a leader that changes configuration before its first commit", () => {
    const c = new TestCluster([1, 2, 3], { preVote: false, make: (options) => new ChangesConfigBeforeTermCommit(options) });
    c.elect(2);
    c.electCutOff(1);
    expect(c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 9 }).kind).toBe("appended");
  });

  it("only one change is in flight at a time", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(1);
    expect(c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 4 }).kind).toBe("appended");
    const second = c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 5 });
    expect(second).toMatchObject({ kind: "dropped", reason: "confChangePending" });
    expect(second.kind === "dropped" && second.message).toMatch(/not committed yet/);
  });

  it("invalid changes are refused with a reason", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(1).raw.proposeConfChange({ type: "addVoter", nodeId: 2 })).toMatchObject({ kind: "dropped", reason: "invalidConfChange", message: "node 2 is already a voter" });
    expect(c.node(1).raw.proposeConfChange({ type: "removeNode", nodeId: 7 })).toMatchObject({ message: "node 7 is not a member" });
    expect(c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 3 })).toMatchObject({ reason: "invalidConfChange" });
  });

  it("a leader that removes itself steps down once the removal commits, and the rest elect a leader", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(1).raw.proposeConfChange({ type: "removeNode", nodeId: 1 }).kind).toBe("appended");
    c.stabilize();
    expect(c.raft(1).role).toBe("follower");
    expect(c.raft(1).promotable()).toBe(false);
    c.tickAll(30);
    const leader = c.leader()!;
    expect([2, 3]).toContain(leader.id);
    expect(leader.raft.currentConfiguration().voters).toEqual([2, 3]);
    c.propose(leader.id, "after");
    c.stabilize();
    expect(c.appliedTexts(2)).toEqual(["after"]);
  });

  it("a follower falls back to the previous configuration when an uncommitted change is cut from its log", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(1);
    c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 4 });
    c.stabilize();
    expect(c.raft(1).currentConfiguration().learners).toEqual([4]);
    c.tickAll(30);
    c.heal();
    c.tickAll(3);
    expect(c.raft(1).role).toBe("follower");
    expect(c.raft(1).currentConfiguration()).toEqual({ voters: [1, 2, 3], learners: [] });
  });

  it("a replica that restarts rebuilds its membership from the log", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 4 });
    c.stabilize();
    c.node(2).restart();
    expect(c.raft(2).currentConfiguration()).toEqual({ voters: [1, 2, 3], learners: [4] });
  });
});
