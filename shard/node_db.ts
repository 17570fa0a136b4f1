// Opening the node's one LevelDB, with the settings every node uses. The block cache holds hot
// uncompressed blocks: point reads that hit it skip a file read and a decompression (with LevelDB's
// 8 MiB default, random reads over a 30 MB shard mostly miss). The write buffer is LevelDB's
// memtable: a larger one turns fewer, bigger flushes into level-0 tables, and with random keys each
// of those is merged into all of level 1, so fewer means less rewriting. 30 s of bench:storage puts
// cost 45 us of CPU a put with 16 MiB, 40 with 32 MiB, 33 with 64 MiB (RocksDB's default). 32 MiB
// because a node holds up to two (one being flushed): at 64 MiB, snapshot_memory.test.ts's 256 MiB
// transfer grew the process by 116 MiB (37 at 32 MiB), too much of a node's 300 MiB budget, and
// point reads that must search a memtable that large were ~10% slower. Blocks of 16 KiB, not
// LevelDB's 4 KiB (TiKV uses 32-64 KiB): bench:storage's point reads went up 5-15% (4 KiB: 273-325k/s,
// 16 KiB: 310-334k/s, alternating runs, random and repetitive values alike), puts by 0-4%; a quarter
// as many blocks means a smaller index to search and fewer block-cache entries to find and lock.

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { type LevelDb, prefixEnd } from "./keyspace.js";

export interface NodeDbOptions {
  /** LevelDB's block cache. */
  readonly cacheBytes?: number;
  /** LevelDB's memtable, written to a level-0 table when full. */
  readonly writeBufferBytes?: number;
  /** LevelDB's table block: the unit it compresses, caches and reads from disk. */
  readonly blockBytes?: number;
}

export const NODE_DB_DEFAULTS = { cacheBytes: 64 * 1024 * 1024, writeBufferBytes: 32 * 1024 * 1024, blockBytes: 16 * 1024 } as const;

export async function openNodeDb(dir: string, options: NodeDbOptions = {}): Promise<LevelDb> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: "view",
    valueEncoding: "view",
    cacheSize: options.cacheBytes ?? NODE_DB_DEFAULTS.cacheBytes,
    writeBufferSize: options.writeBufferBytes ?? NODE_DB_DEFAULTS.writeBufferBytes,
    blockSize: options.blockBytes ?? NODE_DB_DEFAULTS.blockBytes,
  });
  await db.open();
  return db;
}

/**
 * LevelDB's estimate of the bytes under one key prefix (one replica's data, shard/keyspace.ts): what
 * its table files hold for the range; writes still in the memtable count little until flushed.
 */
export async function approximatePrefixBytes(db: LevelDb, prefix: Uint8Array): Promise<number> {
  if (!(db instanceof ClassicLevel)) return 0;
  return (db as ClassicLevel<Uint8Array, Uint8Array>).approximateSize(prefix, prefixEnd(prefix));
}

/**
 * The bytes of the files in `dir` (LevelDB's folder is flat): what the database takes on disk now,
 * its log and memtable's worth included, where LevelDB's approximateSize counts only what reached
 * tables (0 B until the first memtable flush).
 */
export async function filesBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    // A table may go between the listing and its stat, when a compaction ends meanwhile.
    bytes += await stat(join(dir, entry.name)).then((info) => info.size, () => 0);
  }
  return bytes;
}

/**
 * Compacts the whole database now, as etcd's defragment is asked to reclaim space: LevelDB merges
 * every level down, dropping overwritten and deleted entries. No-op for a database that is not
 * classic-level.
 */
export async function compactAll(db: LevelDb): Promise<void> {
  if (!(db instanceof ClassicLevel)) return;
  // Every key: each starts with a tag byte, "g" for a replica's state or "n" for the node's own (keyspace.ts).
  await (db as ClassicLevel<Uint8Array, Uint8Array>).compactRange(new Uint8Array([0]), new Uint8Array(64).fill(0xff));
}
