// A LogStorage held in memory: the simulator's and the tests' disk, and a model for the WAL-backed
// storage. `entries[0]` is a dummy that carries the snapshot's index and term, so that the term of the
// entry just before the first one is always known.

import { assert } from "./assert.js";
import { LogCompactedError, type LogStorage, limitBytes } from "./storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";

const EMPTY = new Uint8Array(0);

export class MemoryStorage implements LogStorage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = { meta: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: EMPTY };
  /** Invariant: entries[i].index === entries[0].index + i, and entries[0] mirrors the snapshot point. */
  private ents: Entry[] = [{ term: 0, index: 0, type: "normal", data: EMPTY }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.meta.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.dummy().index;
    if (lo <= offset) throw new LogCompactedError(`entry ${lo} is compacted (first index ${offset + 1})`);
    assert(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    return limitBytes(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(index: number): number {
    const offset = this.dummy().index;
    if (index < offset) throw new LogCompactedError(`term of ${index} is compacted (snapshot at ${offset})`);
    const entry = this.ents[index - offset];
    assert(entry !== undefined, () => `term(${index}) beyond last index ${this.lastIndex()}`);
    return entry.term;
  }

  firstIndex(): number {
    return this.dummy().index + 1;
  }

  lastIndex(): number {
    return this.dummy().index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    assert(snapshot.meta.index >= this.snap.meta.index, "applySnapshot: snapshot is older than the current one");
    this.snap = snapshot;
    this.ents = [{ term: snapshot.meta.term, index: snapshot.meta.index, type: "normal", data: EMPTY }];
  }

  /** Records a snapshot of the state machine at `index` (which must be applied), without dropping entries. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(index > this.snap.meta.index, "createSnapshot: not newer than the current snapshot");
    assert(index <= this.lastIndex(), "createSnapshot: index beyond the last entry");
    this.snap = { meta: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Drops entries up to and including `index`; they must be covered by a snapshot. */
  compact(index: number): void {
    const offset = this.dummy().index;
    if (index <= offset) return;
    assert(index <= this.lastIndex(), "compact: index beyond the last entry");
    assert(index <= this.snap.meta.index, "compact: entries not covered by a snapshot");
    const first = this.ents[index - offset]!;
    this.ents = [{ term: first.term, index: first.index, type: "normal", data: EMPTY }, ...this.ents.slice(index - offset + 1)];
  }

  /** Appends entries, replacing any conflicting suffix (the leader's log wins, §3.5). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const offset = this.dummy().index;
    const first = entries[0]!.index;
    assert(first <= this.lastIndex() + 1, () => `append: gap between ${this.lastIndex()} and ${first}`);
    // Entries at or below the snapshot point are already covered; skip them.
    const skip = Math.max(0, offset + 1 - first);
    const fresh = entries.slice(skip);
    if (fresh.length === 0) return;
    const start = fresh[0]!.index - offset;
    this.ents.length = start;
    for (const entry of fresh) this.ents.push(entry);
  }

  private dummy(): Entry {
    return this.ents[0]!;
  }
}
