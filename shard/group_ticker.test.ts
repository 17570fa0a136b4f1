// The store's side of quiescence (group_ticker.ts) on three real stores: idle groups go quiet and
// stay quiet, a write wakes them, and a quiet follower whose leader's node fell silent wakes and
// takes part in electing a new leader.

import { MemoryLevel } from "memory-level";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeId } from "../raft/index.js";
import { LocalNet } from "../test/support/local_net.js";
import { Store } from "./store.js";
import { MemoryFiles } from "./wal/memory_files.js";
import { Wal } from "./wal/wal.js";

const opened: Store[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Three stores with `groups` groups of three replicas; a cut or closed node is silent to the others. */
async function cluster(groups: number): Promise<{ net: LocalNet; stores: Map<NodeId, Store> }> {
  const net = new LocalNet();
  const stores = new Map<NodeId, Store>();
  for (const id of [1, 2, 3]) {
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
    const base = net.transportFor(id);
    const transport = {
      send: base.send,
      silentMs: (node: NodeId) => (net.cut.has(node) || net.cut.has(id) || !net.stores.has(node) ? Number.POSITIVE_INFINITY : 0),
    };
    const store = await Store.open({ nodeId: id, db, wal, transport, tickMs: 5, quiesce: { idleTicks: 4, peerSilenceTicksMax: 3 } });
    net.stores.set(id, store);
    stores.set(id, store);
    opened.push(store);
  }
  for (let group = 1; group <= groups; group++) for (const store of stores.values()) await store.createGroup(group, [1, 2, 3]);
  return { net, stores };
}

const quiet = (store: Store, group: number): boolean => store.replica(group).raw.quiesced;
const leaderOf = (stores: Map<NodeId, Store>, group: number): NodeId | undefined => [...stores].find(([, s]) => s.replica(group).isLeader)?.[0];

describe("the group ticker", () => {
  it("lets idle groups go quiet on every replica, and a write wakes its group", async () => {
    const { stores } = await cluster(4);
    await until("every replica of every group is quiet", () => [...stores.values()].every((s) => [1, 2, 3, 4].every((g) => quiet(s, g))));
    const term = stores.get(1)!.replica(2).raw.raft.term;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([...stores.values()].every((s) => quiet(s, 2) && s.replica(2).raw.raft.term === term)).toBe(true);

    const result = await stores.get(1)!.propose(2, { op: "put", put: { key: Buffer.from("k"), value: Buffer.from("v") } });
    expect(result.ok).toBe(true);
    const state = await stores.get(3)!.readState(2, "linearizable");
    expect(state.getSync(Buffer.from("k"), Date.now())?.value.toString()).toBe("v");
    // Group 1 stayed quiet meanwhile, and group 2 goes quiet again.
    expect(quiet(stores.get(1)!, 1)).toBe(true);
    await until("group 2 is quiet again", () => [...stores.values()].every((s) => quiet(s, 2)));
  });

  it("wakes quiet followers whose leader's node fell silent, and they elect another leader", async () => {
    const { net, stores } = await cluster(2);
    await until("both groups are quiet", () => [...stores.values()].every((s) => quiet(s, 1) && quiet(s, 2)));
    const leader = leaderOf(stores, 1)!;
    net.cut.add(leader);
    const others = [1, 2, 3].filter((id) => id !== leader);
    await until("another node leads group 1", () => others.some((id) => stores.get(id)!.replica(1).isLeader));
    const result = await stores.get(others[0]!)!.propose(1, { op: "put", put: { key: Buffer.from("after"), value: Buffer.from("failover") } });
    expect(result.ok).toBe(true);
  });
});
