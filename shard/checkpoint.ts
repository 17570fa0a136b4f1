// Checkpoints: LevelDB is written without syncs (the WAL is the source of truth), so every so often
// one synced LevelDB write makes every replica's applied state durable, and only after it may the
// WAL drop the entries behind that state. Never the other way round: the WAL is the only other copy.

import { CHECKPOINT_KEY, type LevelDb, SYNCED_WRITE } from "./keyspace.js";
import type { Replica } from "./replica.js";
import type { Wal } from "./wal/wal.js";

export interface CompactionSettings {
  /** Applied entries, or bytes of them, after which the store checkpoints and compacts the log. */
  readonly entriesPerCheckpoint: number;
  readonly bytesPerCheckpoint: number;
  /** Entries kept behind the checkpoint, so a follower a little behind catches up without a snapshot. */
  readonly entriesRetained: number;
  /** With more segments than this, retained entries are given up so idle groups stop pinning old segments. */
  readonly segmentsBeforeFullCompaction: number;
}

/** Whether some replica applied enough entries, or bytes, since the last checkpoint. */
export function checkpointDue(replicas: Iterable<Replica>, compaction: CompactionSettings): boolean {
  for (const r of replicas) {
    if (r.entriesSinceCheckpoint >= compaction.entriesPerCheckpoint || r.bytesSinceCheckpoint >= compaction.bytesPerCheckpoint) return true;
  }
  return false;
}

/**
 * One synced LevelDB write covers every replica (LevelDB's log is one sequence, so the sync covers
 * every earlier write); then each replica's log is compacted up to what that write made durable,
 * keeping `entriesRetained` behind it unless the WAL has grown past `segmentsBeforeFullCompaction`.
 */
export async function takeCheckpoint(replicas: readonly Replica[], db: LevelDb, wal: Wal, compaction: CompactionSettings, nowMs: number): Promise<void> {
  const points = replicas.filter((r) => !r.installing).map((r) => ({ replica: r, index: r.state.applied.index }));
  // The synced write covers only what LevelDB was given before it, and apply hands batches over late.
  for (const { replica } of points) await replica.state.flushed();
  const stamp = Buffer.alloc(8);
  stamp.writeDoubleBE(nowMs, 0);
  await db.put(CHECKPOINT_KEY, stamp, SYNCED_WRITE);
  const full = wal.segmentPaths().length > compaction.segmentsBeforeFullCompaction;
  for (const { replica, index } of points) {
    replica.entriesSinceCheckpoint = 0;
    replica.bytesSinceCheckpoint = 0;
    if (replica.installing) continue;
    const log = wal.group(replica.group);
    const to = Math.min(full ? index : index - compaction.entriesRetained, log?.last ?? 0);
    if (log === undefined || to < log.first) continue;
    wal.compact(replica.group, to, replica.raw.confStateAt(to));
  }
}
