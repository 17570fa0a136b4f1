import { MemoryLevel } from "memory-level";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeId } from "../raft/index.js";
import { LocalNet } from "../test/support/local_net.js";
import type { LevelDb } from "./keyspace.js";
import type { KeyValue } from "./mvcc/index.js";
import { APPLY_CHUNK_ENTRIES } from "./replica.js";
import { Store, type StoreOptions } from "./store.js";
import { StoreError } from "./store_error.js";
import { MemoryFiles } from "./wal/memory_files.js";
import { Wal } from "./wal/wal.js";

const bytes = (s: string): Uint8Array => Buffer.from(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString());

/** One node's disks: a LevelDB that survives the process (as LevelDB survives kill -9) and a WAL whose unsynced bytes a crash drops. */
class Disk {
  db: LevelDb = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  files = new MemoryFiles();
  wal: Wal | undefined;
}

const opened: Store[] = [];

async function openStore(nodeId: NodeId, disk: Disk, extra: Partial<StoreOptions> = {}, net?: LocalNet): Promise<Store> {
  await disk.db.open();
  disk.wal = await Wal.open({ dir: "/wal", files: disk.files });
  const store = await Store.open({
    nodeId,
    db: disk.db,
    wal: disk.wal,
    transport: net?.transportFor(nodeId) ?? { send: () => undefined },
    tickMs: 5,
    ...extra,
  });
  net?.stores.set(nodeId, store);
  opened.push(store);
  return store;
}

