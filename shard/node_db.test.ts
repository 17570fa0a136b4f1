import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { ClassicLevel } from "classic-level";
import { afterAll, describe, expect, it } from "vitest";
import { diskDir } from "../test/support/disk_dir.js";
import { replicaPrefix } from "./keyspace.js";
import { approximatePrefixBytes, compactAll, filesBytes, openNodeDb } from "./node_db.js";

const dir = diskDir("shardkv-node-db-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the size of one replica's prefix", () => {
  it("counts the bytes under the prefix once they reached LevelDB's files, and not another replica's", async () => {
    const db = await openNodeDb(join(dir, "db"));
    const mine = replicaPrefix(3, 0);
    // Random bytes do not compress: the estimate reflects what was written.
    for (let i = 0; i < 512; i++) await db.put(Buffer.concat([mine, Buffer.from(`key${i}`)]), randomBytes(1024));
    await (db as unknown as ClassicLevel<Uint8Array, Uint8Array>).compactRange(mine, Buffer.from([0xff]));
    expect(await approximatePrefixBytes(db, mine)).toBeGreaterThan(256 * 1024);
    expect(await approximatePrefixBytes(db, replicaPrefix(4, 0))).toBe(0);
    await db.close();
  });
});

describe("the whole database on disk", () => {
  it("counts its files' bytes at once, and a full compaction gives back what deleted keys took", async () => {
    const path = join(dir, "whole");
    const db = await openNodeDb(path);
    const prefix = replicaPrefix(5, 0);
    const key = (i: number): Buffer => Buffer.concat([prefix, Buffer.from(`key${i}`)]);
    for (let i = 0; i < 1024; i++) await db.put(key(i), randomBytes(1024));
    // Still in the memtable: LevelDB's log holds it on disk, which approximateSize does not count.
    expect(await filesBytes(path)).toBeGreaterThan(1024 * 1024);
    await compactAll(db);
    const full = await approximatePrefixBytes(db, prefix);
    expect(full).toBeGreaterThan(512 * 1024);
    for (let i = 0; i < 1024; i++) await db.del(key(i));
    await compactAll(db);
    expect(await approximatePrefixBytes(db, prefix)).toBeLessThan(full / 10);
    await db.close();
  });
});
