// Power cuts, which kill -9 cannot show: the write-ahead log loses what it had not synced (or keeps a
// random part of it, a torn tail), and LevelDB loses its unsynced writes but for a random prefix of
// them. After every cut, each acknowledged write is there and no transaction is half there. The
// store runs in this process, on the test file layer and a database that knows what it synced.

import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../raft/index.js";
import { Store } from "../../shard/store.js";
import { MemoryFiles } from "../../shard/wal/memory_files.js";
import { Wal } from "../../shard/wal/wal.js";
import { PowerLossDb } from "../support/power_loss_db.js";

const CUTS = 40;
const bytes = (s: string): Uint8Array => Buffer.from(s);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("power cuts under a running store", () => {
  it(`lose no acknowledged write and half-apply no transaction across ${CUTS} cuts`, async () => {
    const random = new SeededRandom(4242);
    // Preallocated segments, as on disk: records are written over synced zeros.
    let files = new MemoryFiles(true);
    let disk = new PowerLossDb();
    await disk.db.open();
    const acked = new Set<number>();
    let lostUnsynced = 0;
    for (let life = 0; life <= CUTS; life++) {
      // A sync takes up to a millisecond, so that cuts fall between writes and their syncs.
      files.syncDelay = () => sleep(random.int(2));
      const wal = await Wal.open({ dir: "/wal", files, segmentBytesMax: 32 * 1024 });
      const store = await Store.open({
        nodeId: 1,
        db: disk.db,
        wal,
        transport: { send: () => undefined },
        tickMs: 2,
        compaction: { entriesPerCheckpoint: 100, entriesRetained: 10 },
      });
      if (store.groups().length === 0) await store.createGroup(1, [1]);

      // A linearizable read: the log's commit index may lag what was applied before the cut (it is
      // not synced on its own), so wait until this term's leader has committed and applied it all.
      while (!store.replica(1).isLeader) await sleep(2);
      const state = await store.readState(1, "linearizable");
      const { kvs } = await state.range({ key: bytes("a/"), rangeEnd: bytes("b0") }, Date.now());
      const seen = { a: new Set<number>(), b: new Set<number>() };
      for (const kv of kvs) {
        const [family, n] = Buffer.from(kv.key).toString().split("/") as ["a" | "b", string];
        seen[family].add(Number(n));
      }
      for (const n of acked) expect(seen.a.has(n), `cut ${life}: acknowledged write ${n} is gone`).toBe(true);
      for (const n of seen.a) expect(seen.b.has(n), `cut ${life}: transaction ${n} is half there`).toBe(true);
      for (const n of seen.b) expect(seen.a.has(n), `cut ${life}: transaction ${n} is half there`).toBe(true);
      if (life === CUTS) {
        await store.close();
        break;
      }

      let cut = false;
      let next = life * 1_000_000;
      const writer = async (): Promise<void> => {
        while (!cut) {
          const n = next++;
          const value = bytes(String(n));
          const put = (family: string) => ({ put: { key: bytes(`${family}/${n}`), value } });
          const result = await store.propose(1, { op: "txn", txn: { compare: [], success: [put("a"), put("b")], failure: [] } }).catch(() => undefined);
          if (result?.ok && !cut) acked.add(n);
        }
      };
      const writers = Array.from({ length: 16 }, writer);
      await sleep(random.int(60));
      // The cut: everything below happens at one instant, as far as the store can tell.
      cut = true;
      store.abandon();
      lostUnsynced += disk.unsyncedWrites;
      files = files.crash({ keepUnsyncedBytes: (_path, unsynced) => random.int(unsynced + 1) });
      disk = await disk.crash(random.int(disk.unsyncedWrites + 1));
      void Promise.allSettled(writers);
    }
    // Not vacuous: the store wrote, and cuts did drop LevelDB writes that the WAL had to restore.
    expect(acked.size).toBeGreaterThan(CUTS * 5);
    expect(lostUnsynced).toBeGreaterThan(CUTS);
  }, 120_000);
});