async function crash(store: Store, disk: Disk): Promise<void> {
  await store.close();
  disk.files = disk.files.crash();
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function put(store: Store, group: number, key: string, value: string) {
  const result = await store.propose(group, { op: "put", put: { key: bytes(key), value: bytes(value) } });
  if (!result.ok) throw result.error;
  return result;
}

async function get(store: Store, group: number, key: string): Promise<KeyValue | undefined> {
  const state = await store.readState(group, "linearizable");
  return state.getSync(bytes(key), Date.now());
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

describe("a node's store", () => {
  it("elects a single-replica shard's leader, applies puts in revision order and serves linearizable reads", async () => {
    const disk = new Disk();
    const store = await openStore(1, disk);
    await store.createGroup(1, [1]);
    await until("node 1 leads shard 1", () => store.replica(1).isLeader);
    const first = await put(store, 1, "a", "1");
    const second = await put(store, 1, "a", "2");
    expect(second.revision).toBeGreaterThan(first.revision);
    const kv = await get(store, 1, "a");
    expect(text(kv?.value)).toBe("2");
    expect(kv).toMatchObject({ version: 2, createRevision: first.revision, modRevision: second.revision });
  });

  it("sends a client's next proposal to the log while the rest of a large batch still applies", async () => {
    const disk = new Disk();
    const store = await openStore(1, disk);
    await store.createGroup(1, [1]);
    await until("node 1 leads shard 1", () => store.replica(1).isLeader);
    const wal = disk.wal!;
    const order: string[] = [];
    const append = wal.appendEntries.bind(wal);
    wal.appendEntries = (group, entries) => {
      order.push(`appended ${entries.map((e) => e.index).join(",")}`);
      return append(group, entries);
    };
    const count = 3 * APPLY_CHUNK_ENTRIES;
    const firstDone = put(store, 1, "k0", "v").then(() => put(store, 1, "again", "v")); // a client that goes on at once
    const rest = Array.from({ length: count - 1 }, (_, i) => put(store, 1, `k${i + 1}`, "v").then(() => order.push(`answered ${i + 1}`)));
    const [again] = await Promise.all([firstDone, ...rest]);
    const appended = order.findIndex((line) => line.startsWith("appended ") && line.slice(9).split(",").includes(String(again.revision)));
    expect(appended).toBeGreaterThan(0);
    expect(appended).toBeLessThan(order.indexOf(`answered ${count - 1}`));
  });

  it("counts how its turns batch: Readies, the entries they write and commit, and the Raft messages they send", async () => {
    const net = new LocalNet();
    const disks = [new Disk(), new Disk(), new Disk()];
    const stores = await Promise.all(disks.map((disk, i) => openStore(i + 1, disk, {}, net)));
    await Promise.all(stores.map((s) => s.createGroup(3, [1, 2, 3])));
    await until("a leader", () => stores.some((s) => s.replica(3).isLeader));
    const leader = stores.find((s) => s.replica(3).isLeader)!;
    const follower = stores.find((s) => s !== leader)!;
    await put(leader, 3, "warm", "up");
    await until("the follower applied the warm-up", () => follower.replica(3).state.applied.index >= leader.replica(3).state.applied.index);
    const before = [{ ...leader.counts }, { ...follower.counts }] as const;
    // Proposed in one turn: one Ready writes them all, rather than one Ready each.
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(leader, 3, `k${i}`, "v")));
    await until("the follower applied all 20", () => follower.replica(3).state.applied.index >= leader.replica(3).state.applied.index);
    const [leaderGain, followerGain] = [leader.counts, follower.counts].map((now, i) => ({
      readies: now.readies - before[i]!.readies,
      written: now.entriesWritten - before[i]!.entriesWritten,
      committed: now.entriesCommitted - before[i]!.entriesCommitted,
      messages: now.raftMessages - before[i]!.raftMessages,
    }));
    for (const gain of [leaderGain!, followerGain!]) {
      expect(gain.written).toBe(20);
      expect(gain.committed).toBe(20);
      expect(gain.readies).toBeGreaterThan(0);
      expect(gain.readies).toBeLessThan(20);
    }
    // The leader appends to both followers; a follower answers it.
    expect(leaderGain!.messages).toBeGreaterThanOrEqual(2);
    expect(followerGain!.messages).toBeGreaterThanOrEqual(1);
  });

  it("restarts from the synced log after a crash, replays only what the state machine lacks, and applies nothing twice", async () => {
    const disk = new Disk();
    let store = await openStore(1, disk);
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    for (let i = 0; i < 40; i++) await put(store, 1, "counter", String(i));
    const before = await get(store, 1, "counter");
    expect(before?.version).toBe(40);
    await crash(store, disk);

    store = await openStore(1, disk);
    await until("a leader again", () => store.replica(1).isLeader);
    const after = await get(store, 1, "counter");
    expect(after).toEqual(before);
    await put(store, 1, "counter", "next");
    expect((await get(store, 1, "counter"))?.version).toBe(41);
  });

  it("checkpoints, then compacts the log behind what LevelDB made durable; a restart still sees every write", async () => {
    const disk = new Disk();
    let store = await openStore(1, disk, { compaction: { entriesPerCheckpoint: 20, entriesRetained: 5 } });
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    for (let i = 0; i < 100; i++) await put(store, 1, `k${i}`, `v${i}`);
    await until("the log is compacted", () => (disk.wal!.group(1)?.first ?? 1) > 50);
    const hash = await store.replica(1).state.hash();
    await crash(store, disk);

    store = await openStore(1, disk);
    expect(await store.replica(1).state.hash()).toBe(hash);
    await until("a leader", () => store.replica(1).isLeader);
    for (let i = 0; i < 100; i += 9) expect(text((await get(store, 1, `k${i}`))?.value)).toBe(`v${i}`);
  });

  it("brings a follower that fell behind the compacted log up to date with a streamed snapshot", async () => {
    const net = new LocalNet();
    const disks = [new Disk(), new Disk(), new Disk()];
    const compaction = { entriesPerCheckpoint: 30, entriesRetained: 0 };
    const stores = await Promise.all(disks.map((disk, i) => openStore(i + 1, disk, { compaction }, net)));
    await Promise.all(stores.map((s) => s.createGroup(7, [1, 2, 3])));
    await until("a leader", () => stores.some((s) => s.replica(7).isLeader));
    const leader = stores.find((s) => s.replica(7).isLeader)!;
    const leaderDisk = disks[stores.indexOf(leader)]!;
    const laggard = stores.find((s) => s !== leader)!;
    net.cut.add(stores.indexOf(laggard) + 1);
    for (let i = 0; i < 120; i++) await put(leader, 7, `key/${i}`, `value ${i}`);
    await until("the leader compacted its log", () => (leaderDisk.wal!.group(7)?.first ?? 1) > 60);
    expect(laggard.replica(7).state.applied.index).toBeLessThan(20);

    net.cut.clear();
    const target = leader.replica(7).state.applied.index;
    await until("the laggard caught up", () => laggard.replica(7).state.applied.index >= target);
    expect(net.snapshotsSent).toBeGreaterThan(0);
    expect(await laggard.replica(7).state.hash()).toBe(await leader.replica(7).state.hash());
    // The follower keeps following after the install: new writes reach it too.
    await put(leader, 7, "after", "snapshot");
    await until("the laggard has the new write", () => text(laggard.replica(7).state.getSync(bytes("after"), Date.now())?.value) === "snapshot");
  });

  it("holds a proposal while the shard has no leader, and fails it with UNAVAILABLE at its deadline, never to apply later", async () => {
    const disk = new Disk();
    const store = await openStore(1, disk, { raft: { electionTicks: 1000 }, requestTimeoutMs: 100 });
    await store.createGroup(3, [1, 2, 3]);
    const startedMs = Date.now();
    const refused = store.propose(3, { op: "put", put: { key: bytes("k"), value: bytes("v") } });
    await expect(refused).rejects.toBeInstanceOf(StoreError);
    await expect(refused).rejects.toMatchObject({ code: "UNAVAILABLE", message: "etcdserver: request timed out" });
    // It waited for a leader (as etcd does) rather than failing at once.
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(90);
    // Expired, it is dropped from the queue: nothing is left to propose once a leader appears.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.replica(3).unproposed).toHaveLength(0);
  });

  it("answers RESOURCE_EXHAUSTED at once when a shard's proposal queue is full", async () => {
    const disk = new Disk();
    const store = await openStore(1, disk, { proposalsPendingMax: 2 });
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    const body = { op: "put" as const, put: { key: bytes("k"), value: bytes("v") } };
    const first = [store.propose(1, body), store.propose(1, body)];
    await expect(store.propose(1, body)).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    await Promise.all(first);
  });

  it("stops for good when the log's fsync fails, failing what waits instead of acknowledging it", async () => {
    const disk = new Disk();
    const fatal: Error[] = [];
    const store = await openStore(1, disk, { onFatal: (e) => fatal.push(e) });
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    disk.files.failNextSync = new Error("EIO: i/o error");
    await expect(put(store, 1, "k", "v")).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(fatal).toHaveLength(1);
    await expect(store.propose(1, { op: "put", put: { key: bytes("k"), value: bytes("v") } })).rejects.toMatchObject({ hint: expect.stringMatching(/this node stopped: .*EIO/) });
  });
});

