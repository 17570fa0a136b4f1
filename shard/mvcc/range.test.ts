import { beforeEach, describe, expect, test } from "vitest";
import { bytes, openShard, text } from "./fixtures.js";
import { ETCD_ERRORS, MvccError } from "./errors.js";
import type { RangeRequest } from "./requests.js";

type Shard = Awaited<ReturnType<typeof openShard>>;
const ALL = { key: bytes("\0"), rangeEnd: bytes("\0") };
const keysOf = (kvs: { key: Uint8Array }[]) => kvs.map((kv) => text(kv.key));

describe("range", () => {
  let s: Shard;
  // rev 1 a, 2 b, 3 c, 4 a again (a: version 2, mod 4), 5 d, 6 b again (mod 6), values chosen to sort differently
  beforeEach(async () => {
    s = await openShard();
    await s.put("a", "m");
    await s.put("b", "z");
    await s.put("c", "a");
    await s.put("a", "q");
    await s.put("d", "b");
    await s.put("b", "y");
  });
  const range = (req: Partial<RangeRequest>) => s.state.range({ ...ALL, ...req }, 0);

  test("a single key is read with no rangeEnd", async () => {
    const answer = await s.state.range({ key: bytes("a") }, 0);
    expect(keysOf(answer.kvs)).toEqual(["a"]);
    expect(answer).toMatchObject({ count: 1, more: false, revision: 6 });
    expect(await s.state.range({ key: bytes("nope") }, 0)).toMatchObject({ kvs: [], count: 0 });
  });

  test("[key, rangeEnd) is half open", async () => {
    expect(keysOf((await range({ key: bytes("b"), rangeEnd: bytes("d") })).kvs)).toEqual(["b", "c"]);
  });

  test("rangeEnd \\0 means every key >= key; key \\0 with it means all keys", async () => {
    expect(keysOf((await range({ key: bytes("c"), rangeEnd: bytes("\0") })).kvs)).toEqual(["c", "d"]);
    expect(keysOf((await range({})).kvs)).toEqual(["a", "b", "c", "d"]);
  });

  test("a rangeEnd at or before the key selects nothing", async () => {
    expect(await range({ key: bytes("c"), rangeEnd: bytes("b") })).toMatchObject({ kvs: [], count: 0 });
  });

  test("limit cuts the answer, count is still every key, more says it was cut", async () => {
    expect(await range({ limit: 2 })).toMatchObject({ count: 4, more: true });
    expect(keysOf((await range({ limit: 2 })).kvs)).toEqual(["a", "b"]);
    expect(await range({ limit: 4 })).toMatchObject({ count: 4, more: false });
  });

  test("descending by mod revision with a limit gives the most recently changed keys", async () => {
    const answer = await range({ sortOrder: "descend", sortTarget: "mod", limit: 2 });
    expect(keysOf(answer.kvs)).toEqual(["b", "d"]);
    expect(answer).toMatchObject({ count: 4, more: true });
  });

  test("a sort target without an order sorts ascending, as etcd does", async () => {
    expect(keysOf((await range({ sortTarget: "value" })).kvs)).toEqual(["c", "d", "a", "b"]);
    expect(keysOf((await range({ sortTarget: "create" })).kvs)).toEqual(["a", "b", "c", "d"]);
  });

  test("descending by key reverses key order; ties on version keep key order", async () => {
    expect(keysOf((await range({ sortOrder: "descend" })).kvs)).toEqual(["d", "c", "b", "a"]);
    expect(keysOf((await range({ sortOrder: "descend", sortTarget: "version" })).kvs)).toEqual(["a", "b", "c", "d"]);
    expect(keysOf((await range({ sortOrder: "ascend", sortTarget: "version" })).kvs)).toEqual(["c", "d", "a", "b"]);
  });

  test("keysOnly drops values, countOnly drops kvs", async () => {
    const keysOnly = await range({ keysOnly: true });
    expect(keysOnly.kvs.map((kv) => kv.value.length)).toEqual([0, 0, 0, 0]);
    expect(keysOnly.kvs[0]?.version).toBe(2);
    expect(await range({ countOnly: true })).toMatchObject({ kvs: [], count: 4, more: false });
    expect(await range({ countOnly: true, limit: 1 })).toMatchObject({ kvs: [], count: 4, more: false });
  });

  test("min/max revision filters apply after counting, as etcd does", async () => {
    const modded = await range({ minModRevision: 4 });
    expect(keysOf(modded.kvs)).toEqual(["a", "b", "d"]);
    expect(modded.count).toBe(4);
    expect(keysOf((await range({ maxModRevision: 3 })).kvs)).toEqual(["c"]);
    expect(keysOf((await range({ minCreateRevision: 2, maxCreateRevision: 3 })).kvs)).toEqual(["b", "c"]);
    const limited = await range({ minModRevision: 4, limit: 2 });
    expect(keysOf(limited.kvs)).toEqual(["a", "b"]);
    expect(limited.more).toBe(true);
  });

  test("a past revision is answered from the retained events", async () => {
    await s.del("c");
    const atThree = await range({ revision: 3 });
    expect(keysOf(atThree.kvs)).toEqual(["a", "b", "c"]);
    expect(atThree.kvs.map((kv) => text(kv.value))).toEqual(["m", "z", "a"]);
    expect(atThree.kvs[0]).toMatchObject({ version: 1, modRevision: 1 });
    expect(atThree.revision).toBe(7);
    expect(keysOf((await range({ revision: 6 })).kvs)).toEqual(["a", "b", "c", "d"]);
    expect(keysOf((await range({ revision: 7 })).kvs)).toEqual(["a", "b", "d"]);
    expect(await range({ revision: 1, key: bytes("b"), rangeEnd: bytes("\0"), countOnly: true })).toMatchObject({ count: 0 });
  });

  test("a future revision is OUT_OF_RANGE with etcd's message", async () => {
    await expect(range({ revision: 7 })).rejects.toThrow(ETCD_ERRORS.futureRevision);
    await expect(range({ revision: 7 })).rejects.toMatchObject({ code: "OUT_OF_RANGE" });
  });

  test("a revision before the compaction is OUT_OF_RANGE compacted; the compaction revision itself still reads", async () => {
    await s.one({ op: "compact", revision: 4 });
    await expect(range({ revision: 3 })).rejects.toThrow(ETCD_ERRORS.compacted);
    const atFour = await range({ revision: 4 });
    expect(keysOf(atFour.kvs)).toEqual(["a", "b", "c"]);
    expect(atFour.kvs.map((kv) => text(kv.value))).toEqual(["q", "z", "a"]);
  });

  test("an empty key is refused", async () => {
    await expect(s.state.range({ key: new Uint8Array(0) }, 0)).rejects.toBeInstanceOf(MvccError);
  });
});
