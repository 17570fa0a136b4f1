import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FilterType, type kvSpec, loadEtcdApi, type TypedClient, type watchSpec, type Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { KvService } from "./kv_service.js";
import { LocalShardAccess, type ShardEvents, type ShardEventsRequest } from "./shard_access.js";
import { ShardFeed } from "./shard_feed.js";
import type { ShardMap } from "./shard_map.js";
import { ask, openLeadingStore, serve, until } from "./test_fixtures.js";
import { WatchService } from "./watch_service.js";

const MEMBER_ID = 77n;
const CLUSTER_ID = 42n;
const PROGRESS_INTERVAL_MS = 40;

const b = (s: string): Buffer => Buffer.from(s);
const text = (buf: Buffer | undefined): string | undefined => buf?.toString();
const prefixEnd = (prefix: string): Buffer => {
  const end = b(prefix);
  end[end.length - 1]! += 1;
  return end;
};

let store: Store;
let map: ShardMap;
let access: LocalShardAccess;
const servers: grpc.Server[] = [];
const clients: grpc.Client[] = [];
let kv: TypedClient<typeof kvSpec.methods>;
let watchAddress: string;
let limitedAddress: string;

const md = () => new grpc.Metadata();
const put = (key: string, value: string) => ask<t.PutResponse>((cb) => kv.Put({ key: b(key), value: b(value) }, md(), {}, cb));
const del = (key: string) => ask<t.DeleteRangeResponse>((cb) => kv.DeleteRange({ key: b(key) }, md(), {}, cb));
const revisionOf = (answer: { header: t.ResponseHeader | null }): number => Number(answer.header?.revision);
const shardOf = (key: string | Buffer): number => map.shardFor(typeof key === "string" ? b(key) : key).id;

/** One Watch RPC, with every response it received kept in order. */
class WatchSession {
  readonly responses: t.WatchResponse[] = [];
  private readonly call: grpc.ClientDuplexStream<Writable<t.WatchRequest>, t.WatchResponse>;
  private readonly taken = new Set<number>();
  ended = false;
  error: grpc.ServiceError | undefined;

  constructor(address = watchAddress) {
    const api = loadEtcdApi();
    const client: TypedClient<typeof watchSpec.methods> = new api.Watch.Client(address, grpc.credentials.createInsecure());
    clients.push(client);
    this.call = client.Watch(md(), {});
    this.call.on("data", (response: t.WatchResponse) => this.responses.push(response));
    this.call.on("end", () => (this.ended = true));
    this.call.on("error", (error: grpc.ServiceError) => (this.error = error));
  }

  create(req: Writable<t.WatchCreateRequest>): void {
    this.call.write({ create_request: req });
  }

  cancel(watchId: string): void {
    this.call.write({ cancel_request: { watch_id: watchId } });
  }

  requestProgress(): void {
    this.call.write({ progress_request: {} });
  }

  /** The earliest response not taken yet that `matches`, waiting for it. */
  async next(what: string, matches: (response: t.WatchResponse) => boolean = () => true): Promise<t.WatchResponse> {
    let found = -1;
    await until(what, () => {
      found = this.responses.findIndex((response, i) => !this.taken.has(i) && matches(response));
      return found >= 0;
    });
    this.taken.add(found);
    return this.responses[found]!;
  }

  /** The next `count` responses not taken yet, in order. */
  async take(count: number): Promise<t.WatchResponse[]> {
    const taken: t.WatchResponse[] = [];
    for (let i = 0; i < count; i++) taken.push(await this.next(`watch response ${i + 1} of ${count} arrived`));
    return taken;
  }

  /** The watch's event responses until `events` events arrived. */
  async events(watchId: string, events: number): Promise<t.WatchResponse[]> {
    const got: t.WatchResponse[] = [];
    for (let count = 0; count < events; ) {
      const response = await this.next(`events of watch ${watchId} arrived`, (r) => r.watch_id === watchId && r.events.length > 0);
      got.push(response);
      count += response.events.length;
    }
    return got;
  }

  /** Creates a watch and returns its id from the created response. */
  async watch(req: Writable<t.WatchCreateRequest>): Promise<string> {
    this.create(req);
    const created = await this.next("the watch was created", (r) => r.created);
    expect(created).toMatchObject({ created: true, canceled: false });
    return created.watch_id;
  }

  end(): void {
    this.call.end();
  }
}

