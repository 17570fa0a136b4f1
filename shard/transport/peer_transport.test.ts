import { createServer } from "node:net";
import { MemoryLevel } from "memory-level";
import { afterEach, describe, expect, it } from "vitest";
import type { Message, MsgSnap, NodeId } from "../../raft/index.js";
import type { LevelDb } from "../keyspace.js";
import { Store } from "../store.js";
import { MemoryFiles } from "../wal/memory_files.js";
import { Wal } from "../wal/wal.js";
import type { TransportLimits } from "./limits.js";
import { PeerTransport } from "./peer_transport.js";
import type { TransportHost } from "./transport_host.js";

const bytes = (s: string): Uint8Array => Buffer.from(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString());

/** Short waits, so that a test sees a reconnect within its time; the relations still hold. */
const testLimits: Partial<TransportLimits> = { reconnectBackoffInitialMs: 10, reconnectBackoffMaxMs: 100, closeGraceMs: 200 };

const transports: PeerTransport[] = [];
const stores: Store[] = [];
const wals = new Map<Store, Wal>();

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  wals.clear();
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function transport(nodeId: NodeId, limits: Partial<TransportLimits> = {}, listenAddress = "127.0.0.1:0"): PeerTransport {
  const t = new PeerTransport({ nodeId, listenAddress, limits: { ...testLimits, ...limits } });
  transports.push(t);
  return t;
}

/** Starts one transport per node on ports the OS picks and tells each the others' addresses. */
async function mesh(count: number, limits: Partial<TransportLimits> = {}): Promise<PeerTransport[]> {
  const nodes = Array.from({ length: count }, (_, i) => transport(i + 1, limits));
  const addresses = await Promise.all(nodes.map((t) => t.start()));
  for (const t of nodes) addresses.forEach((address, i) => t.setPeer(i + 1, address));
  return nodes;
}

