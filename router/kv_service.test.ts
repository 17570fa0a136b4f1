import * as grpc from "@grpc/grpc-js";
import { MemoryLevel } from "memory-level";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type kvSpec, kvServerDefinition, loadEtcdApi, type TypedClient, type Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { CompareResult, CompareTarget, SortOrder, SortTarget } from "../proto/index.js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import { Store } from "../shard/store.js";
import { MemoryFiles } from "../shard/wal/memory_files.js";
import { Wal } from "../shard/wal/wal.js";
import { HINT_METADATA_KEY, toGrpcStatus } from "./errors.js";
import { KvService } from "./kv_service.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap, evenShards } from "./shard_map.js";

const SHARDS = 4;
const MEMBER_ID = 0xfedc_ba98_7654_3210n;
const CLUSTER_ID = 42n;

const b = (s: string): Buffer => Buffer.from(s);
const text = (buf: Buffer | undefined): string | undefined => buf?.toString();

let store: Store;
let map: ShardMap;
let server: grpc.Server;
let client: TypedClient<typeof kvSpec.methods>;

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A unary call as a promise. */
function ask<Res>(start: (callback: grpc.requestCallback<Res>) => void): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((error, value) => {
      if (error !== null) reject(error);
      else if (value === undefined) reject(new Error("no response"));
      else resolve(value);
    });
  });
}

const md = () => new grpc.Metadata();
const put = (key: string, value: string, extra: Writable<t.PutRequest> = {}) =>
  ask<t.PutResponse>((cb) => client.Put({ key: b(key), value: b(value), ...extra }, md(), {}, cb));
const range = (req: Writable<t.RangeRequest>) => ask<t.RangeResponse>((cb) => client.Range(req, md(), {}, cb));
const del = (req: Writable<t.DeleteRangeRequest>) => ask<t.DeleteRangeResponse>((cb) => client.DeleteRange(req, md(), {}, cb));
const txn = (req: Writable<t.TxnRequest>) => ask<t.TxnResponse>((cb) => client.Txn(req, md(), {}, cb));

/** The etcd prefix scan's range_end: the prefix with its last byte + 1. */
const prefixEnd = (prefix: string): Buffer => {
  const end = b(prefix);
  end[end.length - 1]! += 1;
  return end;
};

/** A decoded RangeRequest as the server sees it, every field at its default. */
const rangeRequest = (key: string): t.RangeRequest => ({
  key: b(key),
  range_end: b(""),
  limit: "0",
  revision: "0",
  sort_order: SortOrder.NONE,
  sort_target: SortTarget.KEY,
  serializable: false,
  keys_only: false,
  count_only: false,
  min_mod_revision: "0",
  max_mod_revision: "0",
  min_create_revision: "0",
  max_create_revision: "0",
});

const shardOf = (key: string): number => map.shardFor(b(key)).id;

