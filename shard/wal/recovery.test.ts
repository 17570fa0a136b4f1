// Recovery from what crashes and bad disks leave: a WAL cut at every byte of its last records,
// zeroed sectors, flipped bits (on real files, in a temporary folder on disk), and power cuts that
// drop unsynced bytes in part or whole (the in-memory file layer).

import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../../raft/index.js";
import { WalCorruptionError } from "./errors.js";
import { MemoryFiles } from "./memory_files.js";
import { scanSegment } from "./segment_scan.js";
import { Wal, WAL_DEFAULTS } from "./wal.js";
import { diskDir } from "../../test/support/disk_dir.js";

type Op = (wal: Wal) => void;

/** One record each, so that the first k records of the file are the first k operations. */
function workload(count: number, seed: number): Op[] {
  const random = new SeededRandom(seed);
  const last = new Map<number, number>();
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const group = 1 + random.int(3);
    const from = (last.get(group) ?? 0) + 1 - (random.chance(0.1) ? Math.min(2, last.get(group) ?? 0) : 0);
    const to = from + random.int(4);
    last.set(group, to);
    const term = 1 + Math.floor(i / 10);
    if (random.chance(0.7)) {
      const data = (index: number) => Buffer.from(`g${group} t${term} i${index} `.repeat(1 + random.int(6)));
      const batch = Array.from({ length: to - from + 1 }, (_, k) => ({ term, index: from + k, type: "normal" as const, data: data(from + k) }));
      ops.push((wal) => wal.appendEntries(group, batch));
    } else {
      last.set(group, to - (to - from + 1));
      const hardState = { term, vote: group, commit: i };
      ops.push((wal) => wal.setHardState(group, hardState));
    }
  }
  return ops;
}

async function expectedState(ops: readonly Op[]): Promise<unknown> {
  const wal = await Wal.open({ dir: "/expected", files: new MemoryFiles() });
  for (const op of ops) op(wal);
  return stateOf(wal);
}

function stateOf(wal: Wal): unknown {
  return wal.groups().map((group) => {
    const log = wal.group(group)!;
    const entries = log.last >= log.first ? wal.entries(group, log.first, log.last + 1) : [];
    return { group, first: log.first, last: log.last, hardState: log.hardState, entries: entries.map((e) => [e.term, e.index, Buffer.from(e.data).toString()]) };
  });
}

let root: string;
let original: Buffer;
let segmentName: string;
let recordStarts: number[];
const ops = workload(40, 7);

