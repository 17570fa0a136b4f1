import { describe, expect, it } from "vitest";
import { bootstrapEntries, type Entry, LogCompactedError, Raft, RawNode, SeededRandom } from "../raft/index.js";
import { WalLogStorage } from "./raft_log.js";
import { MemoryFiles } from "./wal/memory_files.js";
import { Wal } from "./wal/wal.js";

const DIR = "/wal";
const entry = (index: number, term: number): Entry => ({ index, term, type: "normal", data: Buffer.from(`e${index}`) });

describe("the Raft log read from the write-ahead log", () => {
  it("answers the core's reads, with compacted entries refused and the term before the first known", async () => {
    const wal = await Wal.open({ dir: DIR, files: new MemoryFiles() });
    const storage = new WalLogStorage(wal, 7, () => ({ index: 6, term: 2, confState: { voters: [1], learners: [] } }));
    expect([storage.firstIndex(), storage.lastIndex()]).toEqual([1, 0]);
    wal.appendEntries(7, [1, 2, 3, 4, 5, 6, 7, 8].map((i) => entry(i, i < 5 ? 1 : 2)));
    wal.compact(7, 4, { voters: [1, 2], learners: [3] });
    expect([storage.firstIndex(), storage.lastIndex()]).toEqual([5, 8]);
    expect(storage.term(4)).toBe(1);
    expect(storage.term(5)).toBe(2);
    expect(() => storage.term(3)).toThrow(LogCompactedError);
    expect(() => storage.entries(4, 6, 1e9)).toThrow(LogCompactedError);
    expect(storage.entries(5, 9, 1e9).map((e) => e.index)).toEqual([5, 6, 7, 8]);
    expect(storage.entries(5, 9, 0).map((e) => e.index)).toEqual([5]);
    expect(storage.initialState().confState).toEqual({ voters: [1, 2], learners: [3] });
    expect(storage.snapshot().meta.index).toBe(6);
  });

  it("lets a Raft replica restart from what was synced: its term, vote, log and membership", async () => {
    const files = new MemoryFiles();
    const wal = await Wal.open({ dir: DIR, files });
    const boot = bootstrapEntries([1]);
    wal.appendEntries(1, boot.entries);
    wal.setHardState(1, boot.hardState);
    const point = () => ({ index: 0, term: 0, confState: { voters: [], learners: [] } });
    const raw = new RawNode(new Raft({ id: 1, storage: new WalLogStorage(wal, 1, point), random: new SeededRandom(1) }));
    raw.campaign();
    for (let i = 0; i < 5 && raw.hasReady(); i++) {
      const ready = raw.ready();
      wal.appendEntries(1, ready.entries);
      if (ready.hardState !== undefined) wal.setHardState(1, ready.hardState);
      await wal.sync();
      raw.advance();
      if (raw.raft.role === "leader" && i === 1) raw.propose([Buffer.from("hello")]);
    }
    const before = raw.status();
    expect(before.role).toBe("leader");
    await wal.close();

    const again = await Wal.open({ dir: DIR, files: files.crash() });
    const restarted = new Raft({ id: 1, storage: new WalLogStorage(again, 1, point), random: new SeededRandom(2) });
    expect(restarted.term).toBe(before.term);
    expect(restarted.vote).toBe(1);
    expect(restarted.log.lastIndex()).toBe(before.lastIndex);
    expect(restarted.currentConfiguration().voters).toEqual([1]);
    const last = again.entries(1, before.lastIndex, before.lastIndex + 1)[0]!;
    expect(Buffer.from(last.data).toString()).toBe("hello");
  });
});
