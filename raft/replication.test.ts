// Log replication and commitment (Raft §3.5, §3.6, §5.4.2), snapshots and the persistence rule.

import { describe, expect, it } from "vitest";
import { TestCluster } from "../test/support/cluster.js";
import { CommitsEarlierTerms } from "../test/sim/broken_variants.js";
import type { MsgApp, Raft, RaftOptions } from "./index.js";

describe("replication", () => {
  it("a proposal on the leader is replicated, committed and applied on every replica", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.propose(1, "a");
    c.propose(1, "b");
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.appliedTexts(id)).toEqual(["a", "b"]);
  });

  it("proposals of one turn go out as one append per follower", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    for (let i = 0; i < 10; i++) c.propose(1, `p${i}`);
    const rd = c.node(1).raw.ready();
    const appends = rd.messages.filter((m): m is MsgApp => m.type === "app" && m.entries.length > 0);
    expect(appends.map((m) => [m.to, m.entries.length])).toEqual([
      [2, 10],
      [3, 10],
    ]);
  });

  it("the leader's own copy counts only after it is persisted (etcd #14370)", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.held.add(1); // the leader's disk is stuck
    c.propose(1, "x");
    const rd = c.node(1).raw.ready();
    c.queue.push(...rd.messages);
    c.stabilize(); // node 2 persists and acknowledges
    const index = rd.entries[rd.entries.length - 1]!.index;
    expect(c.raft(1).progress.get(2)!.match).toBe(index);
    expect(c.raft(1).log.committed).toBeLessThan(index);
    c.node(1).storage.append(rd.entries);
    c.node(1).raw.advance();
    expect(c.raft(1).log.committed).toBe(index);
  });

  /** Node 1 leads term 3 with an entry of term 2 that only it had; its messages no longer arrive. */
  function figure8(make?: (options: RaftOptions) => Raft): { leader: Raft; oldIndex: number; ack: (index: number) => void } {
    const c = new TestCluster([1, 2, 3], make === undefined ? { preVote: false } : { preVote: false, make });
    c.elect(1);
    c.isolate(1);
    c.propose(1, "old");
    c.stabilize(); // "old" (term 2) is only on node 1
    const oldIndex = c.raft(1).log.lastIndex();
    c.heal();
    c.isolate(3);
    c.raft(1).becomeFollower(2, 0);
    c.electCutOff(1);
    const leader = c.raft(1);
    expect(leader.term).toBe(3);
    expect(leader.log.term(oldIndex)).toBe(2);
    expect(leader.log.term(oldIndex + 1)).toBe(3);
    const ack = (index: number): void =>
      leader.step({ type: "appResp", from: 2, to: 1, term: 3, index, reject: false, rejectHint: 0, logTerm: 0 });
    return { leader, oldIndex, ack };
  }

  it("a leader commits an entry of an earlier term only together with one of its own (Figure 8)", () => {
    const { leader, oldIndex, ack } = figure8();
    // A majority holds the old entry, but counting replicas commits only entries of the current term.
    ack(oldIndex);
    expect(leader.log.committed).toBeLessThan(oldIndex);
    ack(oldIndex + 1);
    expect(leader.log.committed).toBe(oldIndex + 1);
  });

  it("the same story catches a leader that commits earlier terms by counting", () => {
    const { leader, oldIndex, ack } = figure8((options) => new CommitsEarlierTerms(options));
    ack(oldIndex);
    expect(leader.log.committed).toBe(oldIndex);
  });

  it("a follower with a conflicting suffix is repaired, skipping a whole term per round trip", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(1);
    for (let i = 0; i < 20; i++) c.propose(1, `lost${i}`);
    c.stabilize();
    c.heal();
    c.isolate(1);
    c.tickAll(30);
    const leader = c.leader()!;
    expect(leader.id).not.toBe(1);
    c.propose(leader.id, "kept");
    // Count the appends node 1 receives until it is back in line: one per conflicting term, not per entry.
    let appends = 0;
    const raw = c.node(1).raw;
    const step = raw.step.bind(raw);
    raw.step = (m) => {
      if (m.type === "app") appends++;
      step(m);
    };
    c.heal();
    c.tickAll(3);
    expect(c.appliedTexts(1)).toEqual(["kept"]);
    expect(c.raft(1).log.lastTerm()).toBe(leader.raft.term);
    expect(appends).toBeLessThan(8);
  });

  it("a follower that needs compacted entries receives a snapshot", () => {
    const c = new TestCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 10; i++) c.propose(1, `e${i}`);
    c.stabilize();
    const leader = c.node(1);
    const applied = leader.raft.log.applied;
    leader.storage.createSnapshot(applied, leader.raw.confStateAt(applied), new TextEncoder().encode("state"));
    leader.storage.compact(applied);
    c.heal();
    c.tickAll(2);
    expect(c.node(3).storage.snapshot().meta.index).toBe(applied);
    expect(c.raft(3).log.committed).toBe(applied);
    // The follower's answer to the snapshot moved it back to pipelined replication.
    expect(c.raft(1).progress.get(3)!.state).toBe("replicate");
    c.propose(1, "after");
    c.tickAll(2);
    expect(c.appliedTexts(3)).toEqual(["after"]);
  });
});
