import { describe, expect, test } from "vitest";
import { bytes, dump, openShard, responseOf } from "./fixtures.js";
import { ShardState } from "./shard_state.js";
import type { PurgeTombstonesResponse } from "./requests.js";

describe("tombstones", () => {
  test("deletes leave tombstones that tombstonesBefore counts by deletion revision", async () => {
    const s = await openShard();
    await s.put("a", "v");
    await s.put("b", "v");
    await s.del("a"); // rev 3
    await s.del("b"); // rev 4
    expect(await s.state.tombstonesBefore(4, 100)).toBe(1);
    expect(await s.state.tombstonesBefore(5, 100)).toBe(2);
    expect(await s.state.tombstonesBefore(5, 1)).toBe(1);
  });

  test("purging removes tombstones deleted before the revision, and only those", async () => {
    const s = await openShard();
    await s.put("a", "v");
    await s.put("b", "v");
    await s.del("a");
    await s.del("b");
    await s.state.flushed();
    const before = (await dump(s.db)).length;
    expect(responseOf<PurgeTombstonesResponse>(await s.one({ op: "purgeTombstones", beforeRevision: 4 })).purged).toBe(1);
    expect(await s.state.tombstonesBefore(100, 100)).toBe(1);
    await s.state.flushed();
    expect((await dump(s.db)).length).toBe(before - 2); // the tombstone record and its index entry
  });

  test("a key put again after its delete has no tombstone left to purge", async () => {
    const s = await openShard();
    await s.put("a", "v");
    await s.del("a");
    await s.put("a", "back");
    expect(await s.state.tombstonesBefore(100, 100)).toBe(0);
    await s.one({ op: "purgeTombstones", beforeRevision: 100 });
    expect(s.state.getSync(bytes("a"), 0)?.version).toBe(1);
  });

  test("a deleted key stays deleted after purge and reopen", async () => {
    const s = await openShard();
    await s.put("a", "v");
    await s.del("a");
    await s.one({ op: "purgeTombstones", beforeRevision: 100 });
    const reopened = await ShardState.open({ db: s.db, prefix: s.state.prefix });
    expect(reopened.getSync(bytes("a"), 0)).toBeUndefined();
    expect(await reopened.range({ key: bytes("\0"), rangeEnd: bytes("\0") }, 0)).toMatchObject({ count: 0 });
  });
});
