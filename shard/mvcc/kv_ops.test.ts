import { describe, expect, test } from "vitest";
import { bytes, dump, errorOf, openShard, responseOf, text } from "./fixtures.js";
import { ETCD_ERRORS } from "./errors.js";
import type { DeleteRangeResponse, PutResponse } from "./requests.js";

describe("put", () => {
  test("a new key gets version 1 and the entry's index as create and mod revision", async () => {
    const s = await openShard();
    await s.put("other", "x");
    const result = await s.put("a", "1");
    expect(result.revision).toBe(2);
    expect(s.state.getSync(bytes("a"), 0)).toMatchObject({ createRevision: 2, modRevision: 2, version: 1, lease: 0n });
  });

  test("each put bumps the version and the mod revision, never the create revision", async () => {
    const s = await openShard();
    await s.put("a", "1");
    await s.put("a", "2");
    await s.put("a", "3");
    const kv = s.state.getSync(bytes("a"), 0);
    expect(kv).toMatchObject({ createRevision: 1, modRevision: 3, version: 3 });
    expect(text(kv?.value)).toBe("3");
  });

  test("prevKv is returned only when asked, and only if the key existed", async () => {
    const s = await openShard();
    expect(responseOf<PutResponse>(await s.put("a", "1", { prevKv: true })).prevKv).toBeUndefined();
    expect(responseOf<PutResponse>(await s.put("a", "2")).prevKv).toBeUndefined();
    const { prevKv } = responseOf<PutResponse>(await s.put("a", "3", { prevKv: true }));
    expect(text(prevKv?.value)).toBe("2");
    expect(prevKv?.version).toBe(2);
  });

  test("ignoreValue keeps the value and still bumps the version", async () => {
    const s = await openShard();
    await s.put("a", "kept");
    await s.one({ op: "put", put: { key: bytes("a"), value: new Uint8Array(0), ignoreValue: true } });
    const kv = s.state.getSync(bytes("a"), 0);
    expect(text(kv?.value)).toBe("kept");
    expect(kv?.version).toBe(2);
  });

  test("ignoreValue on a missing key fails with etcd's key not found, changing nothing but the applied index", async () => {
    const s = await openShard();
    const hashBefore = await s.state.hash();
    const result = await s.one({ op: "put", put: { key: bytes("a"), value: new Uint8Array(0), ignoreValue: true } });
    expect(errorOf(result)).toMatchObject({ code: "INVALID_ARGUMENT", message: ETCD_ERRORS.keyNotFound });
    expect(s.state.applied.index).toBe(1);
    expect(s.state.getSync(bytes("a"), 0)).toBeUndefined();
    expect(await s.state.range({ key: bytes("\0"), rangeEnd: bytes("\0") }, 0)).toMatchObject({ count: 0 });
    expect(await s.state.hash()).not.toBe(hashBefore); // the meta moved, as it must
  });

  test("ignoreValue with a value is refused at apply too", async () => {
    const s = await openShard();
    await s.put("a", "1");
    const result = await s.one({ op: "put", put: { key: bytes("a"), value: bytes("x"), ignoreValue: true } });
    expect(errorOf(result).message).toBe(ETCD_ERRORS.valueProvided);
  });

  test("ignoreLease keeps the lease, and refuses a lease given with it", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 7n, ttlSeconds: 60 });
    await s.put("a", "1", { lease: 7n });
    await s.one({ op: "put", put: { key: bytes("a"), value: bytes("2"), ignoreLease: true } });
    expect(s.state.getSync(bytes("a"), 0)?.lease).toBe(7n);
    const refused = await s.one({ op: "put", put: { key: bytes("a"), value: bytes("3"), ignoreLease: true, lease: 7n } });
    expect(errorOf(refused).message).toBe(ETCD_ERRORS.leaseProvided);
    const missing = await s.one({ op: "put", put: { key: bytes("b"), value: bytes("3"), ignoreLease: true } });
    expect(errorOf(missing).message).toBe(ETCD_ERRORS.keyNotFound);
  });

  test("a put with an unknown lease fails NOT_FOUND and writes nothing", async () => {
    const s = await openShard();
    const result = await s.put("a", "1", { lease: 99n });
    expect(errorOf(result)).toMatchObject({ code: "NOT_FOUND", message: ETCD_ERRORS.leaseNotFound });
    expect(s.state.getSync(bytes("a"), 0)).toBeUndefined();
    expect(await s.state.events(1, bytes("a"), undefined, 10)).toEqual([]);
  });

  test("a put that fails over an expired key writes nothing, not even the expired key's deletion", async () => {
    const s = await openShard();
    await s.put("a", "1", { ttlMs: 1_000 });
    await s.put("b", "1"); // another entry, so that the failed one's batch holds more than itself
    await s.state.flushed();
    const before = await dump(s.db);
    s.setNow(s.now() + 5_000);
    const failed = await s.run(
      { op: "put", put: { key: bytes("a"), value: bytes("2"), lease: 99n } },
      { op: "put", put: { key: bytes("a"), value: new Uint8Array(0), ignoreValue: true } },
    );
    expect(failed.map((r) => errorOf(r).message)).toEqual([ETCD_ERRORS.leaseNotFound, ETCD_ERRORS.keyNotFound]);
    await s.state.flushed();
    const after = (await dump(s.db)).filter(([key]) => !key.startsWith(Buffer.from("s1/m").toString("hex")));
    expect(after).toEqual(before.filter(([key]) => !key.startsWith(Buffer.from("s1/m").toString("hex"))));
  });

  test("the empty key is refused at apply with etcd's message", async () => {
    const s = await openShard();
    const result = await s.one({ op: "put", put: { key: new Uint8Array(0), value: bytes("v") } });
    expect(errorOf(result).message).toBe(ETCD_ERRORS.emptyKey);
  });

  test("keys holding zero bytes are ordinary keys", async () => {
    const s = await openShard();
    await s.one({ op: "put", put: { key: Uint8Array.of(0), value: bytes("zero") } });
    await s.one({ op: "put", put: { key: Uint8Array.of(97, 0, 98), value: bytes("a0b") } });
    await s.one({ op: "put", put: { key: Uint8Array.of(97), value: bytes("a") } });
    expect(text(s.state.getSync(Uint8Array.of(0), 0)?.value)).toBe("zero");
    expect(text(s.state.getSync(Uint8Array.of(97, 0, 98), 0)?.value)).toBe("a0b");
    const all = await s.state.range({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) }, 0);
    expect(all.kvs.map((kv) => Buffer.from(kv.key).toString("hex"))).toEqual(["00", "61", "610062"]);
  });
});

