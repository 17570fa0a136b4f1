import { describe, expect, test } from "vitest";
import { bytes, openShard, responseOf, text } from "./fixtures.js";
import type { ExpireKeysResponse, PutResponse, TxnResponse } from "./requests.js";

describe("per-key TTL", () => {
  test("a key whose TTL passed is absent from every read before its expiry applies", async () => {
    const s = await openShard();
    s.setNow(10_000);
    await s.put("k", "v", { ttlMs: 500 });
    expect(s.state.getSync(bytes("k"), 10_499)?.expiresAtMs).toBe(10_500);
    expect(s.state.getSync(bytes("k"), 10_500)).toBeUndefined();
    expect(await s.state.range({ key: bytes("k") }, 10_500)).toMatchObject({ kvs: [], count: 0 });
    expect(await s.state.range({ key: bytes("a"), rangeEnd: bytes("z") }, 10_500)).toMatchObject({ count: 0 });
    expect(await s.state.range({ key: bytes("a"), rangeEnd: bytes("z") }, 10_000)).toMatchObject({ count: 1 });
  });

  test("expiredKeys lists keys in expiry order up to the limit", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("late", "v", { ttlMs: 300 });
    await s.put("early", "v", { ttlMs: 100 });
    await s.put("mid", "v", { ttlMs: 200 });
    await s.put("never", "v");
    expect((await s.state.expiredKeys(250, 10)).map(text)).toEqual(["early", "mid"]);
    expect((await s.state.expiredKeys(1_000, 2)).map(text)).toEqual(["early", "mid"]);
    expect(await s.state.expiredKeys(99, 10)).toEqual([]);
  });

  test("expireKeys deletes expired keys with delete events and skips a key re-put without a TTL", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("gone", "v", { ttlMs: 100 });
    await s.put("saved", "v", { ttlMs: 100 });
    const proposed = await s.state.expiredKeys(100, 10); // the leader decides at 100...
    await s.put("saved", "again"); // ...but the key is put again, without a TTL, first
    s.setNow(100);
    const result = await s.one({ op: "expireKeys", keys: proposed });
    expect(responseOf<ExpireKeysResponse>(result).deleted).toBe(1);
    expect(s.state.getSync(bytes("gone"), 0)).toBeUndefined();
    expect(text(s.state.getSync(bytes("saved"), 1_000_000)?.value)).toBe("again");
    expect(await s.state.expiredKeys(1_000_000, 10)).toEqual([]);
    const events = await s.state.events(4, bytes("\0"), bytes("\0"), 10);
    expect(events.map((e) => [e.type, text(e.kv.key)])).toEqual([["delete", "gone"]]);
  });

  test("expireKeys does not delete a key whose TTL has not passed at the command's time", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("k", "v", { ttlMs: 100 });
    s.setNow(99);
    expect(responseOf<ExpireKeysResponse>(await s.one({ op: "expireKeys", keys: [bytes("k")] })).deleted).toBe(0);
    expect(s.state.getSync(bytes("k"), 0)).toBeDefined();
  });

  test("apply's clock never goes back: an entry from a lagging leader still sees the key expired", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("k", "v", { ttlMs: 100 });
    s.setNow(200);
    await s.put("other", "v");
    s.setNow(50); // a new leader with a slow clock
    expect(responseOf<ExpireKeysResponse>(await s.one({ op: "expireKeys", keys: [bytes("k")] })).deleted).toBe(1);
  });

  test("a write to an expired key first deletes it, then creates it anew", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("k", "old", { ttlMs: 100 });
    s.setNow(100);
    const put = responseOf<PutResponse>(await s.put("k", "new", { prevKv: true }));
    expect(put.prevKv).toBeUndefined();
    expect(s.state.getSync(bytes("k"), 100)).toMatchObject({ version: 1, createRevision: 2 });
    const events = await s.state.events(2, bytes("k"), undefined, 10);
    expect(events.map((e) => [e.type, text(e.prevKv?.value)])).toEqual([
      ["delete", "old"],
      ["put", undefined],
    ]);
  });

  test("txn compares treat an expired key as absent", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("k", "v", { ttlMs: 100 });
    s.setNow(100);
    const result = await s.one({
      op: "txn",
      txn: { compare: [{ key: bytes("k"), target: "version", result: "equal", value: 0 }], success: [], failure: [] },
    });
    expect(responseOf<TxnResponse>(result).succeeded).toBe(true);
  });

  test("a put without ttlMs clears the TTL", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("k", "v", { ttlMs: 100 });
    await s.put("k", "v2");
    expect(s.state.getSync(bytes("k"), 10_000)?.expiresAtMs).toBeUndefined();
    expect(await s.state.expiredKeys(10_000, 10)).toEqual([]);
  });

  test("a deleteRange over an expired key deletes it without counting it", async () => {
    const s = await openShard();
    s.setNow(0);
    await s.put("a", "v", { ttlMs: 100 });
    await s.put("b", "v");
    s.setNow(100);
    const result = await s.one({ op: "deleteRange", deleteRange: { key: bytes("a"), rangeEnd: bytes("z"), prevKv: true } });
    expect(responseOf<{ deleted: number; prevKvs: unknown[] }>(result)).toMatchObject({ deleted: 1 });
    expect(await s.state.expiredKeys(1_000, 10)).toEqual([]);
  });
});