beforeAll(async () => {
  root = diskDir("shardkv-wal-");
  // Recovery's reading of records is the point here; preallocated segments have their own test.
  const wal = await Wal.open({ dir: join(root, "original"), preallocate: false });
  for (const op of ops) op(wal);
  await wal.sync();
  await wal.close();
  const names = await readdir(join(root, "original"));
  expect(names).toHaveLength(1);
  segmentName = names[0]!;
  original = await readFile(join(root, "original", segmentName));
  recordStarts = scanSegment(original, WAL_DEFAULTS.recordBytesMax, true).records.map((r) => r.offset);
  expect(recordStarts).toHaveLength(ops.length);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let runs = 0;
async function recoverFrom(bytes: Buffer): Promise<{ wal: Wal; dir: string }> {
  const dir = join(root, `run-${runs++}`);
  await Wal.open({ dir, preallocate: false }).then((w) => w.close());
  await writeFile(join(dir, segmentName), bytes);
  return { wal: await Wal.open({ dir, preallocate: false }), dir };
}

/** How many records end at or before `offset`. */
function wholeRecordsBefore(offset: number): number {
  const ends = [...recordStarts.slice(1), original.length];
  return ends.filter((end) => end <= offset).length;
}

describe("recovery of the write-ahead log", () => {
  it("cut at every byte of its last three records, keeps every whole record and a copy of the rest", async () => {
    const from = recordStarts[recordStarts.length - 3]!;
    for (let cut = from; cut < original.length; cut++) {
      const { wal, dir } = await recoverFrom(original.subarray(0, cut));
      const whole = wholeRecordsBefore(cut);
      expect(stateOf(wal)).toEqual(await expectedState(ops.slice(0, whole)));
      const torn = recordStarts.includes(cut) ? 0 : 1;
      expect(wal.tornTails).toHaveLength(torn);
      if (torn === 1) {
        const saved = await readFile(wal.tornTails[0]!.savedAs);
        expect(saved).toEqual(original.subarray(recordStarts[whole]!, cut));
      }
      await wal.close();
      await rm(dir, { recursive: true });
    }
  });

  it("with its last sectors zeroed, keeps the records before them", async () => {
    for (let sectors = 1; sectors <= 3; sectors++) {
      const damaged = Buffer.from(original);
      const zeroFrom = (Math.ceil(original.length / 512) - sectors) * 512;
      damaged.fill(0, zeroFrom);
      const { wal } = await recoverFrom(damaged);
      expect(stateOf(wal)).toEqual(await expectedState(ops.slice(0, wholeRecordsBefore(zeroFrom))));
      // Zeros from a record boundary on read as a preallocated segment's unused end, not a tear.
      expect(wal.tornTails).toHaveLength(recordStarts.includes(zeroFrom) ? 0 : 1);
      await wal.close();
    }
  });

  it("with a flipped bit, stops with the file and offset, or cuts only a tail it keeps a copy of: it never serves changed data", async () => {
    const random = new SeededRandom(11);
    let stopped = 0;
    for (let i = 0; i < 150; i++) {
      const at = 8 + random.int(original.length - 8);
      const damaged = Buffer.from(original);
      damaged[at] = damaged[at]! ^ (1 << random.int(8));
      const damagedRecord = wholeRecordsBefore(at);
      let wal: Wal;
      try {
        ({ wal } = await recoverFrom(damaged));
      } catch (error) {
        expect(error).toBeInstanceOf(WalCorruptionError);
        const { file, offset } = error as WalCorruptionError;
        expect(file.endsWith(segmentName)).toBe(true);
        expect(offset).toBeLessThanOrEqual(at);
        expect((error as Error).message).toMatch(new RegExp(`${segmentName} at byte ${offset}: .*rejoin the node`));
        stopped++;
        continue;
      }
      // Only a length field gone wrong near the end looks like a torn write.
      const kept = wholeRecordsBefore(wal.tornTails[0]!.offset);
      expect(kept).toBeLessThanOrEqual(damagedRecord);
      expect(stateOf(wal)).toEqual(await expectedState(ops.slice(0, kept)));
      await wal.close();
    }
    expect(stopped).toBeGreaterThan(100);
  });
});

describe("recovery after a power cut (unsynced bytes dropped, or kept in part)", () => {
  it("gives back at least every synced record, only whole records, in order", async () => {
    const random = new SeededRandom(3);
    const longOps = workload(200, 5);
    for (let trial = 0; trial < 60; trial++) {
      const files = new MemoryFiles();
      const wal = await Wal.open({ dir: "/wal", files, segmentBytesMax: 2_048 + random.int(8_192) });
      const stopAt = random.int(longOps.length);
      let synced = 0;
      for (let i = 0; i < stopAt; i++) {
        longOps[i]!(wal);
        if (random.chance(0.2)) {
          await wal.sync();
          synced = i + 1;
        }
      }
      const after = files.crash({ keepUnsyncedBytes: (_, unsynced) => random.int(unsynced + 1) });
      const recovered = await Wal.open({ dir: "/wal", files: after });
      const state = stateOf(recovered);
      let matched = -1;
      for (let k = stopAt; k >= synced && matched < 0; k--) {
        if (JSON.stringify(state) === JSON.stringify(await expectedState(longOps.slice(0, k)))) matched = k;
      }
      expect(matched, `trial ${trial}: recovered state is no prefix of at least ${synced} operations`).toBeGreaterThanOrEqual(synced);
    }
  });
});
