// The tail of the log that the driver has not yet made durable: entries appended since the last
// Ready, and a snapshot received from the leader. Entries leave it only when `advance()` says they
// are stable, and only if they were not overwritten in between. Entries already handed to the driver
// in a Ready that is still being written are "in progress": the next Ready starts after them.

import { assert } from "./assert.js";
import type { Entry, Snapshot } from "./types.js";

export class UnstableLog {
  /** A snapshot to install; when set, `offset === snapshot.meta.index + 1`. */
  snapshot: Snapshot | undefined;
  /** Invariant: entries[i].index === offset + i. */
  entries: Entry[] = [];
  offset: number;
  /** Invariant: offset <= offsetInProgress <= offset + entries.length. Entries below it are being written. */
  offsetInProgress: number;
  /** The snapshot was handed to the driver in a Ready. */
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** Entries not yet handed to the driver. */
  entriesToPersist(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  snapshotToPersist(): Snapshot | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Everything unstable is now with the driver. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
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
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.meta.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
    this.entries = [];
    this.offset = snapshot.meta.index + 1;
    this.offsetInProgress = this.offset;
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
    // Whatever replaced entries that were being written must be written again.
    this.offsetInProgress = Math.min(this.offsetInProgress, first);
    if (first <= this.offset) this.offsetInProgress = this.offset;
  }

  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
