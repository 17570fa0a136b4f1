import { describe, expect, test } from "vitest";
import { bytes, dump, gatedDb, openShard, text } from "./fixtures.js";

describe("writes behind apply", () => {
  test("a put is visible to point reads as soon as apply returns, before LevelDB has it", async () => {
    const gate = gatedDb();
    const s = await openShard(undefined, gate.db);
    await s.put("a", "1");
    expect(gate.waiting()).toBe(1);
    expect(await dump(gate.db)).toEqual([]);
    expect(text(s.state.getSync(bytes("a"), 0)?.value)).toBe("1");
    expect(s.state.applied.index).toBe(1);
  });

  test("later applies read through the batch in flight without waiting for it, and land together in the next batch", async () => {
    const gate = gatedDb();
    const s = await openShard(undefined, gate.db);
    await s.put("a", "1");
    const second = await s.put("a", "2", { prevKv: true });
    await s.put("b", "3");
    // Both applies answered while the first batch was still held back.
    expect(second.ok && "prevKv" in second.response && text(second.response.prevKv?.value)).toBe("1");
    expect(s.state.getSync(bytes("a"), 0)).toMatchObject({ version: 2, modRevision: 2 });
    expect(gate.waiting()).toBe(1);
    const flushed = s.state.flushed();
    gate.release();
    // The first batch landed; the two pending applies went to LevelDB as one batch.
    while (gate.waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(gate.waiting()).toBe(1);
    gate.release();
    await flushed;
    expect(gate.waiting()).toBe(0);
    const stored = await dump(gate.db);
    expect(stored.length).toBeGreaterThan(0);
    expect(text(s.state.getSync(bytes("b"), 0)?.value)).toBe("3");
  });

  test("a range read waits for the batch in flight, so it never misses an applied write", async () => {
    const gate = gatedDb();
    const s = await openShard(undefined, gate.db);
    await s.put("a", "1");
    const range = s.state.range({ key: bytes("a") }, 0);
    gate.release();
    const answer = await range;
    expect(answer.revision).toBe(1);
    expect(answer.kvs.map((kv) => text(kv.value))).toEqual(["1"]);
  });

  test("a one-key range answers from what apply wrote while LevelDB still holds the write back; a wider range waits for it", async () => {
    const gate = gatedDb();
    const s = await openShard(undefined, gate.db);
    await s.put("a", "1");
    await s.put("a", "2");
    const point = await s.state.range({ key: bytes("a") }, 0);
    expect(gate.waiting()).toBe(1);
    expect(point.revision).toBe(2);
    expect(point.kvs.map((kv) => [text(kv.value), kv.modRevision, kv.version])).toEqual([["2", 2, 2]]);
    expect((await s.state.range({ key: bytes("a"), countOnly: true }, 0)).count).toBe(1);
    expect((await s.state.range({ key: bytes("missing") }, 0)).kvs).toEqual([]);
    let wideDone = false;
    const wide = s.state.range({ key: bytes("a"), rangeEnd: bytes("b") }, 0).then((answer) => ((wideDone = true), answer));
    await new Promise((resolve) => setImmediate(resolve));
    expect(wideDone).toBe(false);
    while (gate.waiting() > 0) {
      gate.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await wide).kvs.map((kv) => text(kv.value))).toEqual(["2"]);
  });

  test("a write LevelDB refuses stops the shard: reads, applies and flushed() all fail", async () => {
    const gate = gatedDb();
    const s = await openShard(undefined, gate.db);
    await s.put("a", "1");
    gate.fail(new Error("disk full"));
    await expect(s.state.flushed()).rejects.toThrow(/disk full/);
    expect(() => s.state.getSync(bytes("a"), 0)).toThrow(/node must stop/);
    await expect(s.put("b", "2")).rejects.toThrow(/node must stop/);
    await s.state.close(); // closing still settles
  });
});