describe("delete range", () => {
  test("deleting a single key answers deleted 1, then 0", async () => {
    const s = await openShard();
    await s.put("a", "1");
    expect(responseOf<DeleteRangeResponse>(await s.del("a")).deleted).toBe(1);
    expect(responseOf<DeleteRangeResponse>(await s.del("a")).deleted).toBe(0);
    expect(s.state.getSync(bytes("a"), 0)).toBeUndefined();
  });

  test("a range delete removes [key, rangeEnd) and nothing else", async () => {
    const s = await openShard();
    for (const key of ["a", "b", "bb", "c", "d"]) await s.put(key, key);
    expect(responseOf<DeleteRangeResponse>(await s.del("b", "d")).deleted).toBe(3);
    const left = await s.state.range({ key: bytes("a"), rangeEnd: bytes("\0") }, 0);
    expect(left.kvs.map((kv) => text(kv.key))).toEqual(["a", "d"]);
  });

  test("rangeEnd \\0 deletes every key from key on", async () => {
    const s = await openShard();
    for (const key of ["a", "b", "zzz"]) await s.put(key, key);
    expect(responseOf<DeleteRangeResponse>(await s.del("b", "\0")).deleted).toBe(2);
    expect(s.state.getSync(bytes("a"), 0)).toBeDefined();
  });

  test("prevKvs are returned only when asked", async () => {
    const s = await openShard();
    await s.put("a", "1");
    await s.put("b", "2");
    const silent = responseOf<DeleteRangeResponse>(await s.del("a"));
    expect(silent.prevKvs).toEqual([]);
    const loud = responseOf<DeleteRangeResponse>(
      await s.one({ op: "deleteRange", deleteRange: { key: bytes("a"), rangeEnd: bytes("z"), prevKv: true } }),
    );
    expect(loud.deleted).toBe(1);
    expect(loud.prevKvs.map((kv) => [text(kv.key), text(kv.value), kv.modRevision])).toEqual([["b", "2", 2]]);
  });

  test("a key put after its delete starts over at version 1 with a new create revision", async () => {
    const s = await openShard();
    await s.put("a", "1");
    await s.put("a", "2");
    await s.del("a");
    await s.put("a", "3");
    expect(s.state.getSync(bytes("a"), 0)).toMatchObject({ createRevision: 4, modRevision: 4, version: 1 });
  });
});
