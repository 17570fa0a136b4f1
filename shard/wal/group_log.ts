// One Raft group's part of the write-ahead log, in memory: where each of its entries lies (segment,
// record, position), recent entries themselves, its hard state and where its log starts. It answers
// the Raft core's synchronous log reads; entries evicted from memory are read back from their segment.

import type { ConfState, Entry, HardState } from "../../raft/index.js";
import { entryBytes } from "../../raft/index.js";

/** Where a record lies: one object shared by every entry of the record (not one per entry). */
export interface RecordLocation {
  readonly segment: number;
  readonly offset: number;
  readonly bytes: number;
}

interface Slot {
  readonly term: number;
  /** The record that holds the entry, and the entry's position among the record's entries. */
  readonly record: RecordLocation;
  readonly ordinal: number;
  /** The entry, while it is cached; undefined once evicted (it is then read from its segment). */
  entry: Entry | undefined;
}

export class GroupLog {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  /** Invariant: the log holds exactly the entries first..last; `prevTerm` is the term at first - 1. */
  first = 1;
  prevTerm = 0;
  /** The membership at first - 1: where the Raft core starts rebuilding its configuration history. */
  prevConfState: ConfState = { voters: [], learners: [] };
  private readonly slots = new Map<number, Slot>();
  private lastIndex = 0;
  /** Entries below this index are not cached. */
  private cachedFrom = 1;
  cachedBytes = 0;

  get last(): number {
    return this.lastIndex;
  }

  /** Adds entries, first removing any at or after the first one's index (Raft §5.3). */
  append(entries: readonly Entry[], record: RecordLocation): void {
    const from = entries[0]?.index;
    if (from === undefined) return;
    this.truncateFrom(from);
    for (let ordinal = 0; ordinal < entries.length; ordinal++) {
      const entry = entries[ordinal]!;
      // Entries the state machine already made durable are not needed again.
      if (entry.index < this.first) continue;
      this.slots.set(entry.index, { term: entry.term, record, ordinal, entry });
      this.cachedBytes += entryBytes(entry);
    }
    this.lastIndex = Math.max(this.lastIndex, entries[entries.length - 1]!.index);
    if (from < this.cachedFrom) this.cachedFrom = Math.max(from, this.first);
  }

  private truncateFrom(index: number): void {
    for (let i = Math.max(index, this.first); i <= this.lastIndex; i++) this.drop(i);
    if (index <= this.lastIndex) this.lastIndex = Math.max(index - 1, this.first - 1);
  }

  private drop(index: number): void {
    const slot = this.slots.get(index);
    if (slot?.entry !== undefined) this.cachedBytes -= entryBytes(slot.entry);
    this.slots.delete(index);
  }

  /** Forgets entries up to `index`, whose term is `term` and where the membership is `confState`. */
  compact(index: number, term: number, confState: ConfState): void {
    if (index < this.first) return;
    this.prevConfState = confState;
    for (let i = this.first; i <= Math.min(index, this.lastIndex); i++) this.drop(i);
    this.first = index + 1;
    this.prevTerm = term;
    this.lastIndex = Math.max(this.lastIndex, index);
    this.cachedFrom = Math.max(this.cachedFrom, this.first);
  }

  /** The log restarts after a snapshot at `index`. */
  resetTo(index: number, term: number, confState: ConfState): void {
    this.prevConfState = confState;
    for (let i = this.first; i <= this.lastIndex; i++) this.drop(i);
    this.first = index + 1;
    this.prevTerm = term;
    this.lastIndex = index;
    this.cachedFrom = this.first;
  }

  /** The term at `index` (first - 1 ... last), or undefined outside that range. */
  term(index: number): number | undefined {
    if (index === this.first - 1) return this.prevTerm;
    return this.slots.get(index)?.term;
  }

  /** The entry at `index`, if cached, or where to read it. */
  slot(index: number): { readonly entry: Entry | undefined; readonly record: RecordLocation; readonly ordinal: number } | undefined {
    return this.slots.get(index);
  }

  /** The first index in first..last without an entry: a hole that recovery must not accept. */
  firstHole(): number | undefined {
    for (let i = this.first; i <= this.lastIndex; i++) if (!this.slots.has(i)) return i;
    return undefined;
  }

  /** Drops cached entries, oldest first, until the cache is within `bytesMax` or only unwritten ones are left. */
  evict(bytesMax: number, written: (record: RecordLocation) => boolean): void {
    while (this.cachedBytes > bytesMax && this.cachedFrom <= this.lastIndex) {
      const slot = this.slots.get(this.cachedFrom);
      if (slot?.entry !== undefined) {
        if (!written(slot.record)) return;
        this.cachedBytes -= entryBytes(slot.entry);
        slot.entry = undefined;
      }
      this.cachedFrom++;
    }
  }
}