beforeAll(async () => {
  ({ store, map } = await openLeadingStore(4));
  access = new LocalShardAccess(store, map, MEMBER_ID, CLUSTER_ID);
  const api = loadEtcdApi();
  const main = await serve((server) => {
    server.addService(api.KV.definition, new KvService(access).handlers());
    server.addService(api.Watch.definition, new WatchService(access, { progressNotifyIntervalMs: PROGRESS_INTERVAL_MS }).handlers());
  });
  const limited = await serve((server) => {
    server.addService(api.Watch.definition, new WatchService(access, { watchersPerStreamMax: 2, feedsPerNodeMax: 5 }).handlers());
  });
  servers.push(main.server, limited.server);
  watchAddress = main.address;
  limitedAddress = limited.address;
  kv = new api.KV.Client(main.address, grpc.credentials.createInsecure());
  clients.push(kv);
});

afterAll(async () => {
  for (const client of clients) client.close();
  for (const server of servers) server.forceShutdown();
  await store.close();
});

describe("the etcd Watch service over four shards", () => {
  it("watches a key: created first, then its puts and its delete, each under the shard's revision", async () => {
    const session = new WatchSession();
    session.create({ key: b("w/key") });
    const [created] = await session.take(1);
    expect(created).toMatchObject({ created: true, canceled: false, watch_id: "0" });
    expect(created?.header).toMatchObject({ cluster_id: "42", member_id: "77" });
    expect(Number(created?.header?.revision)).toBe(store.replica(shardOf("w/key")).state.revision);

    const first = await put("w/key", "1");
    await put("w/other", "not watched");
    const second = await put("w/key", "2");
    const deleted = await del("w/key");
    const responses = await session.events("0", 3);
    const events = responses.flatMap((response) => response.events);
    expect(events.map((event) => [event.type, text(event.kv?.key), text(event.kv?.value), event.kv?.mod_revision])).toEqual([
      [0, "w/key", "1", String(revisionOf(first))],
      [0, "w/key", "2", String(revisionOf(second))],
      [1, "w/key", "", String(revisionOf(deleted))],
    ]);
    expect(events[1]?.kv).toMatchObject({ version: "2", create_revision: String(revisionOf(first)) });
    // No prev_kv unless asked.
    expect(events.every((event) => event.prev_kv === null)).toBe(true);
    for (const response of responses) {
      const last = Number(response.events.at(-1)?.kv?.mod_revision);
      expect(Number(response.header?.revision)).toBeGreaterThanOrEqual(last);
    }
    session.end();
  });

  it("merges a prefix spread over several shards: each response from one shard, each key's events in order", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `spread/${String(i).padStart(2, "0")}`);
    expect(new Set(keys.map((key) => shardOf(key))).size).toBeGreaterThan(1);
    const session = new WatchSession();
    const id = await session.watch({ key: b("spread/"), range_end: prefixEnd("spread/") });
    for (const key of keys) await put(key, "a");
    for (const key of keys) await put(key, "b");
    const responses = await session.events(id, keys.length * 2);
    for (const response of responses) {
      const shards = new Set(response.events.map((event) => shardOf(event.kv!.key)));
      expect(shards.size).toBe(1);
      const [shard] = shards;
      expect(Number(response.header?.revision)).toBeLessThanOrEqual(store.replica(shard!).state.revision);
    }
    const byKey = new Map<string, string[]>();
    for (const event of responses.flatMap((response) => response.events)) {
      const key = text(event.kv?.key)!;
      byKey.set(key, [...(byKey.get(key) ?? []), text(event.kv?.value)!]);
    }
    expect([...byKey.keys()].sort()).toEqual(keys);
    for (const values of byKey.values()) expect(values).toEqual(["a", "b"]);
    session.end();
  });

  it("replays a key's history from a past start_revision, with prev_kv when asked", async () => {
    const first = await put("{h}/key", "1");
    await put("{h}/key", "2");
    await del("{h}/key");
    const session = new WatchSession();
    const plain = await session.watch({ key: b("{h}/key"), start_revision: String(revisionOf(first)) });
    const withPrev = await session.watch({ key: b("{h}/key"), start_revision: String(revisionOf(first)), prev_kv: true });
    const events = (await session.events(plain, 3)).flatMap((response) => response.events);
    expect(events.map((event) => [event.type, text(event.kv?.value)])).toEqual([
      [0, "1"],
      [0, "2"],
      [1, ""],
    ]);
    expect(events.every((event) => event.prev_kv === null)).toBe(true);
    const previous = (await session.events(withPrev, 3)).flatMap((response) => response.events);
    // A create has no previous key-value; the update and the delete have the one before.
    expect(previous.map((event) => text(event.prev_kv?.value))).toEqual([undefined, "1", "2"]);
    session.end();
  });

  it("filters puts or deletes out", async () => {
    const session = new WatchSession();
    const noPut = await session.watch({ key: b("{f}/"), range_end: prefixEnd("{f}/"), filters: [FilterType.NOPUT] });
    const noDelete = await session.watch({ key: b("{f}/"), range_end: prefixEnd("{f}/"), filters: [FilterType.NODELETE] });
    await put("{f}/a", "1");
    await del("{f}/a");
    await put("{f}/b", "2");
    const deletes = (await session.events(noPut, 1)).flatMap((response) => response.events);
    expect(deletes.map((event) => [event.type, text(event.kv?.key)])).toEqual([[1, "{f}/a"]]);
    const puts = (await session.events(noDelete, 2)).flatMap((response) => response.events);
    expect(puts.map((event) => [event.type, text(event.kv?.key)])).toEqual([
      [0, "{f}/a"],
      [0, "{f}/b"],
    ]);
    session.end();
  });

  it('watches every key from a key on when range_end is "\\0"', async () => {
    const session = new WatchSession();
    const id = await session.watch({ key: b("zz/m"), range_end: Buffer.from([0]) });
    await put("zz/a", "below the key");
    await put("zz/m", "the key");
    await put("zzz", "above");
    const events = (await session.events(id, 2)).flatMap((response) => response.events);
    expect(events.map((event) => text(event.kv?.key)).sort()).toEqual(["zz/m", "zzz"]);
    session.end();
  });

  it("honours a watch id the client picks, and refuses the same id twice with etcd's reason", async () => {
    const session = new WatchSession();
    expect(await session.watch({ key: b("ids"), watch_id: "100" })).toBe("100");
    session.create({ key: b("ids"), watch_id: "100" });
    const [refused] = await session.take(1);
    expect(refused).toMatchObject({ created: true, canceled: true, watch_id: "-1", cancel_reason: "mvcc: duplicate watch ID provided on the WatchStream" });
    // Server-picked ids start at 0 and skip the ones taken.
    expect(await session.watch({ key: b("ids") })).toBe("0");
    session.end();
  });

  it("cancels a watch: a canceled response, then no more of its events", async () => {
    const session = new WatchSession();
    const gone = await session.watch({ key: b("{c}/k") });
    const kept = await session.watch({ key: b("{c}/k") });
    session.cancel(gone);
    const [canceled] = await session.take(1);
    expect(canceled).toMatchObject({ watch_id: gone, canceled: true, created: false });
    await put("{c}/k", "after");
    const [event] = await session.take(1);
    expect(event?.watch_id).toBe(kept);
    // Canceling a watch that is gone says nothing, as etcd.
    session.cancel(gone);
    session.requestProgress();
    const [progress] = await session.take(1);
    expect(progress?.watch_id).toBe("-1");
    session.end();
  });

  it("refuses a start revision over several shards with a reason that names hash tags", async () => {
    const session = new WatchSession();
    session.create({ key: b("spread/"), range_end: prefixEnd("spread/"), start_revision: "3" });
    const [refused] = await session.take(1);
    expect(refused).toMatchObject({ created: true, canceled: true, watch_id: "-1" });
    expect(refused?.cancel_reason).toBe(
      'Cannot watch from revision 3 over 4 shards: revisions compare only within a shard; watch "{spread}/" instead of "spread/": the braces make a hash tag, or leave start_revision at 0',
    );
    session.end();
  });

  it("refuses an empty range, a negative start revision and an unknown filter with a reason", async () => {
    const session = new WatchSession();
    session.create({ key: b("b"), range_end: b("a") });
    session.create({ key: b("a"), start_revision: "-1" });
    session.create({ key: b("a"), filters: [7 as typeof FilterType.NOPUT] });
    const reasons = (await session.take(3)).map((response) => (response.canceled ? response.cancel_reason : "not canceled"));
    expect(reasons).toEqual(["mvcc: watcher range is empty", ETCD_ERRORS.compacted, expect.stringMatching(/filter 7: the filters are NOPUT \(0\) and NODELETE \(1\)/)]);
    session.end();
  });

  it("answers a start revision compacted away with created, then canceled with compact_revision", async () => {
    const key = "{compact}/k";
    const first = await put(key, "1");
    const second = await put(key, "2");
    const compacted = await store.propose(shardOf(key), { op: "compact", revision: revisionOf(second) });
    expect(compacted.ok).toBe(true);
    const session = new WatchSession();
    session.create({ key: b(key), start_revision: String(revisionOf(first)) });
    const [created, canceled] = await session.take(2);
    expect(created).toMatchObject({ created: true, canceled: false });
    expect(canceled).toMatchObject({ watch_id: created?.watch_id, canceled: true, compact_revision: String(revisionOf(second) + 1) });
    session.end();
  });

  it("answers a progress request with watch_id -1 and the revision its watchers are synced to", async () => {
    const session = new WatchSession();
    await session.watch({ key: b("{p}/k") });
    const written = await put("{p}/k", "v");
    await session.take(1);
    session.requestProgress();
    const [progress] = await session.take(1);
    expect(progress).toMatchObject({ watch_id: "-1", created: false, canceled: false, events: [] });
    expect(Number(progress?.header?.revision)).toBeGreaterThanOrEqual(revisionOf(written));
    session.end();
  });

  it("tells a progress_notify watcher that got no events how far it is synced, every interval", async () => {
    const session = new WatchSession();
    const id = await session.watch({ key: b("{quiet}/k"), progress_notify: true });
    const [first, second] = await session.take(2);
    for (const notice of [first, second]) expect(notice).toMatchObject({ watch_id: id, events: [], canceled: false });
    expect(Number(first?.header?.revision)).toBe(store.replica(shardOf("{quiet}/k")).state.revision);
    session.end();
  });

  it("refuses watches past the per-stream and per-node limits with a reason, and keeps the stream", async () => {
    const session = new WatchSession(limitedAddress);
    await session.watch({ key: b("l/1") });
    await session.watch({ key: b("l/2") });
    session.create({ key: b("l/3") });
    const [perStream] = await session.take(1);
    expect(perStream).toMatchObject({ created: true, canceled: true });
    expect(perStream?.cancel_reason).toMatch(/this stream has 2, its limit \(watchersPerStreamMax\)/);
    // A second stream takes the last 3 feeds of 5 with the first two; a range over all 4 shards does not fit.
    const other = new WatchSession(limitedAddress);
    other.create({ key: b("l/"), range_end: prefixEnd("l/") });
    const [perNode] = await other.take(1);
    expect(perNode?.cancel_reason).toMatch(/near its limit of 5 \(feedsPerNodeMax\)/);
    await other.watch({ key: b("l/4") });
    // Feeds come back when a stream ends.
    session.end();
    await until("the first stream ended", () => session.ended);
    expect(await other.watch({ key: b("l/"), range_end: prefixEnd("l/") })).toBe("1");
    other.end();
  });

  it("ends the stream, with OK, when the client closes its side", async () => {
    const session = new WatchSession();
    await session.watch({ key: b("end") });
    session.end();
    await until("the server ended the stream", () => session.ended);
    expect(session.error).toBeUndefined();
  });
});

