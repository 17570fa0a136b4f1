import { describe, expect, test } from "vitest";
import type { Entry } from "../../raft/index.js";
import { type ApplyTarget, applyEntries } from "./apply.js";
import { EventIndex } from "./event_index.js";
import { encodeCommand } from "./command_codec.js";
import { KeyLayout } from "./keys.js";
import { MVCC_DEFAULTS } from "./limits.js";
import { FRESH_META, type ShardMeta, decodeMeta } from "./meta.js";
import { bytes, confAt, dump, memoryDb } from "./fixtures.js";
import { DbSource, type MvccBatchOp, type MvccDb, type Overlay } from "./store.js";

const puts = (count: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({
    term: 1,
    index: i + 1,
    type: "normal" as const,
    data: encodeCommand({ header: { nowMs: 5, requestId: 0n }, op: "put", put: { key: bytes(`k${i % 3}`), value: bytes(`v${i}`) } }),
  }));

/** Writes each batch straight to `db`, recording its ops and the meta published with it. */
async function target(db: MvccDb, batchBytesMax: number, published: ShardMeta[], batches: MvccBatchOp[][] = []): Promise<ApplyTarget> {
  await db.open();
  const t = {
    base: new DbSource(db),
    layout: new KeyLayout(bytes("t/")),
    limits: MVCC_DEFAULTS,
    batchBytesMax,
    meta: FRESH_META,
    eventIndex: new EventIndex(0, 0),
    async write(batch: Overlay, meta: ShardMeta) {
      const ops = batch.batchOps();
      batch.clear();
      batches.push(ops);
      await db.batch(ops);
      published.push(meta);
      t.meta = meta;
    },
  };
  return t;
}

describe("applyEntries", () => {
  test("one call writes one batch whose meta covers its last entry", async () => {
    const db = memoryDb();
    const published: ShardMeta[] = [];
    await applyEntries(await target(db, Infinity, published), puts(10), confAt);
    expect(published.map((m) => m.appliedIndex)).toEqual([10]);
  });

  test("a batch over batchBytesMax is written at the next entry boundary, each carrying its own applied index", async () => {
    const db = memoryDb();
    const published: ShardMeta[] = [];
    const batches: MvccBatchOp[][] = [];
    const t = await target(db, 1, published, batches);
    await applyEntries(t, puts(5), confAt);
    expect(published.map((m) => m.appliedIndex)).toEqual([1, 2, 3, 4, 5]);
    const metaOf = (ops: MvccBatchOp[]) => {
      const op = ops.find((o) => o.type === "put" && Buffer.from(o.key).equals(t.layout.meta));
      return op?.type === "put" ? decodeMeta(op.value).appliedIndex : undefined;
    };
    expect(batches.map(metaOf)).toEqual([1, 2, 3, 4, 5]);

    const single = memoryDb();
    await applyEntries(await target(single, Infinity, []), puts(5), confAt);
    expect(await dump(db)).toEqual(await dump(single));
  });

  test("a call whose entries were all applied writes nothing", async () => {
    const db = memoryDb();
    const published: ShardMeta[] = [];
    const t = await target(db, Infinity, published);
    await applyEntries(t, puts(3), confAt);
    const results = await applyEntries(t, puts(3), confAt);
    expect(results).toEqual([]);
    expect(published.length).toBe(1);
  });
});
