// shardkv.v1.KV over one in-memory store leading four shards, through a real gRPC server: every
// method, every flag, every refusal.

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShardkvApi, type shardkvKvSpec, type TypedClient, type Writable } from "../proto/index.js";
import { shardkv as t } from "../proto/index.js";
import type { Store } from "../shard/store.js";
import { LocalShardAccess, type ShardAccess } from "./shard_access.js";
import type { ShardMap } from "./shard_map.js";
import { INCREMENT_ATTEMPTS_MAX, increment } from "./shardkv_increment.js";
import { MULTI_GET_KEYS_MAX, ShardkvKvService } from "./shardkv_kv_service.js";
import { ask, openLeadingStore, serve, until } from "./test_fixtures.js";

const MEMBER_ID = 0xfedc_ba98_7654_3210n;
const CLUSTER_ID = 42n;
/** Small, so that one shard's part of a MultiPut can be too big while another's is not. */
const TXN_OPS_MAX = 4;

const b = (s: string): Buffer => Buffer.from(s);
const md = () => new grpc.Metadata();

let store: Store;
let map: ShardMap;
let access: LocalShardAccess;
let server: grpc.Server;
let client: TypedClient<typeof shardkvKvSpec.methods>;

const get = (req: Writable<t.GetRequest>) => ask<t.GetResponse>((cb) => client.Get(req, md(), {}, cb));
const put = (req: Writable<t.PutRequest>) => ask<t.PutResponse>((cb) => client.Put(req, md(), {}, cb));
const del = (req: Writable<t.DeleteRequest>) => ask<t.DeleteResponse>((cb) => client.Delete(req, md(), {}, cb));
const multiGet = (req: Writable<t.MultiGetRequest>) => ask<t.MultiGetResponse>((cb) => client.MultiGet(req, md(), {}, cb));
const multiPut = (req: Writable<t.MultiPutRequest>) => ask<t.MultiPutResponse>((cb) => client.MultiPut(req, md(), {}, cb));
const incr = (req: Writable<t.IncrementRequest>) => ask<t.IncrementResponse>((cb) => client.Increment(req, md(), {}, cb));

/** The gRPC failure of a call that must fail. */
async function failure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error("the call succeeded");
}

const shardOf = (key: string): number => map.shardFor(b(key)).id;

/** A key of `prefix` whose shard is not `shard` (the prefix must hold no hash tag). */
function keyOffShard(prefix: string, shard: number): string {
  for (let i = 0; i < 1_000; i++) if (shardOf(`${prefix}${i}`) !== shard) return `${prefix}${i}`;
  throw new Error(`no key of ${prefix} off shard ${shard}`);
}

/** Two keys of different shards. */
function keysOnTwoShards(prefix: string): [string, string] {
  const first = `${prefix}0`;
  return [first, keyOffShard(prefix, shardOf(first))];
}

