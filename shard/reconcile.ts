// Before Raft starts on a replica, its log must agree with what the state machine made durable: the
// two live in different stores (the WAL and LevelDB) and a crash can leave them apart. A state ahead
// of the log (a snapshot installed just before a crash) restarts the log after it; a commit index
// behind the applied one is raised, since only committed entries are ever applied. A state behind
// the log's start cannot be mended here: entries it needs are gone.

import type { ShardState } from "./mvcc/index.js";
import { StoreError } from "./store_error.js";
import type { GroupId } from "./wal/record.js";
import type { Wal } from "./wal/wal.js";

export function reconcileLog(wal: Wal, group: GroupId, state: ShardState, log?: (line: string) => void): void {
  const groupLog = wal.group(group)!;
  const applied = state.applied;
  if (applied.index === 0) {
    if (groupLog.first > 1) throw new StoreError("INTERNAL", `shard ${group}: the log was compacted to ${groupLog.first - 1} but the state machine is empty`, "the LevelDB directory was lost or replaced; restore it, or remove this replica and let the shard re-replicate");
    return;
  }
  if (applied.index < groupLog.first - 1) {
    throw new StoreError("INTERNAL", `shard ${group}: the state machine is at ${applied.index}, behind the log's start ${groupLog.first}`, "LevelDB lost synced writes; restore the data directory or re-replicate this shard");
  }
  if (applied.index > groupLog.last || groupLog.term(applied.index) !== applied.term) {
    wal.applySnapshot(group, applied.index, applied.term, state.confState);
    log?.(`shard ${group}: the log restarts after the state machine's index ${applied.index} (a snapshot installed before a restart)`);
  }
  if (groupLog.hardState.commit < applied.index) wal.setHardState(group, { ...groupLog.hardState, commit: applied.index });
}
