// One LevelDB write at a time per database, merging what every shard of the node hands over
// meanwhile. Each shard's write-behind layer (write_behind.ts) keeps one write in flight; with many
// shards applying in the same turn that was one write each, and each write is a hand-off to a
// libuv thread: on a busy 2-core machine the wake-ups cost more CPU than the writes (a put profile
// showed the batch writes' hand-off near the top). Merged, a turn's applies cost two: the first
// shard's write starts at once, and the others' merge into the one after it.
// Ordering holds: a shard has at most one write in flight, and writes of one database land in the
// order they were started. Shards' keys are disjoint, so merging never reorders two writes of one key.

import type { MvccChainedBatch, MvccDb } from "./store.js";

interface Submission {
  readonly fill: (batch: MvccChainedBatch) => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class DbWriter {
  #queued: Submission[] = [];
  #writing = false;

  constructor(private readonly db: MvccDb) {}

  /**
   * Resolves once what `fill` adds is in the database; rejects, for every submission merged with
   * it, when that write fails. `fill` runs when the write is built, now or once the write in flight
   * lands: what it reads must not change until this settles.
   */
  write(fill: (batch: MvccChainedBatch) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ fill, resolve, reject });
      // Idle: write at once (the first shard of a turn goes alone, the rest merge behind it).
      if (!this.#writing) void this.#start();
    });
  }

  async #start(): Promise<void> {
    const submissions = this.#queued;
    this.#queued = [];
    this.#writing = true;
    try {
      const batch = this.db.batch();
      for (const submission of submissions) submission.fill(batch);
      await batch.write();
      for (const submission of submissions) submission.resolve();
    } catch (error) {
      for (const submission of submissions) submission.reject(error);
    } finally {
      this.#writing = false;
      if (this.#queued.length > 0) void this.#start();
    }
  }
}

const writers = new WeakMap<MvccDb, DbWriter>();

/** The writer that every shard state over `db` shares. */
export function writerFor(db: MvccDb): DbWriter {
  let writer = writers.get(db);
  if (writer === undefined) {
    writer = new DbWriter(db);
    writers.set(db, writer);
  }
  return writer;
}
