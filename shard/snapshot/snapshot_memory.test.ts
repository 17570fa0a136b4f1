// A snapshot streams: sending and installing a shard costs memory for a chunk or two, not for the
// shard. On real files, a 256 MiB shard goes from one LevelDB to another while the test samples the
// process's anonymous resident memory (heap, buffers, LevelDB's caches; not the page cache that
// LevelDB's mapped tables show as file-backed). `npm run bench:snapshot:capped` does 1 GiB under a
// 300 MiB cgroup.

import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diskDir } from "../../test/support/disk_dir.js";
import { replicaPrefix } from "../keyspace.js";
import { openNodeDb } from "../node_db.js";
import { commitStaged, SnapshotSink } from "./snapshot_sink.js";
import { SnapshotSource } from "./snapshot_source.js";

const MIB = 1024 * 1024;

function anonymousBytes(): number {
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

describe("a streamed snapshot", () => {
  it("moves a 256 MiB shard between two LevelDBs with the process's own memory growing by far less than the shard", async () => {
    const dir = diskDir("shardkv-snapshot-memory-");
    try {
      const leader = await openNodeDb(join(dir, "leader"), { cacheBytes: 8 * MIB });
      const follower = await openNodeDb(join(dir, "follower"), { cacheBytes: 8 * MIB });
      const prefix = replicaPrefix(1, 0);
      const pairs = (256 * MIB) / 4096;
      for (let i = 0; i < pairs; i += 256) {
        const ops = Array.from({ length: 256 }, (_, j) => ({
          type: "put" as const,
          key: Buffer.concat([prefix, Buffer.from(`k/${String(i + j).padStart(9, "0")}`)]),
          value: randomBytes(4096),
        }));
        await leader.batch(ops);
      }
      global.gc?.();
      const baseline = anonymousBytes();
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, anonymousBytes());
      }, 20);
      try {
        const sink = await SnapshotSink.begin(follower, 1);
        for await (const chunk of SnapshotSource.take(leader, prefix).chunks()) await sink.write(chunk);
        const staged = sink.finish();
        await commitStaged(follower, staged);
        expect(staged.trailer.pairs).toBe(pairs);
      } finally {
        clearInterval(sampler);
      }
      const grewMiB = (peak - baseline) / MIB;
      console.log(`anonymous memory grew by ${grewMiB.toFixed(0)} MiB while 256 MiB streamed`);
      // A sender or receiver that held the shard would grow by 256 MiB or more.
      expect(grewMiB).toBeLessThan(96);
      await leader.close();
      await follower.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