beforeAll(async () => {
  ({ store, map } = await openLeadingStore(4, { txnOpsMax: TXN_OPS_MAX }));
  access = new LocalShardAccess(store, map, MEMBER_ID, CLUSTER_ID);
  const api = loadShardkvApi();
  const served = await serve((s) => s.addService(api.KV.definition, new ShardkvKvService(access).handlers()));
  server = served.server;
  client = new api.KV.Client(served.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("Get and Put", () => {
  it("puts a key and reads it back with its shard, revisions and version in the answer", async () => {
    const written = await put({ key: b("greeting"), value: b("hello") });
    const shard = shardOf("greeting");
    expect(written.succeeded).toBe(true);
    expect(written.header).toMatchObject({ cluster_id: "42", member_id: String(MEMBER_ID), shard_id: shard });
    expect(Number(written.header!.raft_term)).toBeGreaterThan(0);
    expect(written.kv).toMatchObject({ key: b("greeting"), value: b("hello"), version: "1", shard_id: shard, expires_at_ms: "0" });
    expect(written.kv!.mod_revision).toBe(written.header!.revision);

    const read = await get({ key: b("greeting") });
    expect(read).toMatchObject({ found: true, served_consistency: t.Consistency.LINEARIZABLE });
    expect(read.kv).toEqual(written.kv);
    expect(read.header).toMatchObject({ shard_id: shard, revision: String(store.replica(shard).state.revision) });
  });

  it("answers a missing key with found=false and the shard's header, not an error", async () => {
    const read = await get({ key: b("never-written") });
    expect(read).toMatchObject({ found: false, kv: null });
    expect(read.header!.shard_id).toBe(shardOf("never-written"));
  });

  it("reads serializably from the replica's applied state when asked", async () => {
    await put({ key: b("ser"), value: b("1") });
    const read = await get({ key: b("ser"), consistency: t.Consistency.SERIALIZABLE });
    expect(read).toMatchObject({ found: true, served_consistency: t.Consistency.SERIALIZABLE });
  });

  it("puts with a TTL: the key carries its expiry and is gone once it passed", async () => {
    const before = Date.now();
    const written = await put({ key: b("short-lived"), value: b("x"), ttl_ms: "40" });
    const expires = Number(written.kv!.expires_at_ms);
    expect(expires).toBeGreaterThanOrEqual(before + 40);
    expect(expires).toBeLessThanOrEqual(Date.now() + 40);
    await until("the key expired", async () => !(await get({ key: b("short-lived") })).found);
  });

  it("a put without a TTL clears the key's earlier one", async () => {
    await put({ key: b("was-ttl"), value: b("a"), ttl_ms: "60000" });
    const again = await put({ key: b("was-ttl"), value: b("b") });
    expect(again.kv!.expires_at_ms).toBe("0");
  });

  it("compare-and-set on version: version 0 creates only, a stale version loses with the key as it is", async () => {
    const created = await put({ key: b("cas"), value: b("v1"), expected_version: "0" });
    expect(created).toMatchObject({ succeeded: true });
    expect(created.kv!.version).toBe("1");

    const again = await put({ key: b("cas"), value: b("other"), expected_version: "0" });
    expect(again.succeeded).toBe(false);
    expect(again.kv).toMatchObject({ value: b("v1"), version: "1" });

    const next = await put({ key: b("cas"), value: b("v2"), expected_version: "1" });
    expect(next).toMatchObject({ succeeded: true });
    expect(next.kv!.version).toBe("2");
    expect((await get({ key: b("cas") })).kv!.value).toEqual(b("v2"));
  });

  it("compare-and-set on value: the put happens only over the expected value, and a missing key matches none", async () => {
    await put({ key: b("cas-value"), value: b("red") });
    const lost = await put({ key: b("cas-value"), value: b("green"), expected_value: b("blue") });
    expect(lost.succeeded).toBe(false);
    expect(lost.kv!.value).toEqual(b("red"));
    const won = await put({ key: b("cas-value"), value: b("green"), expected_value: b("red") });
    expect(won.succeeded).toBe(true);
    expect(won.kv!.value).toEqual(b("green"));
    const missing = await put({ key: b("cas-value-missing"), value: b("x"), expected_value: b("") });
    expect(missing).toMatchObject({ succeeded: false, kv: null });
  });

  it("refuses an empty key, a negative TTL and a negative expected version with INVALID_ARGUMENT", async () => {
    const empty = await failure(put({ key: b(""), value: b("v") }));
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.details).toBe("Cannot put: the key is empty; every key needs at least one byte");
    const ttl = await failure(put({ key: b("k"), value: b("v"), ttl_ms: "-5" }));
    expect(ttl.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(ttl.details).toContain("Invalid ttl_ms -5: it must be 0 or more");
    const version = await failure(put({ key: b("k"), value: b("v"), expected_version: "-1" }));
    expect(version.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(version.details).toContain("expected_version");
    expect((await failure(get({ key: b("") }))).details).toContain("Cannot get: the key is empty");
  });
});

describe("consistency of reads", () => {
  it("refuses an unknown consistency, a bound without BOUNDED_STALENESS, and BOUNDED_STALENESS without a bound", async () => {
    const unknown = await failure(get({ key: b("k"), consistency: 7 as t.Consistency as 0 }));
    expect(unknown.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unknown.details).toContain("Invalid consistency 7");
    const stray = await failure(get({ key: b("k"), max_staleness_ms: "100" }));
    expect(stray.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(stray.details).toContain("applies only to consistency BOUNDED_STALENESS");
    const unbounded = await failure(get({ key: b("k"), consistency: t.Consistency.BOUNDED_STALENESS }));
    expect(unbounded.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unbounded.details).toContain("needs max_staleness_ms > 0");
    const negative = await failure(get({ key: b("k"), consistency: t.Consistency.BOUNDED_STALENESS, max_staleness_ms: "-1" }));
    expect(negative.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(negative.details).toContain("Invalid max_staleness_ms -1");
  });

  it("serves a bounded read locally once a read-index round proved the replica that fresh, and falls back when the bound is tiny", async () => {
    await put({ key: b("bounded"), value: b("1") });
    const shard = shardOf("bounded");
    // A linearizable read's round is what proves freshness.
    await get({ key: b("bounded") });
    const roundsBefore = store.counts.linearizableReads;
    const local = await get({ key: b("bounded"), consistency: t.Consistency.BOUNDED_STALENESS, max_staleness_ms: "60000" });
    expect(local).toMatchObject({ found: true, served_consistency: t.Consistency.BOUNDED_STALENESS });
    expect(local.header!.shard_id).toBe(shard);
    expect(store.counts.linearizableReads).toBe(roundsBefore);

    // The proof is dated by when its round was asked: after a few ms, a 1 ms bound is not met.
    const proved = store.replica(shard).freshness;
    const provedAt = proved.freshAsOfMs(store.replica(shard).state.applied.index)!;
    await until("the proof is over 1 ms old", () => proved.nowMs() - provedAt > 2);
    const fallback = await get({ key: b("bounded"), consistency: t.Consistency.BOUNDED_STALENESS, max_staleness_ms: "1" });
    expect(fallback).toMatchObject({ found: true, served_consistency: t.Consistency.LINEARIZABLE });
    expect(store.counts.linearizableReads).toBe(roundsBefore + 1);
  });
});

describe("Delete", () => {
  it("deletes a key and returns it as it was; deleting a missing key succeeds and deletes nothing", async () => {
    const written = await put({ key: b("doomed"), value: b("bye") });
    const gone = await del({ key: b("doomed") });
    expect(gone).toMatchObject({ succeeded: true, deleted: true });
    expect(gone.kv).toEqual(written.kv);
    expect((await get({ key: b("doomed") })).found).toBe(false);
    expect(await del({ key: b("doomed") })).toMatchObject({ succeeded: true, deleted: false, kv: null });
  });

  it("compare-and-delete: a stale version or value leaves the key, with the key as it is in the answer", async () => {
    await put({ key: b("guarded"), value: b("mine") });
    const stale = await del({ key: b("guarded"), expected_version: "5" });
    expect(stale).toMatchObject({ succeeded: false, deleted: false });
    expect(stale.kv!.value).toEqual(b("mine"));
    expect(await del({ key: b("guarded"), expected_value: b("theirs") })).toMatchObject({ succeeded: false, deleted: false });
    expect(await del({ key: b("guarded"), expected_value: b("mine") })).toMatchObject({ succeeded: true, deleted: true });
    expect((await failure(del({ key: b("") }))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("MultiGet", () => {
  it("reads keys of several shards in the order asked, with one header per shard", async () => {
    const [a, c] = keysOnTwoShards("mg/");
    await put({ key: b(a), value: b("A") });
    await put({ key: b(c), value: b("C") });
    const answer = await multiGet({ keys: [b(c), b("mg/missing"), b(a), b(c)] });
    expect(answer.results.map((r) => (r.found ? r.kv!.value.toString() : null))).toEqual(["C", null, "A", "C"]);
    expect(answer.results.map((r) => r.shard_id)).toEqual([shardOf(c), shardOf("mg/missing"), shardOf(a), shardOf(c)]);
    const shards = [...new Set([shardOf(a), shardOf(c), shardOf("mg/missing")])].sort((x, y) => x - y);
    expect(answer.headers.map((h) => h.shard_id)).toEqual(shards);
    expect(answer.served_consistency).toBe(t.Consistency.LINEARIZABLE);
  });

  it("takes the same consistencies as Get", async () => {
    const [a] = keysOnTwoShards("mgc/");
    await put({ key: b(a), value: b("A") });
    expect((await multiGet({ keys: [b(a)], consistency: t.Consistency.SERIALIZABLE })).served_consistency).toBe(t.Consistency.SERIALIZABLE);
    await get({ key: b(a) });
    const bounded = await multiGet({ keys: [b(a)], consistency: t.Consistency.BOUNDED_STALENESS, max_staleness_ms: "60000" });
    expect(bounded.served_consistency).toBe(t.Consistency.BOUNDED_STALENESS);
  });

  it("refuses no keys, too many keys, an empty key and a bad consistency", async () => {
    expect((await failure(multiGet({ keys: [] }))).details).toContain("no keys given");
    const many = Array.from({ length: MULTI_GET_KEYS_MAX + 1 }, (_, i) => b(`k${i}`));
    expect((await failure(multiGet({ keys: many }))).details).toContain(`at most ${MULTI_GET_KEYS_MAX} per call`);
    expect((await failure(multiGet({ keys: [b("a"), b("")] }))).details).toContain("Cannot MultiGet key 1: the key is empty");
    expect((await failure(multiGet({ keys: [b("a")], consistency: t.Consistency.BOUNDED_STALENESS }))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("MultiPut", () => {
  it("writes keys that share a hash tag in one transaction on their shard", async () => {
    const answer = await multiPut({
      entries: [
        { key: b("{user:42}/name"), value: b("Ada") },
        { key: b("{user:42}/email"), value: b("ada@example.com"), ttl_ms: "60000" },
      ],
    });
    expect(answer.parts).toHaveLength(1);
    const part = answer.parts[0]!;
    expect(part).toMatchObject({ code: grpc.status.OK, entry_indexes: [0, 1] });
    expect(part.header!.shard_id).toBe(shardOf("{user:42}"));
    const read = await multiGet({ keys: [b("{user:42}/name"), b("{user:42}/email")] });
    // One transaction: both keys changed at the same revision.
    expect(read.results[0]!.kv!.mod_revision).toBe(part.header!.revision);
    expect(read.results[1]!.kv!.mod_revision).toBe(part.header!.revision);
    expect(Number(read.results[1]!.kv!.expires_at_ms)).toBeGreaterThan(Date.now());
  });

  it("refuses keys of several shards with FAILED_PRECONDITION naming hash tags, and writes nothing", async () => {
    const [a, c] = keysOnTwoShards("mp/");
    const refused = await failure(multiPut({ entries: [{ key: b(a), value: b("1") }, { key: b(c), value: b("2") }] }));
    expect(refused.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(refused.details).toContain("Cannot MultiPut atomically: the keys span 2 shards");
    expect(refused.details).toContain("hash tag");
    expect(refused.details).toContain("allow_partial");
    expect((await multiGet({ keys: [b(a), b(c)] })).results.every((r) => !r.found)).toBe(true);
  });

  it("with allow_partial writes each shard's part on its own and reports a failed part beside the written ones", async () => {
    const [a, c] = keysOnTwoShards("mpp/");
    const ok = await multiPut({ entries: [{ key: b(a), value: b("1") }, { key: b(c), value: b("2") }], allow_partial: true });
    expect(ok.parts.map((p) => p.code)).toEqual([grpc.status.OK, grpc.status.OK]);
    expect(ok.parts.map((p) => p.header!.shard_id)).toEqual([shardOf(a), shardOf(c)].sort((x, y) => x - y));

    // One shard's part has more puts than a txn may hold (txnOpsMax is 4 here); the other's is fine.
    const tagged = Array.from({ length: TXN_OPS_MAX + 1 }, (_, i) => ({ key: b(`{big}/${i}`), value: b("x") }));
    const lone = keyOffShard("lone/", shardOf("{big}"));
    const mixed = await multiPut({ entries: [...tagged, { key: b(lone), value: b("y") }], allow_partial: true });
    const failed = mixed.parts.find((p) => p.header!.shard_id === shardOf("{big}"))!;
    const written = mixed.parts.find((p) => p.header!.shard_id === shardOf(lone))!;
    expect(failed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(failed.message).toContain("too many operations");
    expect(failed.entry_indexes).toEqual([0, 1, 2, 3, 4]);
    expect(written).toMatchObject({ code: grpc.status.OK, entry_indexes: [TXN_OPS_MAX + 1] });
    expect((await get({ key: b(lone) })).found).toBe(true);
    expect((await get({ key: b("{big}/0") })).found).toBe(false);
  });

  it("refuses no entries, an empty key, a negative TTL and a key given twice", async () => {
    expect((await failure(multiPut({ entries: [] }))).details).toContain("no entries given");
    expect((await failure(multiPut({ entries: [{ key: b(""), value: b("") }] }))).details).toContain("Cannot MultiPut entry 0: the key is empty");
    expect((await failure(multiPut({ entries: [{ key: b("k"), value: b(""), ttl_ms: "-1" }] }))).code).toBe(grpc.status.INVALID_ARGUMENT);
    const twice = await failure(multiPut({ entries: [{ key: b("{t}/a"), value: b("1") }, { key: b("{t}/a"), value: b("2") }] }));
    expect(twice.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(twice.details).toBe('Cannot MultiPut: key "{t}/a" is both entry 0 and entry 1; give each key once');
  });
});

describe("Increment", () => {
  it("counts a missing key from 0, adds negative deltas, and keeps the value a decimal string", async () => {
    expect((await incr({ key: b("counter"), delta: "5" })).value).toBe("5");
    const down = await incr({ key: b("counter"), delta: "-7" });
    expect(down.value).toBe("-2");
    expect(down.kv).toMatchObject({ value: b("-2"), version: "2" });
    expect(down.header!.revision).toBe(down.kv!.mod_revision);
  });

  it("is atomic under concurrent increments of one key", async () => {
    const writers = 10;
    await Promise.all(Array.from({ length: writers }, () => incr({ key: b("hot"), delta: "1" })));
    expect((await get({ key: b("hot") })).kv!.value.toString()).toBe(String(writers));
  });

  it("sets a TTL when given one, and otherwise keeps the key's expiry", async () => {
    const first = await incr({ key: b("rate"), delta: "1", ttl_ms: "60000" });
    const expires = Number(first.kv!.expires_at_ms);
    expect(expires).toBeGreaterThan(Date.now());
    const second = await incr({ key: b("rate"), delta: "1" });
    expect(Math.abs(Number(second.kv!.expires_at_ms) - expires)).toBeLessThan(50);
  });

  it("refuses a value that is not a decimal int64 with FAILED_PRECONDITION quoting it", async () => {
    await put({ key: b("name"), value: b("Ada") });
    const refused = await failure(incr({ key: b("name"), delta: "1" }));
    expect(refused.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(refused.details).toBe('Cannot increment key "name": its value "Ada" is not a decimal int64');
  });

  it("refuses to leave int64 with OUT_OF_RANGE, and an empty key or negative TTL with INVALID_ARGUMENT", async () => {
    await put({ key: b("big"), value: b("9223372036854775807") });
    const over = await failure(incr({ key: b("big"), delta: "1" }));
    expect(over.code).toBe(grpc.status.OUT_OF_RANGE);
    expect(over.details).toContain("outside int64");
    expect((await failure(incr({ key: b(""), delta: "1" }))).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await failure(incr({ key: b("k"), delta: "1", ttl_ms: "-1" }))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("gives up with ABORTED after losing the race every time", async () => {
    // A writer that changes the key just before each of the increment's txns.
    const meddling = new Proxy(access, {
      get(target, prop, receiver) {
        if (prop !== "propose") return Reflect.get(target, prop, receiver) as unknown;
        return async (shard: number, body: Parameters<ShardAccess["propose"]>[1]) => {
          if (body.op === "txn") await target.propose(shard, { op: "put", put: { key: b("fought"), value: b("1") } });
          return await target.propose(shard, body);
        };
      },
    }) as ShardAccess;
    const shard = shardOf("fought");
    const error = await increment(meddling, { shard, key: b("fought"), delta: 1n, ttlMs: undefined }).then(
      () => undefined,
      (e: unknown) => e as { code: number; message: string },
    );
    expect(error?.code).toBe(grpc.status.ABORTED);
    expect(error?.message).toContain(`changed it first ${INCREMENT_ATTEMPTS_MAX} times in a row`);
  });
});
