// The two store rules the fault runs found missing (README.md, "What the first runs found"), as stories
// on three stores in one process (LocalNet), so that they fail fast if either is undone:
// - the store delivers every tick due by its clock before it asks for a read index, so a leader whose
//   event loop was frozen sees its lease run out (the timer alone fires once after a freeze);
// - housekeeping decided by a leader (a lease expired on its clock) is never proposed once that
//   leader's term is over: a follower would forward it to the new leader (etcd-io/etcd#15247).

import { MemoryLevel } from "memory-level";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeId } from "../../raft/index.js";
import type { LevelDb } from "../../shard/keyspace.js";
import { Store } from "../../shard/store.js";
import { MemoryFiles } from "../../shard/wal/memory_files.js";
import { Wal } from "../../shard/wal/wal.js";
import { LocalNet } from "../support/local_net.js";

const GROUP = 3;
const TICK_MS = 10;
const opened: Store[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function started(): Promise<{ stores: Store[]; leader: Store; follower: Store }> {
  const net = new LocalNet();
  const stores: Store[] = [];
  for (const nodeId of [1, 2, 3] as NodeId[]) {
    const db: LevelDb = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
    // No quiescence: an idle leader would stop counting ticks, which is what the first story counts.
    const store = await Store.open({ nodeId, db, wal, transport: net.transportFor(nodeId), tickMs: TICK_MS, quiesce: { idleTicks: 0 } });
    net.stores.set(nodeId, store);
    opened.push(store);
    stores.push(store);
  }
  await Promise.all(stores.map((s) => s.createGroup(GROUP, [1, 2, 3])));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const leader = stores.find((s) => s.replica(GROUP).isLeader);
    const lead = leader?.replica(GROUP).raw.raft.lead;
    if (leader !== undefined && stores.every((s) => s.replica(GROUP).raw.raft.lead === lead)) {
      return { stores, leader, follower: stores.find((s) => s !== leader)! };
    }
    if (Date.now() > deadline) throw new Error("no leader within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Blocks the event loop, as SIGSTOP or a long GC pause would. */
function freeze(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // nothing runs meanwhile: no timer, no message, no turn
  }
}

describe("a store whose event loop froze", () => {
  it("delivers every tick it missed at its next turn, before any read index is asked", async () => {
    const { leader } = await started();
    const raft = leader.replica(GROUP).raw.raft;
    const before = raft.ticks;
    freeze(30 * TICK_MS);
    leader.schedule();
    await new Promise((resolve) => setImmediate(resolve));
    // One timer firing would give 1 or 2; the leader's lease (8 ticks) must be seen to have run out.
    expect(raft.ticks - before).toBeGreaterThanOrEqual(25);
  });
});

describe("housekeeping decided by a leader", () => {
  it("is never proposed by a replica that no longer leads in the term it was decided in", async () => {
    const { leader, follower } = await started();
    const granted = await leader.leaseGrant(GROUP, 60);
    if (!granted.ok || !("id" in granted.response)) throw new Error("the grant failed");
    const id = granted.response.id;
    // As a deposed leader that woke up and found the lease expired on its own clock: the revoke carries
    // the term it was decided in, and this replica does not lead that term.
    const term = follower.replica(GROUP).raw.raft.term;
    await expect(follower.propose(GROUP, { op: "leaseRevoke", id }, term)).rejects.toThrow(/leader changed/);
    await new Promise((resolve) => setTimeout(resolve, 20 * TICK_MS));
    expect(leader.replica(GROUP).state.leases().some((lease) => lease.id === id)).toBe(true);
    // A client's revoke through the same follower is forwarded to the leader as before.
    const revoked = await follower.propose(GROUP, { op: "leaseRevoke", id });
    expect(revoked.ok).toBe(true);
    expect(leader.replica(GROUP).state.leases().some((lease) => lease.id === id)).toBe(false);
  });
});
