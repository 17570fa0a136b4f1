// Which revisions the shard's event log holds and how many events each has, oldest first. Trimming
// and compaction find the keys to delete here instead of scanning for them: a put profile showed the
// trim's scan (every ~1,000 puts, a LevelDB iterator read through the thread pool on a busy machine)
// holding apply up for 4–9 ms, an eighth of the run.
// It mirrors P 'e' as apply sees it. Events applied since the shard state opened are added by apply
// after each command that succeeded. Those from before lie in LevelDB and are read lazily, oldest
// first, a window at a time, when a trim or a compaction reaches them: one scan of the whole log at
// the first trim held apply up for 350 ms. It is never persisted: a restart or a snapshot install
// opens a new shard state, and with it a new index. An event's sub-revisions run 0, 1, ...
// (events.ts), so a count is enough to name its keys.

import type { KeyLayout } from "./keys.js";
import type { KvSource } from "./store.js";

/** Events read from LevelDB at a time (the window ends at a revision boundary, past this). */
export const EVENT_SCAN_WINDOW = 4096;

/** A position in the index, from `start()`; valid until the next `committed()`. */
export type EventCursor = number;

export class EventIndex {
  #revisions: number[] = [];
  #counts: number[] = [];
  /** Entries before it are dropped; the arrays are cut once it passes half their length. */
  #head = 0;
  /** Events at or below it that LevelDB holds are in the arrays; those above it, up to #openApplied, are not read yet. */
  #scannedThrough: number;

  constructor(
    compactRevision: number,
    /** The applied index when the state opened: events after it are the ones apply adds. */
    private readonly openApplied: number,
    private readonly scanWindow = EVENT_SCAN_WINDOW,
  ) {
    this.#scannedThrough = Math.min(compactRevision, openApplied);
  }

  start(): EventCursor {
    return this.#head;
  }

  /**
   * The [revision, count] at `cursor`, oldest first; undefined when older events must be read first
   * (`scanMore`) or when there are none left.
   */
  at(cursor: EventCursor): readonly [revision: number, count: number] | undefined {
    if (cursor >= this.#revisions.length) return undefined;
    const revision = this.#revisions[cursor]!;
    if (revision > this.#scannedThrough && this.#scannedThrough < this.openApplied) return undefined;
    return [revision, this.#counts[cursor]!];
  }

  /**
   * Reads the next window of events that LevelDB held when the state opened, from `source` (what the
   * command sees before its own writes), into the index at `cursor`, which must be where `at` stopped.
   * False when nothing is left to read.
   */
  async scanMore(cursor: EventCursor, source: KvSource, layout: KeyLayout): Promise<boolean> {
    if (this.#scannedThrough >= this.openApplied) return false;
    const revisions: number[] = [];
    const counts: number[] = [];
    let events = 0;
    let through = this.openApplied;
    for await (const [key] of source.scan(layout.eventRange(this.#scannedThrough + 1, this.openApplied + 1), true)) {
      const revision = layout.revisionOfEvent(key);
      if (revisions[revisions.length - 1] === revision) counts[counts.length - 1]!++;
      else {
        if (events >= this.scanWindow) {
          through = revisions[revisions.length - 1]!;
          break;
        }
        revisions.push(revision);
        counts.push(1);
      }
      events++;
    }
    this.#revisions.splice(cursor, 0, ...revisions);
    this.#counts.splice(cursor, 0, ...counts);
    this.#scannedThrough = through;
    return true;
  }

  /**
   * A command at `revision` succeeded: it added `count` events and left the log's compact revision at
   * `compactRevision` (a trim may have removed the command's own events too).
   */
  committed(revision: number, count: number, compactRevision: number): void {
    this.#dropThrough(compactRevision);
    if (count > 0 && revision > compactRevision) {
      this.#revisions.push(revision);
      this.#counts.push(count);
    }
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
