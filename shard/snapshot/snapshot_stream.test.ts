import { MemoryLevel } from "memory-level";
import { describe, expect, it } from "vitest";
import { type LevelDb, prefixEnd, replicaPrefix } from "../keyspace.js";
import { SnapshotFormatError } from "./snapshot_format.js";
import { commitStaged, currentGeneration, SnapshotSink } from "./snapshot_sink.js";
import { SnapshotSource } from "./snapshot_source.js";

async function newDb(): Promise<LevelDb> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  return db;
}

const bytes = (s: string): Uint8Array => Buffer.from(s);

async function fill(db: LevelDb, prefix: Uint8Array, count: number): Promise<void> {
  await db.batch(
    Array.from({ length: count }, (_, i) => ({
      type: "put" as const,
      key: Buffer.concat([prefix, bytes(`key-${String(i).padStart(5, "0")}`)]),
      value: Buffer.alloc(i % 300, i % 251),
    })),
  );
}

async function dump(db: LevelDb, prefix: Uint8Array): Promise<[string, string][]> {
  const pairs = await db.iterator({ gte: prefix, lt: prefixEnd(prefix) }).all();
  return pairs.map(([k, v]) => [Buffer.from(k.subarray(prefix.length)).toString("hex"), Buffer.from(v).toString("hex")]);
}

async function collect(source: SnapshotSource, chunkBytes: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.chunks(chunkBytes)) chunks.push(chunk);
  return chunks;
}

describe("streamed snapshots", () => {
  it("copy one replica's prefix, in bounded chunks, into a new generation that becomes current", async () => {
    const db = await newDb();
    const old = replicaPrefix(3, 0);
    await fill(db, old, 2_000);
    await fill(db, replicaPrefix(4, 0), 10); // another group's state must not travel
    const chunks = await collect(SnapshotSource.take(db, old), 8 * 1024);
    expect(chunks.length).toBeGreaterThan(20);
    for (const chunk of chunks.slice(0, -2)) expect(chunk.byteLength).toBeLessThan(8 * 1024 + 400);

    const sink = await SnapshotSink.begin(db, 3);
    expect(sink.generation).toBe(1);
    for (const chunk of chunks) await sink.write(chunk);
    const staged = sink.finish();
    expect(staged.trailer.pairs).toBe(2_000);
    expect(await currentGeneration(db, 3)).toBe(0);
    const before = await dump(db, old);
    await commitStaged(db, staged);
    expect(await currentGeneration(db, 3)).toBe(1);
    expect(await dump(db, replicaPrefix(3, 1))).toEqual(before);
    // The old generation is gone; the other group is untouched.
    expect(await dump(db, old)).toEqual([]);
    expect((await dump(db, replicaPrefix(4, 0))).length).toBe(10);
  });

  it("see the state as of the moment the source was taken, not writes made while streaming", async () => {
    const db = await newDb();
    const prefix = replicaPrefix(1, 0);
    await fill(db, prefix, 100);
    const source = SnapshotSource.take(db, prefix);
    await db.put(Buffer.concat([prefix, bytes("late")]), bytes("x"));
    await db.del(Buffer.concat([prefix, bytes("key-00000")]));
    const sink = await SnapshotSink.begin(db, 1);
    for (const chunk of await collect(source, 1024)) await sink.write(chunk);
    const staged = sink.finish();
    const keys = (await dump(db, staged.prefix)).map(([k]) => Buffer.from(k, "hex").toString());
    expect(keys).toHaveLength(100);
    expect(keys).toContain("key-00000");
    expect(keys).not.toContain("late");
  });

  it("refuse a stream whose bytes were damaged, and leave the current state in force", async () => {
    const db = await newDb();
    const prefix = replicaPrefix(2, 0);
    await fill(db, prefix, 50);
    const chunks = await collect(SnapshotSource.take(db, prefix), 512);
    const damaged = Uint8Array.from(chunks[1]!);
    damaged[damaged.length - 1]! ^= 0x10;
    const sink = await SnapshotSink.begin(db, 2);
    for (const chunk of [chunks[0]!, damaged, ...chunks.slice(2, -1)]) await sink.write(chunk);
    await expect(sink.write(chunks[chunks.length - 1]!)).rejects.toThrow(SnapshotFormatError);
    expect(() => sink.finish()).toThrow(/ended before its trailer/);
    await sink.abort();
    expect(await dump(db, sink.prefix)).toEqual([]);
    expect(await currentGeneration(db, 2)).toBe(0);
    expect((await dump(db, prefix)).length).toBe(50);
  });

  it("refuse a stream cut short, and clear the leftovers of a crashed install at the next attempt", async () => {
    const db = await newDb();
    const prefix = replicaPrefix(5, 0);
    await fill(db, prefix, 30);
    const chunks = await collect(SnapshotSource.take(db, prefix), 256);
    const first = await SnapshotSink.begin(db, 5);
    for (const chunk of chunks.slice(0, 3)) await first.write(chunk);
    expect(() => first.finish()).toThrow(SnapshotFormatError);
    // As if the node crashed here: the next attempt starts from a clean generation.
    const second = await SnapshotSink.begin(db, 5);
    expect(second.generation).toBe(first.generation);
    expect(await dump(db, second.prefix)).toEqual([]);
    for (const chunk of chunks) await second.write(chunk);
    await commitStaged(db, second.finish());
    expect((await dump(db, replicaPrefix(5, 1))).length).toBe(30);
  });

  it("stream an empty replica as a trailer alone", async () => {
    const db = await newDb();
    const chunks = await collect(SnapshotSource.take(db, replicaPrefix(9, 0)), 1024);
    expect(chunks).toHaveLength(1);
    const sink = await SnapshotSink.begin(db, 9);
    await sink.write(chunks[0]!);
    expect(sink.finish().trailer).toEqual({ pairs: 0, bytes: 0, crc: 0 });
  });
});
