import { describe, expect, it } from "vitest";
import type { Entry } from "../../raft/index.js";
import { WalFatalError } from "./errors.js";
import { MemoryFiles } from "./memory_files.js";
import { Wal } from "./wal.js";

const DIR = "/data/wal";

function entries(from: number, to: number, term: number, bytes = 16): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= to; index++) {
    out.push({ term, index, type: "normal", data: Buffer.alloc(bytes, `${term}:${index};`) });
  }
  return out;
}

function terms(wal: Wal, group: number): number[] {
  const log = wal.group(group)!;
  return wal.entries(group, log.first, log.last + 1).map((e) => e.term);
}

describe("the write-ahead log", () => {
  it("gives back after a reopen the entries, hard states and log starts of every group", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    wal.appendEntries(1, entries(1, 5, 1));
    wal.appendEntries(2, entries(1, 3, 2));
    wal.setHardState(1, { term: 1, vote: 3, commit: 4 });
    wal.setHardState(2, { term: 2, vote: 1, commit: 2 });
    wal.appendEntries(1, entries(6, 7, 1));
    await wal.sync();
    await wal.close();

    const again = await Wal.open({ dir: DIR, files });
    expect(again.groups()).toEqual([1, 2]);
    expect(again.group(1)!.hardState).toEqual({ term: 1, vote: 3, commit: 4 });
    expect(again.group(2)!.hardState).toEqual({ term: 2, vote: 1, commit: 2 });
    expect(again.entries(1, 1, 8)).toEqual(entries(1, 7, 1));
    expect(again.entries(2, 1, 4)).toEqual(entries(1, 3, 2));
  });

  it("replaces a group's entries from the index of a conflicting append on, also after a reopen", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    wal.appendEntries(1, entries(1, 6, 1));
    wal.appendEntries(1, entries(4, 5, 2));
    expect(terms(wal, 1)).toEqual([1, 1, 1, 2, 2]);
    await wal.sync();
    const again = await Wal.open({ dir: DIR, files });
    expect(terms(again, 1)).toEqual([1, 1, 1, 2, 2]);
  });

  it("refuses an append that would leave a gap", async () => {
    const wal = await Wal.open({ dir: DIR, files: new MemoryFiles() });
    wal.appendEntries(1, entries(1, 2, 1));
    expect(() => wal.appendEntries(1, entries(4, 4, 1))).toThrow(/gap after 2/);
  });

  it("loses on a power cut exactly what was not synced", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    wal.appendEntries(1, entries(1, 3, 1));
    wal.setHardState(1, { term: 1, vote: 1, commit: 2 });
    await wal.sync();
    wal.appendEntries(1, entries(4, 9, 1));
    wal.setHardState(1, { term: 1, vote: 1, commit: 8 });
    const after = await Wal.open({ dir: DIR, files: files.crash() });
    expect(after.group(1)!.last).toBe(3);
    expect(after.group(1)!.hardState.commit).toBe(2);
    expect(after.tornTails).toEqual([]);
  });

  it("makes the writes of many groups durable with one fdatasync (group commit)", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    let before = files.syncCount;
    for (let group = 1; group <= 100; group++) {
      wal.appendEntries(group, entries(1, 2, 1));
      wal.setHardState(group, { term: 1, vote: group, commit: 0 });
    }
    await wal.sync();
    expect(files.syncCount - before).toBe(1);

    // Callers that sync while a flush is under way wait for the next one, which takes them all.
    before = files.syncCount;
    const syncs: Promise<void>[] = [];
    for (let group = 1; group <= 100; group++) {
      wal.appendEntries(group, entries(3, 3, 1));
      syncs.push(wal.sync());
    }
    await Promise.all(syncs);
    expect(files.syncCount - before).toBe(2);
  });

  it("serves entries evicted from memory by reading them back from their segment", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files, cacheBytesPerGroupMax: 1_000 });
    wal.appendEntries(1, entries(1, 200, 3, 100));
    await wal.sync();
    expect(wal.group(1)!.cachedBytes).toBeLessThanOrEqual(1_000);
    expect(wal.group(1)!.slot(1)!.entry).toBeUndefined();
    expect(wal.entries(1, 1, 201)).toEqual(entries(1, 200, 3, 100));
    expect(wal.entries(1, 10, 201, 500).map((e) => e.index)).toEqual([10, 11, 12, 13]);
  });

  it("rolls over to new segments and deletes the old ones once every group compacted past them", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files, segmentBytesMax: 4_096 });
    for (let i = 0; i < 50; i++) {
      wal.appendEntries(1, entries(i * 4 + 1, i * 4 + 4, 1, 64));
      wal.appendEntries(2, entries(i + 1, i + 1, 5, 64));
      wal.setHardState(1, { term: 1, vote: 1, commit: i * 4 + 4 });
      await wal.sync();
    }
    const segments = wal.segmentPaths().length;
    expect(segments).toBeGreaterThan(5);
    wal.compact(1, 190, { voters: [1, 2, 3], learners: [4] });
    await wal.sync();
    // Group 2 still needs its early entries: nothing can go yet.
    expect(wal.segmentPaths().length).toBe(segments);
    wal.compact(2, 45, { voters: [7], learners: [] });
    await wal.sync();
    expect(wal.segmentPaths().length).toBeLessThan(segments / 2);
    expect((await files.list(DIR)).length).toBe(wal.segmentPaths().length);

    const again = await Wal.open({ dir: DIR, files: files.crash() });
    expect(again.group(1)).toMatchObject({ first: 191, prevTerm: 1, last: 200 });
    expect(again.group(1)!.hardState.commit).toBe(200);
    expect(again.group(2)).toMatchObject({ first: 46, prevTerm: 5, last: 50 });
    // The membership at the compaction point survives in the segment that restates it.
    expect(again.group(1)!.prevConfState).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(again.group(2)!.prevConfState).toEqual({ voters: [7], learners: [] });
    expect(again.entries(1, 191, 201)).toEqual(entries(191, 200, 1, 64));
  });

  it("restarts a group's log after a snapshot", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    wal.appendEntries(1, entries(1, 10, 1));
    wal.applySnapshot(1, 50, 4, { voters: [1, 2], learners: [] });
    wal.appendEntries(1, entries(51, 52, 4));
    await wal.sync();
    const again = await Wal.open({ dir: DIR, files: files.crash() });
    expect(again.group(1)).toMatchObject({ first: 51, prevTerm: 4, last: 52 });
    expect(again.group(1)!.term(50)).toBe(4);
    expect(again.group(1)!.prevConfState).toEqual({ voters: [1, 2], learners: [] });
  });

  it("stops for good when an fdatasync fails, and never retries it", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    wal.appendEntries(1, entries(1, 1, 1));
    files.failNextSync = new Error("EIO: i/o error");
    await expect(wal.sync()).rejects.toThrow(WalFatalError);
    await expect(wal.sync()).rejects.toThrow(/cannot write and sync .*EIO.*node stops/);
    expect(() => wal.appendEntries(1, entries(2, 2, 1))).toThrow(WalFatalError);
  });
});

