// One group's Raft log as the core sees it (`LogStorage`), read from the node's write-ahead log. The
// core calls it synchronously; the WAL keeps recent entries in memory and reads older ones back.
// Its snapshot is the state machine's applied point: the data itself is streamed from LevelDB when
// a follower needs it, so the snapshot handed to the core carries only its metadata.

import { assert, LogCompactedError, type ConfState, type Entry, type HardState, type LogStorage, type Snapshot, type SnapshotMeta } from "../raft/index.js";
import type { GroupLog } from "./wal/group_log.js";
import type { GroupId } from "./wal/record.js";
import type { Wal } from "./wal/wal.js";

const EMPTY = new Uint8Array(0);

export class WalLogStorage implements LogStorage {
  constructor(
    private readonly wal: Wal,
    readonly group: GroupId,
    /** Where the state machine stands: the newest point a snapshot can describe. */
    private readonly appliedPoint: () => SnapshotMeta,
  ) {}

  private log(): GroupLog | undefined {
    return this.wal.group(this.group);
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const log = this.log();
    return { hardState: log?.hardState ?? { term: 0, vote: 0, commit: 0 }, confState: log?.prevConfState ?? { voters: [], learners: [] } };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const first = this.firstIndex();
    if (lo < first) throw new LogCompactedError(`group ${this.group}: entry ${lo} is compacted (first index ${first})`);
    if (lo >= hi) return [];
    return this.wal.entries(this.group, lo, hi, maxBytes);
  }

  term(index: number): number {
    const log = this.log();
    const first = log?.first ?? 1;
    if (index < first - 1) throw new LogCompactedError(`group ${this.group}: the term of ${index} is compacted (first index ${first})`);
    if (log === undefined) return 0;
    const term = log.term(index);
    if (term === undefined) throw new RangeError(`group ${this.group}: no entry ${index}; the log ends at ${log.last}`);
    return term;
  }

  firstIndex(): number {
    return this.log()?.first ?? 1;
  }

  lastIndex(): number {
    return this.log()?.last ?? 0;
  }

  snapshot(): Snapshot {
    const meta = this.appliedPoint();
    // The log is compacted only behind what the state machine made durable, so a snapshot always
    // covers the entries it replaces.
    assert(meta.index >= this.firstIndex() - 1, () => `group ${this.group}: applied ${meta.index} is behind the log's start ${this.firstIndex()}`);
    return { meta, data: EMPTY };
  }
}
