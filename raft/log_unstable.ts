// The tail of the log that the driver has not yet made durable: entries appended since the last
// Ready, and a snapshot received from the leader. Entries leave it only when `advance()` says they
// are stable, and only if they were not overwritten in between.

import { assert } from "./assert.js";
import type { Entry, Snapshot } from "./types.js";

export class UnstableLog {
  /** A snapshot to install; when set, `offset === snapshot.meta.index + 1`. */
  snapshot: Snapshot | undefined;
  /** Invariant: entries[i].index === offset + i. */
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  firstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.meta.index + 1;
  }

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.meta.index;
  }

  /** The term at `index` if the unstable part knows it. */
  term(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot !== undefined && this.snapshot.meta.index === index ? this.snapshot.meta.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** Entries up to `index` (with `term`) are durable: forget them, unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.term(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.meta.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = [];
    this.offset = snapshot.meta.index + 1;
  }

  /** Appends, cutting off whatever the new entries replace (the stable part is cut when they are persisted). */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    if (first === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (first <= this.offset) {
      this.offset = first;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, first - this.offset).concat(entries);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