describe("preallocated segments", () => {
  async function fill(wal: Wal, from: number, to: number): Promise<void> {
    for (let i = from; i <= to; i += 4) {
      wal.appendEntries(1, entries(i, Math.min(i + 3, to), 1, 100));
      await wal.sync();
    }
  }

  it("write into zero-filled files, and a restart after a power cut continues at the records' end, not after the zeros", async () => {
    const files = new MemoryFiles(true);
    const wal = await Wal.open({ dir: DIR, files, segmentBytesMax: 4_096 });
    await fill(wal, 1, 120);
    const segments = wal.segmentPaths();
    expect(segments.length).toBeGreaterThan(3);
    // Every segment after the first was the spare: full-sized, zeros past its records.
    for (const path of segments.slice(1)) expect(files.get(path).data.length).toBe(4_096);
    expect(await files.list(DIR)).toContain("spare.prealloc");

    const afterCut = files.crash();
    const again = await Wal.open({ dir: DIR, files: afterCut, segmentBytesMax: 4_096 });
    expect(again.group(1)).toMatchObject({ first: 1, last: 120 });
    expect(again.tornTails).toEqual([]);
    again.appendEntries(1, entries(121, 124, 2, 100));
    await again.sync();
    const third = await Wal.open({ dir: DIR, files: afterCut.crash(), segmentBytesMax: 4_096 });
    // The entries appended after the restart follow the old ones; none were lost behind zeros.
    expect(third.group(1)?.last).toBe(124);
    expect(terms(third, 1).slice(-5)).toEqual([1, 2, 2, 2, 2]);
  });

  it("lose only unsynced records when the power goes while they are written over the zeros", async () => {
    const files = new MemoryFiles(true);
    const wal = await Wal.open({ dir: DIR, files, segmentBytesMax: 4_096 });
    await fill(wal, 1, 60);
    wal.appendEntries(1, entries(61, 64, 1, 100));
    // The write lands, the sync never happens; a torn part of it may remain.
    const after = files.crash({ keepUnsyncedBytes: (_path, unsynced) => Math.min(unsynced, 150) });
    const again = await Wal.open({ dir: DIR, files: after, segmentBytesMax: 4_096 });
    expect(again.group(1)?.last).toBe(60);
  });

  it("read a record cut at any byte, with zeros after it, as a torn write and not as damage", async () => {
    for (let kept = 1; kept < 480; kept += 7) {
      const files = new MemoryFiles(true);
      const wal = await Wal.open({ dir: DIR, files, segmentBytesMax: 4_096 });
      await fill(wal, 1, 8);
      wal.appendEntries(1, entries(9, 12, 1, 100));
      // The record reaches the file; its fdatasync never returns before the power goes.
      files.syncDelay = () => new Promise<void>(() => undefined);
      void wal.sync();
      await new Promise((resolve) => setImmediate(resolve));
      const after = files.crash({ keepUnsyncedBytes: (_path, unsynced) => Math.min(unsynced, kept) });
      const again = await Wal.open({ dir: DIR, files: after, segmentBytesMax: 4_096 });
      expect(again.group(1)?.last).toBe(8);
    }
  });
});
