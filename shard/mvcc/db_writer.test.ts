import { describe, expect, test } from "vitest";
import { DbWriter } from "./db_writer.js";
import { bytes, dump, gatedDb } from "./fixtures.js";
import type { MvccChainedBatch } from "./store.js";

const put = (key: string) => (batch: MvccChainedBatch) => batch.put(bytes(key), bytes(`v-${key}`));
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("the database's shared writer", () => {
  test("writes at once when idle, and merges what comes meanwhile into one write after it", async () => {
    const gate = gatedDb();
    await gate.db.open();
    const writer = new DbWriter(gate.db);
    const first = writer.write(put("shard1/a"));
    expect(gate.writes()).toBe(1);
    const second = writer.write(put("shard2/a"));
    const third = writer.write(put("shard3/a"));
    expect(gate.writes()).toBe(1);
    gate.release();
    await first;
    await settle();
    expect(gate.writes()).toBe(2);
    gate.release();
    await Promise.all([second, third]);
    expect((await dump(gate.db)).length).toBe(3);
  });

  test("a failed write fails every submission merged into it, and the writer goes on with the next", async () => {
    const gate = gatedDb();
    await gate.db.open();
    const writer = new DbWriter(gate.db);
    const first = writer.write(put("a"));
    const merged = [writer.write(put("b")), writer.write(put("c"))];
    gate.release();
    await first;
    await settle();
    gate.fail(new Error("disk full"));
    for (const submission of merged) await expect(submission).rejects.toThrow(/disk full/);
    const later = writer.write(put("d"));
    gate.release();
    await later;
    expect((await dump(gate.db)).length).toBe(2);
  });
});