beforeAll(async () => {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
  store = await Store.open({ nodeId: 1, db, wal, transport: { send: () => undefined }, tickMs: 5 });
  map = new ShardMap(1, evenShards(SHARDS, [1], 1));
  for (const shard of map.shards) await store.createGroup(shard.id, [1]);
  await until("node 1 leads every shard", () => map.shards.every((shard) => store.replica(shard.id).isLeader));

  const api = loadEtcdApi();
  server = new grpc.Server();
  // The definition the node serves: Range and Put through the hand-written codec.
  server.addService(kvServerDefinition(api.KV), new KvService(new LocalShardAccess(store, map, MEMBER_ID, CLUSTER_ID)).handlers());
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  client = new api.KV.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd KV service over four shards", () => {
  it("puts and gets a key, with the shard's revision and the node's ids in the header", async () => {
    const written = await put("greeting", "hello");
    const shard = shardOf("greeting");
    expect(written.header).toMatchObject({ cluster_id: "42", member_id: String(MEMBER_ID), revision: String(store.replica(shard).state.revision) });
    expect(Number(written.header?.raft_term)).toBeGreaterThan(0);

    const read = await range({ key: b("greeting") });
    expect(read.kvs).toHaveLength(1);
    expect(text(read.kvs[0]?.value)).toBe("hello");
    expect(read.kvs[0]).toMatchObject({ version: "1", create_revision: written.header?.revision, mod_revision: written.header?.revision, lease: "0" });
    expect(read.header?.revision).toBe(written.header?.revision);
    expect(read.count).toBe("1");
  });

  it("answers a put with the previous key-value when asked", async () => {
    await put("prev", "one");
    const second = await put("prev", "two", { prev_kv: true });
    expect(text(second.prev_kv?.value)).toBe("one");
    expect(second.prev_kv?.version).toBe("1");
    const third = await put("prev", "three");
    expect(third.prev_kv).toBeNull();
  });

  describe("a prefix spread over several shards", () => {
    const keys = Array.from({ length: 20 }, (_, i) => `p/${String(i).padStart(2, "0")}`);
    beforeAll(async () => {
      for (const [i, key] of keys.entries()) await put(key, `v${String(19 - i).padStart(2, "0")}`);
    });

    it("really is spread over several shards", () => {
      expect(new Set(keys.map(shardOf)).size).toBeGreaterThan(1);
    });

    it("is merged in key order, cut at the limit, with more and the count of the whole range", async () => {
      const all = await range({ key: b("p/"), range_end: prefixEnd("p/") });
      expect(all.kvs.map((kv) => text(kv.key))).toEqual(keys);
      expect(all).toMatchObject({ more: false, count: "20" });

      const first = await range({ key: b("p/"), range_end: prefixEnd("p/"), limit: "5" });
      expect(first.kvs.map((kv) => text(kv.key))).toEqual(keys.slice(0, 5));
      expect(first).toMatchObject({ more: true, count: "20" });

      const exact = await range({ key: b("p/"), range_end: prefixEnd("p/"), limit: "20" });
      expect(exact).toMatchObject({ more: false, count: "20" });
    });

    it("reports the largest of the shards' revisions in the header", async () => {
      const answer = await range({ key: b("p/"), range_end: prefixEnd("p/"), serializable: true });
      const revisions = map.shards.map((shard) => store.replica(shard.id).state.revision);
      expect(Number(answer.header?.revision)).toBe(Math.max(...revisions));
    });

    it("counts without keys when asked for count only", async () => {
      const answer = await range({ key: b("p/"), range_end: prefixEnd("p/"), count_only: true });
      expect(answer.kvs).toEqual([]);
      expect(answer).toMatchObject({ count: "20", more: false });
    });

    it("leaves values out when asked for keys only", async () => {
      const answer = await range({ key: b("p/"), range_end: prefixEnd("p/"), keys_only: true, limit: "3" });
      expect(answer.kvs.map((kv) => text(kv.key))).toEqual(keys.slice(0, 3));
      expect(answer.kvs.every((kv) => kv.value.length === 0)).toBe(true);
    });

    it("sorts descending by key, and by value, across shards", async () => {
      const down = await range({ key: b("p/"), range_end: prefixEnd("p/"), sort_order: SortOrder.DESCEND, limit: "4" });
      expect(down.kvs.map((kv) => text(kv.key))).toEqual(keys.slice(-4).reverse());
      expect(down).toMatchObject({ more: true, count: "20" });

      // Values run opposite to keys: ascending by value is descending by key.
      const byValue = await range({ key: b("p/"), range_end: prefixEnd("p/"), sort_target: SortTarget.VALUE, limit: "3" });
      expect(byValue.kvs.map((kv) => text(kv.value))).toEqual(["v00", "v01", "v02"]);
    });

    it("refuses a revision over several shards, naming hash tags", async () => {
      await expect(range({ key: b("p/"), range_end: prefixEnd("p/"), revision: "2" })).rejects.toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
        details: 'Cannot range at revision 2 over 4 shards: revisions compare only within a shard; read "{p}/" instead of "p/": the braces make a hash tag, or leave revision at 0',
      });
    });

    it("refuses a sort or a filter by revision over several shards (etcd's lock recipe would find two owners)", async () => {
      // clientv3's Mutex: the first creator under the prefix, and the last one before its own key.
      const firstCreate = { key: b("p/"), range_end: prefixEnd("p/"), sort_target: 2, sort_order: 1, limit: "1" } as const;
      await expect(range(firstCreate)).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/sorted by create revision.*hash tag/) });
      await expect(range({ key: b("p/"), range_end: prefixEnd("p/"), max_create_revision: "5" })).rejects.toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
        details: expect.stringMatching(/filtered by maxCreateRevision/),
      });
      // Orders that do compare across shards still merge.
      await expect(range({ key: b("p/"), range_end: prefixEnd("p/"), sort_target: 1, sort_order: 2, limit: "1" })).resolves.toBeDefined();
    });

    it("deletes the prefix in every shard, summing deleted and listing prev_kvs in key order", async () => {
      const answer = await del({ key: b("p/"), range_end: prefixEnd("p/"), prev_kv: true });
      expect(answer.deleted).toBe("20");
      expect(answer.prev_kvs.map((kv) => text(kv.key))).toEqual(keys);
      const after = await range({ key: b("p/"), range_end: prefixEnd("p/") });
      expect(after).toMatchObject({ kvs: [], count: "0" });
    });
  });

  it("keeps a prefix that holds a hash tag in one shard, where revisions may be asked", async () => {
    const keys = ["{user:42}/a", "{user:42}/b", "{user:42}/c"];
    expect(new Set(keys.map(shardOf)).size).toBe(1);
    expect(map.shardsForRange(b("{user:42}/"), prefixEnd("{user:42}/"))).toHaveLength(1);
    const first = await put(keys[0]!, "1");
    await put(keys[1]!, "2");
    await put(keys[2]!, "3");
    const now = await range({ key: b("{user:42}/"), range_end: prefixEnd("{user:42}/") });
    expect(now.kvs.map((kv) => text(kv.key))).toEqual(keys);
    const then = await range({ key: b("{user:42}/"), range_end: prefixEnd("{user:42}/"), revision: first.header?.revision ?? "0" });
    expect(then.kvs.map((kv) => text(kv.key))).toEqual([keys[0]]);
  });

  describe("transactions", () => {
    const createIfAbsent = (key: string, value: string) =>
      txn({
        compare: [{ key: b(key), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: "0" }],
        success: [{ request_put: { key: b(key), value: b(value) } }],
        failure: [{ request_range: { key: b(key) } }],
      });

    it("run in one shard: the success branch, then the failure branch", async () => {
      const created = await createIfAbsent("{t}/x", "first");
      expect(created.succeeded).toBe(true);
      expect(created.responses[0]?.response).toBe("response_put");
      expect(created.header?.revision).toBe(String(store.replica(shardOf("{t}/x")).state.revision));
      // As etcd's: a nested answer's header holds the revision, nothing else.
      const put = created.responses[0];
      if (put?.response !== "response_put") throw new Error("expected a put response");
      expect(put.response_put.header).toEqual({ cluster_id: "0", member_id: "0", revision: created.header?.revision, raft_term: "0" });

      const refused = await createIfAbsent("{t}/x", "second");
      expect(refused.succeeded).toBe(false);
      const op = refused.responses[0];
      expect(op?.response).toBe("response_range");
      if (op?.response !== "response_range") throw new Error("expected a range response");
      expect(text(op.response_range.kvs[0]?.value)).toBe("first");
    });

    it("spanning two shards are refused with FAILED_PRECONDITION that names hash tags", async () => {
      const other = ["b", "c", "d", "e", "f", "g"].find((key) => shardOf(key) !== shardOf("a"))!;
      const error = await txn({
        compare: [{ key: b("a"), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: "0" }],
        success: [{ request_put: { key: b(other), value: b("1") } }],
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
      expect((error as grpc.ServiceError).details).toMatch(new RegExp(`keys "a" and "${other}" are in different shards.*braces, like "\\{user:42\\}/a".*hash tag`));
    });

    it("refuse a range inside the txn that spans shards", async () => {
      await expect(txn({ success: [{ request_range: { key: b("p/"), range_end: prefixEnd("p/") } }] })).rejects.toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
      });
    });

    it("that name no key are answered by one shard, with nothing to do", async () => {
      const empty = await txn({});
      expect(empty).toMatchObject({ succeeded: true, responses: [] });
    });

    it("answer etcd's string for a duplicate key", async () => {
      await expect(
        txn({ success: [{ request_put: { key: b("{d}/k"), value: b("1") } }, { request_put: { key: b("{d}/k"), value: b("2") } }] }),
      ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: ETCD_ERRORS.duplicateKey });
    });
  });

  it("refuses an empty key with etcd's INVALID_ARGUMENT string", async () => {
    const expected = { code: grpc.status.INVALID_ARGUMENT, details: "etcdserver: key is not provided" };
    await expect(put("", "v")).rejects.toMatchObject(expected);
    await expect(range({ key: b("") })).rejects.toMatchObject(expected);
    await expect(del({ key: b("") })).rejects.toMatchObject(expected);
    await expect(txn({ success: [{ request_put: { key: b(""), value: b("v") } }] })).rejects.toMatchObject(expected);
  });

  it("answers OUT_OF_RANGE with etcd's strings for a compacted and a future revision", async () => {
    const key = "{c}/k";
    const first = await put(key, "1");
    const second = await put(key, "2");
    const compacted = await store.propose(shardOf(key), { op: "compact", revision: Number(second.header?.revision) });
    expect(compacted.ok).toBe(true);
    await expect(range({ key: b(key), revision: first.header?.revision ?? "0" })).rejects.toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: "etcdserver: mvcc: required revision has been compacted",
    });
    await expect(range({ key: b(key), revision: "1000000" })).rejects.toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: ETCD_ERRORS.futureRevision,
    });
  });

  it("refuses a put that names a lease that does not exist with NOT_FOUND", async () => {
    await expect(put("leased", "v", { lease: "7587862110034735136" })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: ETCD_ERRORS.leaseNotFound,
    });
  });

  it("refuses Compact over several shards, saying why", async () => {
    const error = await ask((cb) => client.Compact({ revision: "1" }, md(), {}, cb)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    expect((error as grpc.ServiceError).details).toMatch(/4 shards, each with its own revisions/);
  });

  it("compacts when the cluster has one data shard, as etcd does", async () => {
    const single = new KvService(new LocalShardAccess(store, new ShardMap(1, evenShards(1, [1], 1)), MEMBER_ID, CLUSTER_ID));
    const written = await single.put({ key: b("solo"), value: b("1"), lease: "0", prev_kv: false, ignore_value: false, ignore_lease: false });
    const revision = written.header?.revision ?? "0";
    const answer = await single.compact({ revision, physical: true });
    expect(Number(answer.header?.revision)).toBeGreaterThan(Number(revision));
    await expect(single.compact({ revision, physical: false })).rejects.toMatchObject({ code: "OUT_OF_RANGE", message: ETCD_ERRORS.compacted });
  });

  it("answers UNAVAILABLE, with a hint beside etcd's details, for a shard this node holds no replica of", async () => {
    const elsewhere = new KvService(new LocalShardAccess(store, new ShardMap(1, evenShards(1, [1], 1, 99)), MEMBER_ID, CLUSTER_ID));
    const error = await elsewhere.range(rangeRequest("a")).catch((e: unknown) => e);
    const status = toGrpcStatus(error);
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toMatch(/shard 99 has no replica/);
    expect(String(status.metadata.get(HINT_METADATA_KEY)[0])).toMatch(/node that holds the shard/);
  });

  it("refuses an enum value it does not know with INVALID_ARGUMENT", async () => {
    const unknownOrder = 7 as unknown as typeof SortOrder.NONE;
    await expect(range({ key: b("a"), sort_order: unknownOrder })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "Invalid range sort_order 7: not a value this server knows",
    });
  });
});