/** Counts the reads the feeds make. */
class CountingAccess extends LocalShardAccess {
  reads = 0;
  override async shardEvents(shard: number, req: ShardEventsRequest): Promise<ShardEvents> {
    this.reads++;
    return await super.shardEvents(shard, req);
  }
}

describe("a shard feed", () => {
  it("reads nothing until asked, then hands out everything applied meanwhile in one read", async () => {
    const counting = new CountingAccess(store, map, MEMBER_ID, CLUSTER_ID);
    const shard = shardOf("{feed}/");
    const listeners = store.applyListeners.count(shard);
    const feed = new ShardFeed(counting, shard, { key: b("{feed}/"), rangeEnd: prefixEnd("{feed}/") }, 0, counting.raftStatus(shard).appliedIndex, 100);
    expect(store.applyListeners.count(shard)).toBe(listeners + 1);
    for (let i = 0; i < 10; i++) await put(`{feed}/${i}`, "v");
    expect(counting.reads).toBe(0);
    const batch = await feed.next();
    expect(batch.kind === "events" ? batch.events.length : batch.kind).toBe(10);
    expect(counting.reads).toBe(1);
    feed.close();
    expect(await feed.next()).toEqual({ kind: "closed" });
    expect(store.applyListeners.count(shard)).toBe(listeners);
  });

  it("cuts a batch at its limit, never inside a revision, and goes on after it", async () => {
    const shard = shardOf("{cut}/");
    const start = store.replica(shard).state.revision + 1;
    for (let i = 0; i < 5; i++) await put(`{cut}/${i}`, "v");
    const feed = new ShardFeed(access, shard, { key: b("{cut}/"), rangeEnd: prefixEnd("{cut}/") }, start, access.raftStatus(shard).appliedIndex, 2);
    const sizes: number[] = [];
    while (sizes.reduce((sum, size) => sum + size, 0) < 5) {
      const batch = await feed.next();
      if (batch.kind !== "events") throw new Error(`expected events, got ${batch.kind}`);
      sizes.push(batch.events.length);
    }
    expect(sizes).toEqual([2, 2, 1]);
    feed.close();
  });
});
