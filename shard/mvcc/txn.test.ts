import { describe, expect, test } from "vitest";
import { bytes, errorOf, openShard, responseOf, text } from "./fixtures.js";
import { ETCD_ERRORS } from "./errors.js";
import type { Compare, RangeResponse, RequestOp, TxnRequest, TxnResponse } from "./requests.js";

const put = (key: string, value: string): RequestOp => ({ put: { key: bytes(key), value: bytes(value) } });
const get = (key: string, rangeEnd?: string): RequestOp => ({
  range: rangeEnd === undefined ? { key: bytes(key) } : { key: bytes(key), rangeEnd: bytes(rangeEnd) },
});
const cmp = (key: string, target: Compare["target"], result: Compare["result"], value: Compare["value"], rangeEnd?: string): Compare =>
  rangeEnd === undefined ? { key: bytes(key), target, result, value } : { key: bytes(key), rangeEnd: bytes(rangeEnd), target, result, value };

async function txn(s: Awaited<ReturnType<typeof openShard>>, request: TxnRequest): Promise<TxnResponse> {
  return responseOf<TxnResponse>(await s.one({ op: "txn", txn: request }));
}

describe("txn", () => {
  test("a missing key compares as version 0, create 0, mod 0 and lease 0", async () => {
    const s = await openShard();
    for (const target of ["version", "create", "mod"] as const) {
      expect((await txn(s, { compare: [cmp("x", target, "equal", 0)], success: [], failure: [] })).succeeded).toBe(true);
      expect((await txn(s, { compare: [cmp("x", target, "greater", 0)], success: [], failure: [] })).succeeded).toBe(false);
    }
    expect((await txn(s, { compare: [cmp("x", "lease", "equal", 0n)], success: [], failure: [] })).succeeded).toBe(true);
  });

  test("a value compare on a missing key is false, whatever the result asked", async () => {
    const s = await openShard();
    for (const result of ["equal", "notEqual", "less", "greater"] as const) {
      expect((await txn(s, { compare: [cmp("x", "value", result, bytes(""))], success: [], failure: [] })).succeeded).toBe(false);
    }
  });

  test("create-if-absent: the first txn puts, the second takes the failure branch and reads", async () => {
    const s = await openShard();
    const create: TxnRequest = { compare: [cmp("lock", "create", "equal", 0)], success: [put("lock", "me")], failure: [get("lock")] };
    expect((await txn(s, create)).succeeded).toBe(true);
    const second = await txn(s, create);
    expect(second.succeeded).toBe(false);
    const [response] = second.responses;
    expect(response !== undefined && "range" in response ? text(response.range.kvs[0]?.value) : undefined).toBe("me");
  });

  test("value, mod and version compares read the key's fields", async () => {
    const s = await openShard();
    await s.put("k", "b");
    await s.put("k", "c");
    const ok = (compare: Compare) => txn(s, { compare: [compare], success: [], failure: [] }).then((r) => r.succeeded);
    expect(await ok(cmp("k", "value", "equal", bytes("c")))).toBe(true);
    expect(await ok(cmp("k", "value", "greater", bytes("b")))).toBe(true);
    expect(await ok(cmp("k", "value", "less", bytes("b")))).toBe(false);
    expect(await ok(cmp("k", "mod", "equal", 2))).toBe(true);
    expect(await ok(cmp("k", "version", "less", 3))).toBe(true);
    expect(await ok(cmp("k", "create", "notEqual", 1))).toBe(false);
  });

  test("a compare over a range holds only if every key in it matches", async () => {
    const s = await openShard();
    await s.put("p/a", "1");
    await s.put("p/b", "1");
    const ok = (compare: Compare) => txn(s, { compare: [compare], success: [], failure: [] }).then((r) => r.succeeded);
    expect(await ok(cmp("p/", "version", "equal", 1, "p0"))).toBe(true);
    await s.put("p/b", "2");
    expect(await ok(cmp("p/", "version", "equal", 1, "p0"))).toBe(false);
    expect(await ok(cmp("p/", "value", "greater", bytes("0"), "p0"))).toBe(true);
    expect(await ok(cmp("q/", "version", "equal", 0, "q0"))).toBe(true); // an empty range compares as a missing key
  });

  test("reads inside a txn see the txn's earlier writes, and all its writes carry one revision", async () => {
    const s = await openShard();
    await s.put("a", "old");
    const response = await txn(s, {
      compare: [],
      success: [put("a", "new"), put("b", "fresh"), get("a", "c"), { deleteRange: { key: bytes("b") } }, get("b")],
      failure: [],
    });
    const reads = response.responses.filter((r): r is { range: RangeResponse } => "range" in r);
    expect(reads[0]?.range.kvs.map((kv) => [text(kv.key), text(kv.value), kv.modRevision])).toEqual([
      ["a", "new", 2],
      ["b", "fresh", 2],
    ]);
    expect(reads[1]?.range.count).toBe(0);
    const events = await s.state.events(2, bytes("\0"), bytes("\0"), 10);
    expect(events.map((e) => [e.type, text(e.kv.key), e.kv.modRevision])).toEqual([
      ["put", "a", 2],
      ["put", "b", 2],
      ["delete", "b", 2],
    ]);
  });

  test("a nested txn runs its own compares against the outer txn's writes", async () => {
    const s = await openShard();
    const response = await txn(s, {
      compare: [],
      success: [
        put("a", "1"),
        { txn: { compare: [cmp("a", "version", "equal", 1)], success: [put("b", "inner-then")], failure: [put("b", "inner-else")] } },
      ],
      failure: [],
    });
    const nested = response.responses[1];
    expect(nested !== undefined && "txn" in nested && nested.txn.succeeded).toBe(true);
    expect(text(s.state.getSync(bytes("b"), 0)?.value)).toBe("inner-then");
  });

  test("an op that fails fails the whole txn, and none of its writes remain", async () => {
    const s = await openShard();
    await s.put("a", "before");
    const result = await s.one({
      op: "txn",
      txn: { compare: [], success: [put("a", "after"), { put: { key: bytes("b"), value: bytes("x"), lease: 42n } }], failure: [] },
    });
    expect(errorOf(result)).toMatchObject({ code: "NOT_FOUND", message: ETCD_ERRORS.leaseNotFound });
    expect(text(s.state.getSync(bytes("a"), 0)?.value)).toBe("before");
    expect(s.state.getSync(bytes("b"), 0)).toBeUndefined();
    expect((await s.state.events(2, bytes("\0"), bytes("\0"), 10)).length).toBe(0);
    expect(s.state.revision).toBe(2);
  });

  test("a lease compare sees the key's lease", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 5n, ttlSeconds: 10 });
    await s.put("k", "v", { lease: 5n });
    expect((await txn(s, { compare: [cmp("k", "lease", "equal", 5n)], success: [], failure: [] })).succeeded).toBe(true);
    expect((await txn(s, { compare: [cmp("k", "lease", "less", 5n)], success: [], failure: [] })).succeeded).toBe(false);
  });

  test("a compare with a value of the wrong type is false rather than a crash", async () => {
    const s = await openShard();
    await s.put("k", "v");
    expect((await txn(s, { compare: [cmp("k", "version", "equal", bytes("1"))], success: [], failure: [] })).succeeded).toBe(false);
  });
});
