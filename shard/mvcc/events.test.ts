import { describe, expect, test } from "vitest";
import { bytes, errorOf, openShard, text } from "./fixtures.js";
import { ETCD_ERRORS } from "./errors.js";
import { eventTrimSlack } from "./events.js";

const ALL = [bytes("\0"), bytes("\0")] as const;

describe("events", () => {
  test("every put and delete appends an event with the previous kv", async () => {
    const s = await openShard();
    await s.put("a", "1");
    await s.put("a", "2");
    await s.del("a");
    const events = await s.state.events(1, bytes("a"), undefined, 100);
    expect(events.map((e) => [e.type, text(e.kv.value), e.kv.modRevision, text(e.prevKv?.value)])).toEqual([
      ["put", "1", 1, undefined],
      ["put", "2", 2, "1"],
      ["delete", "", 3, "2"],
    ]);
    expect(events[2]?.kv).toMatchObject({ createRevision: 0, version: 0, lease: 0n });
  });

  test("events are filtered by key range and start at fromRevision inclusive", async () => {
    const s = await openShard();
    for (const key of ["a", "b", "c", "b"]) await s.put(key, key);
    const events = await s.state.events(2, bytes("b"), bytes("c"), 100);
    expect(events.map((e) => e.kv.modRevision)).toEqual([2, 4]);
  });

  test("a limit never splits the events of one revision", async () => {
    const s = await openShard();
    for (const key of ["a", "b", "c"]) await s.put(key, key);
    await s.del("a", "z"); // three events at revision 4
    await s.put("d", "d");
    const events = await s.state.events(4, ...ALL, 1);
    expect(events.map((e) => [e.type, e.kv.modRevision])).toEqual([
      ["delete", 4],
      ["delete", 4],
      ["delete", 4],
    ]);
  });

  test("compaction drops events up to its revision and refuses watches from there", async () => {
    const s = await openShard();
    for (const key of ["a", "b", "c"]) await s.put(key, key);
    await s.one({ op: "compact", revision: 2 });
    expect(s.state.compactRevision).toBe(2);
    await expect(s.state.events(2, ...ALL, 10)).rejects.toThrow(ETCD_ERRORS.compacted);
    expect((await s.state.events(3, ...ALL, 10)).map((e) => e.kv.modRevision)).toEqual([3]);
  });

  test("a compaction at a future or already compacted revision fails OUT_OF_RANGE", async () => {
    const s = await openShard();
    await s.put("a", "1");
    expect(errorOf(await s.one({ op: "compact", revision: 5 }))).toMatchObject({ code: "OUT_OF_RANGE", message: ETCD_ERRORS.futureRevision });
    expect(errorOf(await s.one({ op: "compact", revision: 0 })).message).toBe(ETCD_ERRORS.compacted);
    await s.one({ op: "compact", revision: 2 });
    expect(errorOf(await s.one({ op: "compact", revision: 2 }))).toMatchObject({ code: "OUT_OF_RANGE", message: ETCD_ERRORS.compacted });
  });

  test("the event log keeps at most eventsRetainedMax events and compactRevision follows the trim", async () => {
    const max = 16;
    const s = await openShard({ eventsRetainedMax: max });
    for (let i = 1; i <= max; i++) await s.put(`k${i}`, "v");
    expect(s.state.compactRevision).toBe(0);
    await s.put("one-more", "v"); // 17 events: trimmed to max - slack
    const kept = max - eventTrimSlack(max);
    const events = await s.state.events(s.state.compactRevision + 1, ...ALL, 1000);
    expect(events.length).toBe(kept);
    expect(s.state.compactRevision).toBe(17 - kept);
    expect(events[0]?.kv.modRevision).toBe(s.state.compactRevision + 1);
    await expect(s.state.range({ key: bytes("k1"), revision: s.state.compactRevision - 1 }, 0)).rejects.toThrow(ETCD_ERRORS.compacted);
    for (let i = 0; i < 100; i++) await s.put(`more${i}`, "v");
    expect((await s.state.events(s.state.compactRevision + 1, ...ALL, 1000)).length).toBeLessThanOrEqual(max);
  });

  test("a trim never cuts a revision in half", async () => {
    const s = await openShard({ eventsRetainedMax: 4 }); // slack 0: trim down to 4
    const threePuts = (prefix: string) => ({
      op: "txn" as const,
      txn: { compare: [], success: ["a", "b", "c"].map((k) => ({ put: { key: bytes(prefix + k), value: bytes("v") } })), failure: [] },
    });
    await s.one(threePuts("x")); // 3 events at revision 1
    await s.one(threePuts("y")); // 6 events: 4 would cut revision 1, so all of it goes
    const events = await s.state.events(s.state.compactRevision + 1, ...ALL, 1000);
    expect(events.map((e) => e.kv.modRevision)).toEqual([2, 2, 2]);
    expect(s.state.compactRevision).toBe(1);
  });

  test("a historical read inside the window sees deleted keys with their old values", async () => {
    const s = await openShard();
    await s.put("a", "1");
    await s.put("b", "1");
    await s.put("a", "2");
    await s.del("a", "c");
    const at3 = await s.state.range({ key: bytes("a"), rangeEnd: bytes("c"), revision: 3 }, 0);
    expect(at3.kvs.map((kv) => [text(kv.key), text(kv.value), kv.version])).toEqual([
      ["a", "2", 2],
      ["b", "1", 1],
    ]);
  });
});