/** A port nobody listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

// ---- Real stores ---------------------------------------------------------------------------------

async function openStore(nodeId: NodeId, t: PeerTransport, compaction = {}): Promise<Store> {
  const db: LevelDb = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
  const store = await Store.open({ nodeId, db, wal, transport: t, tickMs: 5, compaction });
  t.attach(store);
  stores.push(store);
  wals.set(store, wal);
  return store;
}

async function put(store: Store, group: number, key: string, value: string): Promise<void> {
  const result = await store.propose(group, { op: "put", put: { key: bytes(key), value: bytes(value) } });
  if (!result.ok) throw result.error;
}

const valueAt = (store: Store, group: number, key: string): string | undefined => text(store.replica(group).state.getSync(bytes(key), Date.now())?.value);

describe("the peer transport between real stores", () => {
  it("elects leaders and replicates puts of several groups over gRPC, many groups per batch", async () => {
    const nodes = await mesh(3);
    const group = [await openStore(1, nodes[0]!), await openStore(2, nodes[1]!), await openStore(3, nodes[2]!)];
    for (const g of [1, 2]) await Promise.all(group.map((s) => s.createGroup(g, [1, 2, 3])));
    for (const g of [1, 2]) await until(`group ${g} has a leader`, () => group.some((s) => s.replica(g).isLeader));
    for (const g of [1, 2]) {
      const leader = group.find((s) => s.replica(g).isLeader)!;
      for (let i = 0; i < 20; i++) await put(leader, g, `k${i}`, `group ${g} value ${i}`);
    }
    for (const s of group) await until("every replica has every put", () => [1, 2].every((g) => valueAt(s, g, "k19") === `group ${g} value 19`));

    const peerStats = nodes.flatMap((t) => [...t.stats().peers.values()]);
    const sent = peerStats.reduce((n, p) => n + p.sentMessages, 0);
    const batches = peerStats.reduce((n, p) => n + p.sentBatches, 0);
    expect(sent).toBeGreaterThan(batches); // messages of one turn, of both groups, share batches
    expect(peerStats.every((p) => p.droppedQueueFull === 0)).toBe(true);
  });

  it("brings a follower that was cut off while the leader compacted its log up to date with a snapshot over Peer.Snapshot", async () => {
    const nodes = await mesh(3);
    const compaction = { entriesPerCheckpoint: 30, entriesRetained: 0 };
    const group = [await openStore(1, nodes[0]!, compaction), await openStore(2, nodes[1]!, compaction), await openStore(3, nodes[2]!, compaction)];
    await Promise.all(group.map((s) => s.createGroup(7, [1, 2, 3])));
    await until("a leader", () => group.some((s) => s.replica(7).isLeader));
    const leader = group.find((s) => s.replica(7).isLeader)!;
    const leaderNode = nodes[group.indexOf(leader)]!;
    const laggard = group.find((s) => s !== leader)!;
    const laggardNode = nodes[group.indexOf(laggard)]!;

    // Nothing reaches the laggard while its server is down (its own sends are only pre-votes, refused).
    await laggardNode.stopServer();
    for (let i = 0; i < 120; i++) await put(leader, 7, `key/${i}`, `value ${i}`);
    await until("the leader compacted its log", () => (wals.get(leader)!.group(7)?.first ?? 1) > 60);
    expect(laggard.replica(7).state.applied.index).toBeLessThan(20);

    await laggardNode.start();
    const target = leader.replica(7).state.applied.index;
    await until("the laggard caught up", () => laggard.replica(7).state.applied.index >= target);
    // The ack reaches the leader a moment after the laggard installed the snapshot.
    await until("the leader had the snapshot's ack", () => leaderNode.stats().snapshotsSent > 0);
    expect(laggardNode.stats().service.snapshotsReceived).toBeGreaterThan(0);
    expect(await laggard.replica(7).state.hash()).toBe(await leader.replica(7).state.hash());
    // The follower keeps following after the install: new writes reach it too.
    await put(leader, 7, "after", "snapshot");
    await until("the laggard has the new write", () => valueAt(laggard, 7, "after") === "snapshot");
  });
});

// ---- A fake host behind a real transport ---------------------------------------------------------

class FakeHost implements TransportHost {
  readonly stepped: { group: number; message: Message }[] = [];
  readonly unreachable: { group: number; to: NodeId }[] = [];
  readonly snapshotReports: { group: number; to: NodeId; delivered: boolean }[] = [];
  readonly snapshots: { group: number; message: MsgSnap; data: string }[] = [];
  chunks: readonly string[] = ["first ", "second ", "third"];
  receiveFailure: Error | undefined;
  /** When set, receiving waits for it before reading any chunk. */
  receiveGate: Promise<void> | undefined;

  step(group: number, message: Message): void {
    this.stepped.push({ group, message });
  }
  async *snapshotChunks(): AsyncGenerator<Uint8Array> {
    for (const chunk of this.chunks) yield bytes(chunk);
  }
  async receiveSnapshot(group: number, message: MsgSnap, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    await this.receiveGate;
    let data = "";
    for await (const chunk of chunks) data += text(chunk);
    if (this.receiveFailure !== undefined) throw this.receiveFailure;
    this.snapshots.push({ group, message, data });
  }
  reportSnapshot(group: number, to: NodeId, delivered: boolean): void {
    this.snapshotReports.push({ group, to, delivered });
  }
  reportUnreachable(group: number, to: NodeId): void {
    this.unreachable.push({ group, to });
  }
}

const heartbeat = (round: number, to: NodeId = 2): Message => ({ type: "heartbeat", from: 1, to, term: 3, commit: 0, round });
const append = (dataBytes: number): Message => ({
  type: "app", from: 1, to: 2, term: 3, index: 0, logTerm: 0, commit: 0,
  entries: [{ term: 3, index: 1, type: "normal", data: new Uint8Array(dataBytes) }],
});
const snap = (index: number): MsgSnap => ({ type: "snap", from: 1, to: 2, term: 3, snapshot: { meta: { index, term: 2, confState: { voters: [1, 2, 3], learners: [] } }, data: new Uint8Array(0) } });