describe("a leader's duties that time drives", () => {
  it("revokes a lease nobody keeps alive, on the leader's clock, deleting its keys through the log", async () => {
    const disk = new Disk();
    const store = await openStore(1, disk, { limits: { leaseTtlMinSeconds: 1 }, housekeeping: { intervalTicks: 2 } });
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    const granted = await store.leaseGrant(1, 1);
    if (!granted.ok) throw granted.error;
    const id = (granted.response as { id: bigint }).id;
    expect(id).toBeGreaterThan(0n);
    const kept = await store.leaseGrant(1, 1);
    const keptId = (kept.ok ? kept.response : { id: 0n }) as { id: bigint };
    await store.propose(1, { op: "put", put: { key: bytes("session/a"), value: bytes("x"), lease: id } });
    await store.propose(1, { op: "put", put: { key: bytes("session/b"), value: bytes("y"), lease: keptId.id } });
    const started = Date.now();
    // Keep the second lease alive while the first runs out.
    const keepAlive = setInterval(() => store.leaseKeepAlive(1, keptId.id), 200);
    try {
      await until("the first lease's key is gone", async () => (await get(store, 1, "session/a")) === undefined, 5_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(store.replica(1).state.leases().map((l) => l.id)).toEqual([keptId.id]);
      expect(text((await get(store, 1, "session/b"))?.value)).toBe("y");
      expect(() => store.leaseKeepAlive(1, id)).toThrow(/requested lease not found/);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it("keeps a lease's deadline on the monotonic clock: a wall clock stepped an hour forward expires nothing", async () => {
    const disk = new Disk();
    let stepMs = 0;
    const store = await openStore(1, disk, { housekeeping: { intervalTicks: 1 }, nowMs: () => Date.now() + stepMs });
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    const granted = await store.leaseGrant(1, 5);
    if (!granted.ok || !("id" in granted.response)) throw new Error("the grant failed");
    const id = granted.response.id;
    stepMs = 3_600_000;
    // Long enough for several housekeeping rounds (a tick is 5 ms), which expired it before.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.replica(1).state.leases().map((l) => l.id)).toEqual([id]);
    expect(store.leaseKeepAlive(1, id)).toBe(5);
  });

  it("hides a key whose TTL passed at once, and deletes it through the log soon after", async () => {
    const disk = new Disk();
    // The store's wall clock is the test's: time passes when the test says so, not by sleeping.
    let nowMs = Date.now();
    const store = await openStore(1, disk, { housekeeping: { intervalTicks: 2 }, nowMs: () => nowMs });
    await store.createGroup(1, [1]);
    await until("a leader", () => store.replica(1).isLeader);
    await store.propose(1, { op: "put", put: { key: bytes("ephemeral"), value: bytes("v"), ttlMs: 100 } });
    await store.propose(1, { op: "put", put: { key: bytes("durable"), value: bytes("v") } });
    const state = () => store.replica(1).state;
    expect(text(state().getSync(bytes("ephemeral"), nowMs)?.value)).toBe("v");
    nowMs += 101;
    // Expired, and its deletion cannot have applied yet (nothing ran since the clock moved): no read returns it.
    expect(state().getSync(bytes("ephemeral"), nowMs)).toBeUndefined();
    expect(await state().expiredKeys(nowMs, 10)).toEqual([bytes("ephemeral")]);
    await until("the expiry is applied as a delete", async () => {
      const events = await state().events(1, bytes("ephemeral"), undefined, 100);
      return events.some((e) => e.type === "delete");
    });
    expect(await state().expiredKeys(nowMs, 10)).toEqual([]);
    expect(text(state().getSync(bytes("durable"), nowMs)?.value)).toBe("v");
  });
});

describe("a follower's forwarded proposals", () => {
  it("fail at once with etcd's \"leader changed\" when the leader they went to is gone, not at the request timeout", async () => {
    const net = new LocalNet();
    const disks = [new Disk(), new Disk(), new Disk()];
    const stores = await Promise.all(disks.map((disk, i) => openStore(i + 1, disk, { requestTimeoutMs: 60_000 }, net)));
    await Promise.all(stores.map((s) => s.createGroup(5, [1, 2, 3])));
    await until("a leader", () => stores.some((s) => s.replica(5).isLeader));
    const leader = stores.find((s) => s.replica(5).isLeader)!;
    const follower = stores.find((s) => s !== leader)!;
    // The follower forwards only once it has heard from the leader.
    await until("the follower knows the leader", () => follower.replica(5).raw.raft.lead === leader.replica(5).nodeId);
    await put(follower, 5, "before", "ok");
    // The leader dies: what the follower forwards to it now is lost on the way.
    net.cut.add(stores.indexOf(leader) + 1);
    const started = Date.now();
    const lost = put(follower, 5, "during", "lost?");
    await expect(lost).rejects.toMatchObject({ code: "UNAVAILABLE", message: "etcdserver: leader changed" });
    // An election timeout or so, far from the 60 s request timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
    await until("a new leader", () => stores.some((s) => s !== leader && s.replica(5).isLeader));
    const survivor = stores.find((s) => s !== leader && s.replica(5).isLeader)!;
    await put(survivor, 5, "after", "ok");
  });

  it("take the leader's clock: a follower whose clock runs an hour ahead stamps no TTL an hour long", async () => {
    const net = new LocalNet();
    const disks = [new Disk(), new Disk(), new Disk()];
    const offsetsMs = [0, 0, 0];
    const stores = await Promise.all(disks.map((disk, i) => openStore(i + 1, disk, { nowMs: () => Date.now() + offsetsMs[i]! }, net)));
    await Promise.all(stores.map((s) => s.createGroup(5, [1, 2, 3])));
    await until("a leader", () => stores.some((s) => s.replica(5).isLeader));
    const leader = stores.find((s) => s.replica(5).isLeader)!;
    const follower = stores.find((s) => s !== leader)!;
    await until("the follower knows the leader", () => follower.replica(5).raw.raft.lead === leader.replica(5).nodeId);
    const hourMs = 3_600_000;
    offsetsMs[stores.indexOf(follower)] = hourMs;
    const before = Date.now();
    const result = await follower.propose(5, { op: "put", put: { key: bytes("session"), value: bytes("v"), ttlMs: 60_000 } });
    expect(result.ok).toBe(true);
    const kv = (await leader.readState(5, "linearizable")).getSync(bytes("session"), Date.now());
    // On the follower's clock it would expire an hour and a minute from now.
    expect(kv?.expiresAtMs).toBeGreaterThanOrEqual(before + 60_000);
    expect(kv?.expiresAtMs).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  // etcd answers a forwarded write once it applies, whoever leads by then; answering "leader changed"
  // for one that then applied made etcd3, which retries UNAVAILABLE, run a Lock's txn twice.
  it("are answered when a leader transfer hands their entry to the new leader, which the follower hears of first", async () => {
    const net = new LocalNet();
    const disks = [new Disk(), new Disk(), new Disk()];
    const stores = await Promise.all(disks.map((disk, i) => openStore(i + 1, disk, { requestTimeoutMs: 60_000 }, net)));
    await Promise.all(stores.map((s) => s.createGroup(5, [1, 2, 3])));
    await until("a leader", () => stores.some((s) => s.replica(5).isLeader));
    const leader = stores.find((s) => s.replica(5).isLeader)!;
    const [follower, target] = stores.filter((s) => s !== leader) as [Store, Store];
    const [leaderId, followerId] = [leader.replica(5).nodeId, follower.replica(5).nodeId];
    await until("the follower knows the leader", () => follower.replica(5).raw.raft.lead === leaderId);
    // The leader's messages to the follower are lost: the follower's write reaches the leader, which
    // commits it with the target, but the follower learns of it only from the next leader.
    net.lose = (from, to) => from === leaderId && to === followerId;
    const write = put(follower, 5, "handed over", "v");
    await until("the leader applied the write", () => leader.replica(5).state.getSync(bytes("handed over"), Date.now()) !== undefined);
    leader.transferLeader(5, target.replica(5).nodeId);
    await expect(write).resolves.toMatchObject({ ok: true });
    expect(follower.replica(5).raw.raft.lead).toBe(target.replica(5).nodeId);
  });
});
