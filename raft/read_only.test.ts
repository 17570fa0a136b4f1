// Linearizable reads without log entries (Raft thesis §6.4): ReadIndex and the leader lease.

import { describe, expect, it } from "vitest";
import { TestCluster } from "../test/support/cluster.js";

describe("ReadIndex", () => {
  it("a new leader answers reads only after committing an entry of its term", () => {
    const c = new TestCluster([1, 2, 3], { preVote: false });
    c.elect(2);
    c.propose(2, "a");
    c.stabilize();
    c.electCutOff(1);
    const raft1 = c.raft(1);
    expect(raft1.committedEntryInCurrentTerm()).toBe(false);
    expect(c.node(1).raw.readIndex("r1", false).kind).toBe("accepted");
    expect(c.node(1).raw.readIndex("r2", true).kind).toBe("accepted");
    c.tick(1, 3);
    c.stabilize();
    expect(c.node(1).readStates).toEqual([]);
    c.heal();
    c.tickAll(2);
    expect(c.node(1).readStates.map((r) => r.context).sort()).toEqual(["r1", "r2"]);
    // The index covers everything committed before the reads arrived, "a" included.
    for (const rs of c.node(1).readStates) expect(rs.index).toBeGreaterThanOrEqual(raft1.log.committed);
  });

  it("a leader confirms a read with one heartbeat round before answering", () => {
    const c = new TestCluster([1, 2, 3], { leaseReads: false });
    c.elect(1);
    c.node(1).raw.readIndex("r", true);
    expect(c.raft(1).readStates).toEqual([]);
    const rd = c.node(1).raw.ready();
    expect(rd.messages.filter((m) => m.type === "heartbeat").map((m) => m.to)).toEqual([2, 3]);
    c.queue.push(...rd.messages);
    c.node(1).raw.advance();
    c.stabilize();
    expect(c.node(1).readStates.map((r) => r.context)).toEqual(["r"]);
  });

  it("reads asked in one turn share one heartbeat round", () => {
    const c = new TestCluster([1, 2, 3], { leaseReads: false });
    c.elect(1);
    for (let i = 0; i < 5; i++) c.node(1).raw.readIndex(`r${i}`, false);
    const rd = c.node(1).raw.ready();
    expect(rd.messages.filter((m) => m.type === "heartbeat")).toHaveLength(2);
  });

  it("a leader cut off from its followers never answers a ReadIndex read", () => {
    const c = new TestCluster([1, 2, 3], { leaseReads: false });
    c.elect(1);
    c.isolate(1);
    c.node(1).raw.readIndex("r", false);
    c.tick(1, 5);
    c.stabilize();
    expect(c.node(1).readStates).toEqual([]);
  });

  it("a follower's read is forwarded to the leader and answered with an index to wait for", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, "a");
    c.stabilize();
    expect(c.node(2).raw.readIndex("f", false).kind).toBe("accepted");
    c.stabilize();
    expect(c.node(2).readStates).toEqual([{ context: "f", index: c.raft(1).log.committed }]);
  });

  it("a read with no known leader is dropped at once", () => {
    const c = new TestCluster([1, 2, 3]);
    expect(c.node(2).raw.readIndex("x", false)).toMatchObject({ kind: "dropped", reason: "noLeader" });
  });
});

describe("the leader lease", () => {
  it("answers at once while a quorum acknowledged a round sent within the lease", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.tickAll(1);
    c.node(1).raw.readIndex("l", true);
    expect(c.raft(1).readStates.map((r) => r.context)).toEqual(["l"]);
  });

  it("runs out clockDriftTicks before the followers' election timeout", () => {
    const c = new TestCluster([1, 2, 3], { electionTicks: 10, clockDriftTicks: 2 });
    c.elect(1);
    c.tickAll(1);
    c.isolate(1);
    const r = c.raft(1);
    for (let t = 1; t <= 10; t++) {
      c.tick(1);
      c.stabilize();
      // The last acknowledged round went out at tick 1: the lease lasts 10 - 2 = 8 ticks from then.
      expect(r.leaseReadable()).toBe(1 + t < 1 + 8);
    }
  });

  it("is void after the leader sends TimeoutNow", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.tickAll(1);
    expect(c.raft(1).leaseReadable()).toBe(true);
    c.cut.add("1>2");
    c.node(1).raw.transferLeader(2);
    expect(c.raft(1).leaseRevoked).toBe(true);
    expect(c.raft(1).leaseReadable()).toBe(false);
  });

  it("needs fresh acknowledgements after a membership change", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.tickAll(1);
    expect(c.node(1).raw.proposeConfChange({ type: "addLearner", nodeId: 4 }).kind).toBe("appended");
    expect(c.raft(1).leaseReadable()).toBe(false);
    c.tickAll(1);
    expect(c.raft(1).leaseReadable()).toBe(true);
  });
});
