// Quiescence of idle groups (quiescence.ts): when a group may go quiet, what wakes it, and that a
// quiet leader never serves a lease read on acknowledgements it collected before it went quiet.

import { describe, expect, it } from "vitest";
import { TestCluster } from "../test/support/cluster.js";

/** Three replicas, 1 leading, its first entry committed and applied everywhere, one heartbeat round acked. */
function idleCluster(): TestCluster {
  const c = new TestCluster([1, 2, 3]);
  c.elect(1);
  c.tickAll(1);
  return c;
}

describe("quiescence", () => {
  it("an idle leader whose followers hold everything goes quiet, and so do its followers", () => {
    const c = idleCluster();
    expect(c.node(1).raw.quiesce()).toBe(true);
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.raft(id).quiesced).toBe(true);
    // Nobody ticks, nobody sends: a thousand ticks later nothing has changed.
    const term = c.raft(1).term;
    c.tickAll(1_000);
    expect(c.queue).toEqual([]);
    expect(c.raft(1).role).toBe("leader");
    expect(c.raft(1).term).toBe(term);
  });

  it("followers do not answer the leader's last heartbeat, so nothing wakes the leader", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.processReady(1);
    const sent = c.queue.splice(0);
    expect(sent.map((m) => (m.type === "heartbeat" ? m.quiesce : undefined))).toEqual([true, true]);
    for (const m of sent) c.node(m.to).raw.step(m);
    c.processReady(2);
    c.processReady(3);
    expect(c.queue).toEqual([]);
  });

  it("a leader does not go quiet while a follower lacks an entry, a proposal is in flight, or a round is unanswered", () => {
    const c = idleCluster();
    c.cut.add("1>3");
    c.propose(1, "a");
    c.stabilize();
    expect(c.node(1).raw.quiesce()).toBe(false);
    c.heal();
    c.tickAll(1);
    expect(c.node(1).raw.quiesce()).toBe(true);

    const d = idleCluster();
    d.tick(1);
    // The round just sent has not been answered yet.
    expect(d.node(1).raw.quiesce()).toBe(false);
    d.stabilize();
    expect(d.node(1).raw.quiesce()).toBe(true);
  });

  it("a proposal wakes the group and commits as usual", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.stabilize();
    c.propose(1, "a");
    c.stabilize();
    expect(c.appliedTexts(2)).toEqual(["a"]);
    for (const id of [1, 2, 3]) expect(c.raft(id).quiesced).toBe(false);
  });

  it("a quiet leader answers a lease read only after a fresh heartbeat round (§6.4.1)", () => {
    const c = idleCluster();
    expect(c.raft(1).leaseReadable()).toBe(true);
    c.node(1).raw.quiesce();
    c.stabilize();
    expect(c.raft(1).leaseReadable()).toBe(false);
    c.node(1).raw.readIndex("r", true);
    // No answer yet: a round must go out and come back.
    expect(c.raft(1).readStates).toEqual([]);
    const rd = c.node(1).raw.ready();
    expect(rd.messages.filter((m) => m.type === "heartbeat" && m.quiesce !== true).map((m) => m.to)).toEqual([2, 3]);
    c.queue.push(...rd.messages);
    c.node(1).raw.advance();
    c.stabilize();
    expect(c.node(1).readStates.map((r) => r.context)).toEqual(["r"]);
    expect(c.raft(1).leaseReadable()).toBe(true);
  });

  it("a quiet leader cut off from its followers serves no lease read, however long it was quiet", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.stabilize();
    c.isolate(1);
    // Meanwhile the others elect a new leader.
    c.node(2).raw.wake();
    c.node(3).raw.wake();
    c.tick(2, 40);
    c.tick(3, 40);
    c.stabilize();
    c.tickAll(30);
    expect(c.leader()?.id).not.toBe(1);
    c.node(1).raw.readIndex("stale", true);
    c.tick(1, 3);
    c.stabilize();
    expect(c.node(1).readStates).toEqual([]);
  });

  it("a follower woken by a candidate wakes its leader, whose heartbeats keep the group's leader", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.stabilize();
    // Node 3 lost its link to node 1's node (the driver woke it) and campaigns; node 2 wakes on its
    // pre-vote and wakes node 1, whose heartbeats resume before node 2 would grant a vote.
    c.cut.add("1>3").add("3>1");
    const term = c.raft(1).term;
    c.node(3).raw.wake();
    c.tickAll(60);
    expect(c.raft(1).role).toBe("leader");
    expect(c.raft(1).term).toBe(term);
    expect(c.raft(2).lead).toBe(1);
  });

  it("followers woken because the leader's node died elect a new leader", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.stabilize();
    c.isolate(1);
    c.node(2).raw.wake();
    c.node(3).raw.wake();
    for (let i = 0; i < 60; i++) {
      c.tick(2);
      c.tick(3);
      c.stabilize();
    }
    const leader = c.leader();
    expect([2, 3]).toContain(leader?.id);
    expect(leader?.raft.term).toBeGreaterThan(c.raft(1).term);
  });

  it("a woken leader steps down within an election timeout if no quorum answers (CheckQuorum)", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.stabilize();
    c.isolate(1);
    c.node(1).raw.readIndex("r", false);
    c.tick(1, c.raft(1).config.electionTicks);
    expect(c.raft(1).role).toBe("follower");
  });

  it("a follower whose log does not end at the leader's commit index answers instead, which wakes the leader", () => {
    const c = idleCluster();
    c.node(1).raw.quiesce();
    c.processReady(1);
    const [toTwo, toThree] = c.queue.splice(0);
    if (toThree?.type !== "heartbeat") throw new Error("expected the quiesce heartbeat");
    c.node(2).raw.step(toTwo!);
    // As if the leader's log were one entry shorter than node 3's.
    c.node(3).raw.step({ ...toThree, commit: toThree.commit - 1 });
    expect(c.raft(3).quiesced).toBe(false);
    c.stabilize();
    expect(c.raft(1).quiesced).toBe(false);
  });
});
