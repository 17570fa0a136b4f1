// LevelDB writes that trail apply. Apply hands its batch over and returns at once; LevelDB writes on
// its own thread, merged with other shards' writes (db_writer.ts). Batches handed over while a write is in flight are merged into one pending batch,
// written as soon as the write in flight lands: apply never waits for LevelDB (unless pending writes
// pass a bound), and LevelDB gets fewer, larger batches. Every point read and every later apply reads
// through `view`: the pending writes, then those in flight, then the database, so nothing reads
// around them. One LevelDB write at a time, so batches land in order (LevelDB does not promise to
// order batches issued concurrently). Entries are durable in the Raft log before they are applied,
// so a crash that loses these writes only replays them.

import { type DbWriter, writerFor } from "./db_writer.js";
import { DbSource, type MvccDb, Overlay } from "./store.js";

/** Pending bytes past which apply waits for LevelDB to catch up: the memory this layer may hold. */
export const PENDING_BYTES_MAX = 64 * 1024 * 1024;

export class WriteBehind {
  /** Writes handed to LevelDB and not yet landed. */
  readonly #inFlight: Overlay;
  /** The newest layer: writes not yet handed to LevelDB, over those in flight, over the database. */
  readonly view: Overlay;
  /** Shared by every shard of the database: their writes merge (db_writer.ts). */
  readonly #writer: DbWriter;
  /** Settles (never rejects) when the write in flight lands or fails; undefined when none is. */
  #writing: Promise<void> | undefined;
  /** Batches handed over, and how many of them LevelDB holds. */
  #handed = 0;
  #landed = 0;
  #failure: Error | undefined;

  constructor(db: MvccDb) {
    this.#writer = writerFor(db);
    this.#inFlight = new Overlay(new DbSource(db));
    this.view = new Overlay(this.#inFlight);
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Moves every write of `batch` (left empty) into the pending layer and starts a LevelDB write if none runs. */
  async write(batch: Overlay): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    // An empty pending layer (the usual case: #start just took it) takes the batch's map as it is.
    if (this.view.size === 0) this.view.adopt(batch);
    else batch.commitTo(this.view);
    this.#handed++;
    if (this.#writing === undefined) this.#start();
    while (this.view.bytes > PENDING_BYTES_MAX && this.#writing !== undefined) await this.#writing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  #start(): void {
    const upTo = this.#handed;
    this.#inFlight.adopt(this.view);
    // The writer fills the batch later; #inFlight stays as it is until this write lands.
    this.#writing = this.#writer.write((batch) => this.#inFlight.addTo(batch)).then(
      () => {
        this.#inFlight.clear();
        this.#landed = upTo;
        this.#writing = undefined;
        if (this.view.size > 0) this.#start();
      },
      (error: unknown) => {
        this.#failure = new Error(`Cannot write applied entries to LevelDB: ${String(error)}; the node must stop`, { cause: error });
        this.#writing = undefined;
      },
    );
  }

  /** Resolves once every batch handed over before the call is in LevelDB; rejects if one could not be written. */
  async flushed(): Promise<void> {
    const target = this.#handed;
    while (this.#landed < target && this.#writing !== undefined && this.#failure === undefined) await this.#writing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Waits for writes in flight to settle, whatever their outcome. */
  async settled(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }
}
