// LevelDB writes that trail apply. A batch is handed to LevelDB and apply returns at once, while
// LevelDB writes it on its own thread; until the write lands, its writes stay in `view`, an overlay
// over the database through which every point read and every later apply reads, so nothing can
// read around them. Entries are durable in the Raft log before they are applied, so a crash that
// loses such a batch only replays it. One write at a time and in order: LevelDB does not promise to
// apply two batches issued concurrently in issue order, and one batch in flight bounds the memory.

import { DbSource, type MvccDb, Overlay } from "./store.js";

export class WriteBehind {
  /** The database, plus the writes of the batch in flight (none when nothing is). */
  readonly view: Overlay;
  readonly #db: MvccDb;
  /** Settles (never rejects) once the batch in flight is written or has failed. */
  #writing: Promise<void> = Promise.resolve();
  /** Set once a write failed: the database may have lost it, nothing may be read or written after. */
  #failure: Error | undefined;

  constructor(db: MvccDb) {
    this.#db = db;
    this.view = new Overlay(new DbSource(db));
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Waits for the write in flight, then moves every write of `batch` (left empty, still stacked on
   * `view`) into `view` and hands them to LevelDB. Reads through `view` see them from now on.
   */
  async write(batch: Overlay): Promise<void> {
    await this.flushed();
    this.view.adopt(batch);
    const chained = this.#db.batch();
    this.view.addTo(chained);
    this.#writing = chained.write().then(
      () => this.view.clear(),
      (error: unknown) => {
        this.#failure = new Error(`Cannot write applied entries to LevelDB: ${String(error)}; the node must stop`, { cause: error });
      },
    );
  }

  /** Resolves once every batch handed over so far is in LevelDB; rejects if one could not be written. */
  async flushed(): Promise<void> {
    await this.#writing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Waits for the write in flight to settle, whatever its outcome. */
  settled(): Promise<void> {
    return this.#writing;
  }
}
