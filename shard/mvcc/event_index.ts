// Which revisions the shard's event log holds and how many events each has, oldest first. Trimming
// and compaction find the keys to delete here instead of scanning for them. A put profile showed the
// trim's scan (every ~1,000 puts: a LevelDB iterator read through the thread pool, on a busy
// machine) holding apply up for 4–9 ms, an eighth of the run.
// It mirrors P 'e' as apply sees it: loaded by one scan the first time a trim or a compaction needs
// it (a shard that never trims never pays for it), then kept in step by apply after every command
// that succeeded. It is never persisted: a restart or a snapshot install opens a new shard state, and
// with it an index still to load. An event's sub-revisions run 0, 1, ... (events.ts), so a count is
// enough to name its keys.

import type { KeyLayout } from "./keys.js";
import type { KvSource } from "./store.js";

export class EventIndex {
  #revisions: number[] = [];
  #counts: number[] = [];
  /** Entries before it are dropped; the arrays are cut once it passes half their length. */
  #head = 0;
  #loaded = false;

  get loaded(): boolean {
    return this.#loaded;
  }

  /** Reads which events `source` holds after `compactRevision` (none is left at or below it). */
  async load(source: KvSource, layout: KeyLayout, compactRevision: number): Promise<void> {
    const revisions: number[] = [];
    const counts: number[] = [];
    for await (const [key] of source.scan(layout.eventRange(compactRevision + 1, undefined), true)) {
      const revision = layout.revisionOfEvent(key);
      if (revisions[revisions.length - 1] === revision) counts[counts.length - 1]!++;
      else {
        revisions.push(revision);
        counts.push(1);
      }
    }
    this.#revisions = revisions;
    this.#counts = counts;
    this.#head = 0;
    this.#loaded = true;
  }

  /**
   * A command at `revision` succeeded: it added `count` events and left the log's compact revision at
   * `compactRevision` (a trim may have removed the command's own events too). Ignored until loaded:
   * the load's scan will see them.
   */
  committed(revision: number, count: number, compactRevision: number): void {
    if (!this.#loaded) return;
    this.#dropThrough(compactRevision);
    if (count > 0 && revision > compactRevision) {
      this.#revisions.push(revision);
      this.#counts.push(count);
    }
  }

  /** [revision, event count] pairs, oldest first. */
  *oldestFirst(): Generator<readonly [revision: number, count: number]> {
    for (let i = this.#head; i < this.#revisions.length; i++) yield [this.#revisions[i]!, this.#counts[i]!];
  }

  #dropThrough(revision: number): void {
    while (this.#head < this.#revisions.length && this.#revisions[this.#head]! <= revision) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#revisions.length) {
      this.#revisions = this.#revisions.slice(this.#head);
      this.#counts = this.#counts.slice(this.#head);
      this.#head = 0;
    }
  }
}
