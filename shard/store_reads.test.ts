// Linearizable reads across changes of leader, on three stores wired by LocalNet. Raft drops a
// ReadIndex request that meets a change of leader (or a lost message) without a word; the store must
// ask again within the read's deadline, as etcd's linearizableReadLoop does, and never answer with a
// state that misses a write acknowledged before the read was asked.

import { MemoryLevel } from "memory-level";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeId } from "../raft/index.js";
import { LocalNet } from "../test/support/local_net.js";
import type { LevelDb } from "./keyspace.js";
import { Store, type StoreOptions } from "./store.js";
import { MemoryFiles } from "./wal/memory_files.js";
import { Wal } from "./wal/wal.js";

const GROUP = 9;
const bytes = (s: string): Uint8Array => Buffer.from(s);
const opened: Store[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function cluster(extra: Partial<StoreOptions> = {}): Promise<{ net: LocalNet; stores: Store[] }> {
  const net = new LocalNet();
  const stores: Store[] = [];
  for (const nodeId of [1, 2, 3] as NodeId[]) {
    const db: LevelDb = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
    const store = await Store.open({ nodeId, db, wal, transport: net.transportFor(nodeId), tickMs: 5, ...extra });
    net.stores.set(nodeId, store);
    opened.push(store);
    stores.push(store);
  }
  return { net, stores };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Settles as `promise` does, or fails if that takes longer than `ms` (the read hung). */
async function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const leaderOf = (stores: readonly Store[]): Store | undefined => stores.find((s) => s.replica(GROUP).isLeader);
const idOf = (store: Store): NodeId => store.replica(GROUP).nodeId;

async function started(extra: Partial<StoreOptions> = {}) {
  const { net, stores } = await cluster(extra);
  await Promise.all(stores.map((s) => s.createGroup(GROUP, [1, 2, 3])));
  await until("a leader", () => leaderOf(stores) !== undefined);
  const leader = leaderOf(stores)!;
  await until("every replica knows the leader", () => stores.every((s) => s.replica(GROUP).raw.raft.lead === idOf(leader)));
  return { net, stores, leader };
}

async function put(store: Store, key: string, value: string): Promise<number> {
  const result = await store.propose(GROUP, { op: "put", put: { key: bytes(key), value: bytes(value) } });
  if (!result.ok) throw result.error;
  return result.revision;
}

describe("a linearizable read and a change of leader", () => {
  it("waits for a leader when none is known yet, instead of failing with \"no leader\"", async () => {
    const { stores } = await cluster({ requestTimeoutMs: 60_000 });
    await Promise.all(stores.map((s) => s.createGroup(GROUP, [1, 2, 3])));
    const store = stores[0]!;
    expect(store.replica(GROUP).raw.raft.lead).toBe(0);
    const state = await within("the read", store.readState(GROUP, "linearizable"), 5_000);
    // It was answered by a leader of a term that committed an entry: the state has that entry.
    expect(state.applied.index).toBeGreaterThan(3);
  });

  it("asks again when a follower's forwarded ReadIndex is lost, instead of waiting for its deadline", async () => {
    const { net, stores, leader } = await started({ requestTimeoutMs: 60_000 });
    const follower = stores.find((s) => s !== leader)!;
    const revision = await put(follower, "k", "v");
    let lost = 0;
    net.lose = (from, _to, message) => message.type === "readIndex" && from === idOf(follower) && lost++ === 0;
    const state = await within("the follower's read", follower.readState(GROUP, "linearizable"), 3_000);
    expect(lost).toBeGreaterThanOrEqual(1);
    expect(state.getSync(bytes("k"), Date.now())?.modRevision).toBe(revision);
  });

  it("is answered by the new leader when the leader it asked hands leadership over before confirming it", async () => {
    const { net, stores, leader } = await started({ requestTimeoutMs: 60_000 });
    const [other, target] = stores.filter((s) => s !== leader) as [Store, Store];
    const revision = await put(other, "k", "v");
    await until("the target caught up", () => target.replica(GROUP).state.applied.index >= leader.replica(GROUP).state.applied.index);
    // The old leader can confirm no heartbeat round with `other`, and `target` campaigns at once: the
    // old leader's pending read meets the change of leader unconfirmed, and Raft drops it.
    net.lose = (from, to, message) => message.type === "heartbeatResp" && from === idOf(other) && to === idOf(leader);
    const read = leader.readState(GROUP, "linearizable");
    leader.transferLeader(GROUP, idOf(target));
    const state = await within("the old leader's read", read, 3_000);
    expect(target.replica(GROUP).isLeader).toBe(true);
    expect(state.getSync(bytes("k"), Date.now())?.modRevision).toBe(revision);
  });

  it("is asked again when its leader is cut off and replaced, once the old leader hears of the new one", async () => {
    // Without the lease, so that the cut-off leader cannot answer the read from it at once.
    const { net, stores, leader } = await started({ requestTimeoutMs: 60_000, raft: { leaseReads: false } });
    const others = stores.filter((s) => s !== leader);
    net.cut.add(idOf(leader));
    const read = leader.readState(GROUP, "linearizable");
    await until("a new leader", () => leaderOf(others) !== undefined);
    const revision = await put(others[0]!, "k", "after the cut");
    net.cut.clear();
    const state = await within("the cut-off leader's read", read, 3_000);
    expect(state.getSync(bytes("k"), Date.now())?.modRevision).toBe(revision);
  });
});

describe("linearizable reads while leadership moves back and forth", () => {
  it("include every write acknowledged before they were asked, and none hangs while a leader exists", { timeout: 30_000 }, async () => {
    const { net, stores } = await started({ requestTimeoutMs: 20_000 });
    /** Per key, the revision of the newest acknowledged write. */
    const acked = new Map<string, number>();
    const violations: string[] = [];
    const slow: string[] = [];
    let stopping = false;

    const writer = async (store: Store, key: string) => {
      for (let i = 0; !stopping; i++) {
        try {
          const revision = await put(store, key, String(i));
          acked.set(key, Math.max(acked.get(key) ?? 0, revision));
        } catch {
          // A forwarded write may fail with "leader changed" or time out; only acknowledged ones count.
        }
      }
    };
    const reader = async (store: Store) => {
      while (!stopping) {
        const expected = new Map(acked);
        const askedMs = Date.now();
        let state;
        try {
          state = await store.readState(GROUP, "linearizable");
        } catch (error) {
          // With a 20 s deadline, a failed read hung to it, or gave up on a leader that came back.
          slow.push(`node ${idOf(store)}: a read failed after ${Date.now() - askedMs} ms: ${String(error)}`);
          continue;
        }
        const tookMs = Date.now() - askedMs;
        if (tookMs > 2_000) slow.push(`node ${idOf(store)}: a read took ${tookMs} ms`);
        for (const [key, revision] of expected) {
          const seen = state.getSync(bytes(key), Date.now())?.modRevision ?? 0;
          if (seen < revision) violations.push(`node ${idOf(store)} read ${key} at revision ${seen}, older than the acknowledged ${revision}`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const work = [...stores.map((s, i) => writer(s, `key${i}`)), ...stores.map(reader), ...stores.map(reader)];

    for (let round = 0; round < 12; round++) {
      await until("a leader", () => leaderOf(stores) !== undefined);
      const leader = leaderOf(stores)!;
      if (round % 4 === 3) {
        // Cut the leader off until another is elected, then let it back in.
        net.cut.add(idOf(leader));
        await until("a new leader", () => leaderOf(stores.filter((s) => s !== leader)) !== undefined);
        await new Promise((resolve) => setTimeout(resolve, 30));
        net.cut.clear();
      } else {
        const next = stores[(stores.indexOf(leader) + 1 + (round % 2)) % 3]!;
        leader.transferLeader(GROUP, idOf(next));
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    }
    stopping = true;
    await within("the readers and writers", Promise.all(work), 10_000);
    expect(violations).toEqual([]);
    expect(slow).toEqual([]);
    const final = leaderOf(stores) ?? stores[0]!;
    await within("a read on the final leader", final.readState(GROUP, "linearizable"), 3_000);
  });
});