describe("the peer transport's delivery rules", () => {
  it("reports a peer that is down at first as unreachable, once per group per backoff period, and delivers once it starts", async () => {
    const port = await freePort();
    const a = transport(1);
    const hostA = new FakeHost();
    a.attach(hostA);
    await a.start();
    a.setPeer(2, `127.0.0.1:${port}`);

    let round = 0;
    const sending = setInterval(() => a.send(5, [heartbeat(++round)]), 2);
    try {
      await until("node 2 was reported unreachable and the stream failed a few times", () => (a.stats().peers.get(2)?.streamsFailed ?? 0) >= 3);
      const down = a.stats().peers.get(2)!;
      expect(down.droppedUnreachable).toBeGreaterThan(0);
      expect(hostA.unreachable.length).toBeGreaterThan(0);
      expect(hostA.unreachable.every((u) => u.group === 5 && u.to === 2)).toBe(true);
      // At most once per group per period: no more reports than periods begun.
      expect(hostA.unreachable.length).toBeLessThanOrEqual(down.streamsFailed);

      const b = transport(2, {}, `127.0.0.1:${port}`);
      const hostB = new FakeHost();
      b.attach(hostB);
      await b.start();
      await until("node 2 receives heartbeats", () => hostB.stepped.length > 0);
    } finally {
      clearInterval(sending);
    }
    expect(a.stats().peers.get(2)?.streamsOpened).toBe(1);
    expect(a.stats().peers.get(2)?.state).toBe("up");
  });

  it("drops the newest messages beyond the queue's message bound, and counts them", async () => {
    const [a, b] = await mesh(2, { queueMessagesMax: 10 });
    const hostB = new FakeHost();
    a!.attach(new FakeHost());
    b!.attach(hostB);
    a!.send(1, Array.from({ length: 50 }, (_, i) => heartbeat(i)));
    await until("the queued ten arrive", () => hostB.stepped.length >= 10);
    a!.send(1, [heartbeat(999)]);
    await until("a later message arrives", () => hostB.stepped.length >= 11);
    expect(hostB.stepped.map((s) => (s.message.type === "heartbeat" ? s.message.round : -1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 999]);
    expect(a!.stats().peers.get(2)).toMatchObject({ droppedQueueFull: 40, sentMessages: 11 });
  });

  it("drops the newest messages beyond the queue's byte bound, and splits what it sends into batches of the batch bound", async () => {
    const [a, b] = await mesh(2, { queueBytesMax: 64 * 1024, batchBytesMax: 16 * 1024 });
    const hostB = new FakeHost();
    a!.attach(new FakeHost());
    b!.attach(hostB);
    a!.send(3, Array.from({ length: 20 }, () => append(10 * 1024)));
    await until("what fit arrives", () => hostB.stepped.length >= 6);
    a!.send(3, [heartbeat(1)]);
    await until("a later message arrives", () => hostB.stepped.length >= 7);
    expect(a!.stats().peers.get(2)).toMatchObject({ droppedQueueFull: 14, sentMessages: 7 });
    expect(a!.stats().peers.get(2)!.sentBatches).toBeGreaterThanOrEqual(7);
    const first = hostB.stepped[0]!.message;
    expect(first.type === "app" ? first.entries[0]!.data.byteLength : 0).toBe(10 * 1024);
  });

  it("streams a snapshot on Peer.Snapshot beside the Raft stream, reports it delivered on the ack, and one the receiver rejects as undelivered", async () => {
    const [a, b] = await mesh(2);
    const hostA = new FakeHost();
    const hostB = new FakeHost();
    a!.attach(hostA);
    b!.attach(hostB);
    a!.send(4, [heartbeat(1), snap(90), heartbeat(2)]);
    await until("the snapshot is reported", () => hostA.snapshotReports.length === 1);
    expect(hostA.snapshotReports).toEqual([{ group: 4, to: 2, delivered: true }]);
    expect(hostB.snapshots).toEqual([{ group: 4, message: snap(90), data: "first second third" }]);
    expect(hostB.stepped.map((s) => s.message.type)).toEqual(["heartbeat", "heartbeat"]);

    hostB.receiveFailure = new Error("the snapshot does not match its trailer");
    a!.send(4, [snap(91)]);
    await until("the second snapshot is reported", () => hostA.snapshotReports.length === 2);
    expect(hostA.snapshotReports[1]).toEqual({ group: 4, to: 2, delivered: false });
    expect(a!.stats()).toMatchObject({ snapshotsSent: 1, snapshotsFailed: 1 });
  });

  it("keeps at most one snapshot in flight per peer and group, and reports the one in flight undelivered when it closes", async () => {
    const [a, b] = await mesh(2);
    const hostA = new FakeHost();
    const hostB = new FakeHost();
    hostB.receiveGate = new Promise(() => undefined); // the receiver never reads: the snapshot stays in flight
    a!.attach(hostA);
    b!.attach(hostB);
    a!.send(4, [snap(90)]);
    a!.send(4, [snap(91)]);
    a!.send(5, [snap(92)]);
    await until("both receivers are busy", () => hostB.snapshots.length === 0 && a!.stats().snapshotsCoalesced === 1);
    const closing = Date.now();
    await a!.close();
    expect(Date.now() - closing).toBeLessThan(1_000); // cancelled, not left to its 10-minute deadline
    expect(hostA.snapshotReports.sort((x, y) => x.group - y.group)).toEqual([
      { group: 4, to: 2, delivered: false },
      { group: 5, to: 2, delivered: false },
    ]);
    expect(a!.stats().peers.size).toBe(0);
  });
});
