// The stable part of the log, as the core sees it: what the driver has already made durable.
// Synchronous on purpose: the core never waits. A driver backed by a WAL serves recent entries from
// memory; it is the driver's job to have them there (hashicorp/raft's LogStore, etcd-io/raft's Storage).

import type { ConfState, Entry, HardState, Snapshot } from "./types.js";

/** Thrown when entries below the storage's first index are asked for: they live only in a snapshot. */
export class LogCompactedError extends Error {
  override readonly name = "LogCompactedError";
}

/** Thrown by `snapshot()` when a snapshot is being prepared; the leader tries again later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  override readonly name = "SnapshotTemporarilyUnavailableError";
}

export interface LogStorage {
  /** The persisted hard state and the membership of the newest snapshot. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one when lo < hi, at most `maxBytes` after the first. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of the entry at `index`; `firstIndex() - 1` answers with the snapshot's term. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The newest snapshot, for sending to a follower that needs compacted entries. */
  snapshot(): Snapshot;
}

export function entryBytes(entry: Entry): number {
  // A fixed overhead for term, index and type keeps many empty entries from looking free.
  return entry.data.byteLength + 24;
}

/** The longest prefix of `entries` within `maxBytes`, and always the first entry. */
export function limitBytes(entries: Entry[], maxBytes: number): Entry[] {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    bytes += entryBytes(entry);
    if (i > 0 && bytes > maxBytes) return entries.slice(0, i);
  }
  return entries;
}
