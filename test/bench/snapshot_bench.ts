// `npm run bench:snapshot`: a shard of 1 GiB (BENCH_SNAPSHOT_MIB) is snapshotted from one node's
// LevelDB and installed into another's, through the code a real transfer runs (SnapshotSource's
// chunks into a SnapshotSink, then the synced generation flip), on real files. It samples the
// process's resident memory all along; the issue asks that it stay under 300 MiB.
// Ends with one JSON line: {"shard_mib":N,"stream_s":N,"mib_per_s":N,"rss_peak_mib":N}.

import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { type LevelDb, replicaPrefix } from "../../shard/keyspace.js";
import { commitStaged, currentGeneration, SnapshotSink } from "../../shard/snapshot/snapshot_sink.js";
import { SnapshotSource } from "../../shard/snapshot/snapshot_source.js";
import { diskDir } from "../support/disk_dir.js";

const SHARD_MIB = Number(process.env["BENCH_SNAPSHOT_MIB"] ?? 1024);
const VALUE_BYTES = 4096;
const PAIRS = Math.ceil((SHARD_MIB * 1024 * 1024) / VALUE_BYTES);
const MIB = 1024 * 1024;

const dir = diskDir("shardkv-bench-snapshot-");
const open = async (name: string): Promise<LevelDb> => {
  const db: LevelDb = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, name), { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  return db;
};

/** Resident memory from /proc: anonymous (heap, buffers, LevelDB's caches) and file-backed pages. */
function residentBytes(): { anon: number; file: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { anon: field("RssAnon"), file: field("RssFile") };
}

let rssPeak = 0;
let anonPeak = 0;
let filePeak = 0;
const sampler = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  const { anon, file } = residentBytes();
  anonPeak = Math.max(anonPeak, anon);
  filePeak = Math.max(filePeak, file);
}, 50);

try {
  const leader = await open("leader");
  const follower = await open("follower");
  const prefix = replicaPrefix(1, 0);
  const started = performance.now();
  for (let i = 0; i < PAIRS; i += 256) {
    const ops = [];
    for (let j = i; j < Math.min(i + 256, PAIRS); j++) {
      // Random bytes, so that LevelDB's compression cannot make the shard smaller than it says.
      ops.push({ type: "put" as const, key: Buffer.concat([prefix, Buffer.from(`k/${String(j).padStart(9, "0")}`)]), value: randomBytes(VALUE_BYTES) });
    }
    await leader.batch(ops);
  }
  console.log(`filled a ${SHARD_MIB} MiB shard (${PAIRS} pairs of ${VALUE_BYTES} bytes) in ${((performance.now() - started) / 1000).toFixed(1)} s; rss so far ${(rssPeak / MIB).toFixed(0)} MiB`);
  global.gc?.();
  rssPeak = process.memoryUsage.rss();
  anonPeak = residentBytes().anon;
  filePeak = residentBytes().file;

  const streamed = performance.now();
  const sink = await SnapshotSink.begin(follower, 1);
  let chunks = 0;
  for await (const chunk of SnapshotSource.take(leader, prefix).chunks()) {
    await sink.write(chunk);
    chunks++;
  }
  const staged = sink.finish();
  await commitStaged(follower, staged);
  const seconds = (performance.now() - streamed) / 1000;
  if (staged.trailer.pairs !== PAIRS) throw new Error(`installed ${staged.trailer.pairs} pairs, expected ${PAIRS}`);
  if ((await currentGeneration(follower, 1)) !== staged.generation) throw new Error("the install did not become current");
  console.log(`streamed and installed ${chunks} chunks (${(staged.trailer.bytes / MIB).toFixed(0)} MiB of keys and values) in ${seconds.toFixed(1)} s`);
  console.log(
    `peak resident memory while streaming: ${(rssPeak / MIB).toFixed(0)} MiB, of which anonymous ${(anonPeak / MIB).toFixed(0)} MiB ` +
      `and file-backed ${(filePeak / MIB).toFixed(0)} MiB (LevelDB maps its table files; those pages are the page cache's, dropped under pressure)`,
  );
  console.log(
    JSON.stringify({
      shard_mib: SHARD_MIB,
      stream_s: Number(seconds.toFixed(1)),
      mib_per_s: Math.round(staged.trailer.bytes / MIB / seconds),
      rss_peak_mib: Math.round(rssPeak / MIB),
      rss_anon_peak_mib: Math.round(anonPeak / MIB),
      rss_file_peak_mib: Math.round(filePeak / MIB),
    }),
  );
  await leader.close();
  await follower.close();
} finally {
  clearInterval(sampler);
  rmSync(dir, { recursive: true, force: true });
}
