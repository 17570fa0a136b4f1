// The replicated log as one replica sees it: the durable part (LogStorage) joined to the unstable tail,
// with the commit and apply points. It enforces Log Matching on append (§3.5) and never lets a
// committed entry be overwritten.

import { assert } from "./assert.js";
import { UnstableLog } from "./log_unstable.js";
import { LogCompactedError, type LogStorage, limitBytes } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

export class RaftLog {
  readonly storage: LogStorage;
  readonly unstable: UnstableLog;
  /** Invariant: applied <= committed <= lastIndex(). The highest index known to be on a quorum. */
  committed: number;
  /** The highest index the state machine has applied (acknowledged by advance()). */
  applied: number;
  /** Invariant: applied <= applying <= committed. The highest index handed out in a Ready. */
  applying: number;

  constructor(storage: LogStorage) {
    this.storage = storage;
    const first = storage.firstIndex();
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstable.firstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    const unstable = this.unstable.term(index);
    if (unstable !== undefined) return unstable;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof LogCompactedError) return undefined;
      throw error;
    }
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, "the last entry's term is always known");
    return term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a log with a later last term, or the same last term and at least as long, is as up to date. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends the leader's entries that follow (index, logTerm) if our log matches there.
   * Returns the last index now known to match the leader, or undefined on mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with the committed log (committed ${this.committed})`);
      this.append(entries.slice(conflict - entries[0]!.index));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assert(entries[0]!.index > this.committed, () => `append at ${entries[0]!.index} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** The first index where `entries` disagrees with our log or goes past it; 0 when all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a leader should probe next after a
   * rejection, skipping a whole term of entries per round trip instead of one entry.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} is beyond the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > this.applying && this.applying + 1 >= this.firstIndex();
  }

  /** The committed entries not yet handed out; they count as being applied from now on. */
  takeCommittedEntries(maxBytes: number): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const entries = this.slice(this.applying + 1, this.committed + 1, maxBytes);
    const last = entries[entries.length - 1];
    if (last !== undefined) this.applying = last.index;
    return entries;
  }

  /** Entries from `lo` to the end, within `maxBytes` (at least one). Throws LogCompactedError below the first index. */
  entriesFrom(lo: number, maxBytes: number): Entry[] {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new LogCompactedError(`entry ${lo} is compacted (first index ${this.firstIndex()})`);
    assert(hi <= this.lastIndex() + 1, () => `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      result = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      // Storage stopped early because of maxBytes: the unstable part would not fit either.
      if (result.length < Math.min(hi, offset) - lo) return result;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length === 0 ? tail : result.concat(tail);
    }
    return limitBytes(result, maxBytes);
  }


  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replaces the log with a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }
}
