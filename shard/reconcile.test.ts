import { describe, expect, it } from "vitest";
import type { Entry } from "../raft/index.js";
import { CONF, openShard } from "./mvcc/fixtures.js";
import { reconcileLog } from "./reconcile.js";
import { MemoryFiles } from "./wal/memory_files.js";
import { Wal } from "./wal/wal.js";

const GROUP = 1;

function entries(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ term, index: from + i, type: "normal" as const, data: new Uint8Array(0) }));
}

/** A WAL holding entries 1..last of term 1 for GROUP, with `commit` in its hard state. */
async function walWith(last: number, commit: number): Promise<Wal> {
  const wal = await Wal.open({ dir: "/data/wal", files: new MemoryFiles() });
  wal.appendEntries(GROUP, entries(1, last, 1));
  wal.setHardState(GROUP, { term: 1, vote: 1, commit });
  return wal;
}

/** A shard state that applied `count` empty entries of `term`. */
async function stateAt(count: number, term = 1) {
  const shard = await openShard();
  if (count > 0) await shard.state.apply(entries(1, count, term), () => CONF);
  return shard.state;
}

describe("reconciling a replica's log with its state machine at start", () => {
  it("leaves a log that already agrees as it is", async () => {
    const wal = await walWith(5, 5);
    const lines: string[] = [];
    reconcileLog(wal, GROUP, await stateAt(3), (line) => lines.push(line));
    expect(wal.group(GROUP)).toMatchObject({ first: 1, last: 5, hardState: { commit: 5 } });
    expect(lines).toEqual([]);
  });

  it("raises a commit index that is behind what was applied", async () => {
    const wal = await walWith(5, 2);
    reconcileLog(wal, GROUP, await stateAt(4));
    expect(wal.group(GROUP)!.hardState).toEqual({ term: 1, vote: 1, commit: 4 });
  });

  it("restarts the log after a state machine that is ahead of it (a snapshot installed before a crash)", async () => {
    const wal = await walWith(3, 3);
    const lines: string[] = [];
    reconcileLog(wal, GROUP, await stateAt(7), (line) => lines.push(line));
    expect(wal.group(GROUP)).toMatchObject({ first: 8, last: 7, hardState: { commit: 7 } });
    expect(lines.join("\n")).toMatch(/restarts after the state machine's index 7/);
  });

  it("restarts the log when the entry at the applied index has another term", async () => {
    const wal = await walWith(5, 5);
    reconcileLog(wal, GROUP, await stateAt(4, 2));
    expect(wal.group(GROUP)).toMatchObject({ first: 5, last: 4 });
  });

  it("refuses an empty state machine under a compacted log, and one behind the log's start", async () => {
    const wal = await walWith(10, 10);
    wal.compact(GROUP, 6, CONF);
    const empty = await stateAt(0);
    const behind = await stateAt(3);
    expect(() => reconcileLog(wal, GROUP, empty)).toThrow(/compacted to 6 but the state machine is empty/);
    expect(() => reconcileLog(wal, GROUP, behind)).toThrow(/state machine is at 3, behind the log's start 7/);
  });
});
