// One shard replica's state machine over a LevelDB prefix: applies committed entries and answers
// reads. Only the meta, the lease table and the batch LevelDB is writing are held in memory (a
// shard of any size is never loaded); the meta and lease table are published together with the
// batch they describe, point reads see that batch through the write-behind overlay, and multi-key
// reads wait for it, pin a LevelDB snapshot and read the meta through it, so a read sees exactly one
// applied index.

import { crc32c } from "@node-rs/crc32";
import type { ConfState, Entry } from "../../raft/index.js";
import type { ApplyResult } from "./command.js";
import { BATCH_BYTES_MAX, applyEntries } from "./apply.js";
import { EventIndex } from "./event_index.js";
import { KeyLayout } from "./keys.js";
import { type MvccLimits, resolveLimits } from "./limits.js";
import { FRESH_META, type ShardMeta, decodeMeta } from "./meta.js";
import type { KeyValue, RangeRequest, RangeResponse, WatchEvent } from "./requests.js";
import type { LeaseChange } from "./scope.js";
import { DbSource, type MvccDb, type Overlay } from "./store.js";
import { WriteBehind } from "./write_behind.js";
import { readRecord, visibleKv } from "./key_store.js";
import { pointRead, rangeRead } from "./range.js";
import { readEvents } from "./events.js";
import { attachedKeys, readLease, readLeases } from "./leases.js";
import { expiredKeys, nextExpiryMs } from "./ttl.js";
import { countTombstonesBefore } from "./tombstones.js";

export interface ShardStateOptions {
  /** An abstract-level database opened with keyEncoding and valueEncoding 'view'. */
  readonly db: MvccDb;
  /** Every key of this shard starts with it; no other shard's prefix may start with it. */
  readonly prefix: Uint8Array;
  readonly limits?: Partial<MvccLimits>;
}

export class ShardState {
  readonly prefix: Uint8Array;
  readonly limits: MvccLimits;
  readonly #db: MvccDb;
  readonly #layout: KeyLayout;
  /** LevelDB, and the batch it is writing: what apply and point reads read through. */
  readonly #writeBehind: WriteBehind;
  /** As of the last batch handed to LevelDB. */
  #meta: ShardMeta;
  /** Mirror of P 'l': lease id -> granted TTL, as of the last batch handed to LevelDB. */
  readonly #leases: Map<bigint, number>;
  /** The retained events by revision, for trims and compactions. */
  readonly #eventIndex: EventIndex;
  /** Applies run one after another. */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(db: MvccDb, layout: KeyLayout, limits: MvccLimits, meta: ShardMeta, leases: Map<bigint, number>) {
    this.#db = db;
    this.#layout = layout;
    this.prefix = layout.prefix;
    this.limits = limits;
    this.#writeBehind = new WriteBehind(db);
    this.#meta = meta;
    this.#leases = leases;
    this.#eventIndex = new EventIndex(meta.compactRevision, meta.appliedIndex);
  }

  /** Loads the meta and the lease table; a fresh prefix starts at applied {0, 0}. */
  static async open(options: ShardStateOptions): Promise<ShardState> {
    const limits = resolveLimits(options.limits);
    // getSync refuses a database still opening; open() is a no-op on an open one.
    if (options.db.status !== "open") await options.db.open();
    const layout = new KeyLayout(options.prefix);
    const source = new DbSource(options.db);
    const metaBytes = source.get(layout.meta);
    const meta = metaBytes === undefined ? FRESH_META : decodeMeta(metaBytes);
    const leases = await readLeases(source, layout);
    return new ShardState(options.db, layout, limits, meta, leases);
  }

  get applied(): { index: number; term: number } {
    return { index: this.#meta.appliedIndex, term: this.#meta.appliedTerm };
  }

  get confState(): ConfState {
    return this.#meta.confState;
  }

  /** The shard's revision is its applied index. */
  get revision(): number {
    return this.#meta.appliedIndex;
  }

  get compactRevision(): number {
    return this.#meta.compactRevision;
  }

  /**
   * Applies committed entries in order and resolves once every read sees their effects and the
   * applied index; LevelDB holds them once `flushed()` resolves. Entries at or below the applied
   * index are skipped; a gap after it is a bug (throws).
   */
  apply(entries: readonly Entry[], confStateAt: (index: number) => ConfState): Promise<ApplyResult[]> {
    this.#assertOpen();
    const run = this.#tail.then(() =>
      applyEntries(
        {
          base: this.#writeBehind.view,
          layout: this.#layout,
          limits: this.limits,
          batchBytesMax: BATCH_BYTES_MAX,
          meta: this.#meta,
          eventIndex: this.#eventIndex,
          write: (batch, meta, changes) => this.#write(batch, meta, changes),
        },
        entries,
        confStateAt,
      ),
    );
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** A point read without a promise. A key whose TTL passed as of nowMs is absent. */
  getSync(key: Uint8Array, nowMs: number): KeyValue | undefined {
    this.#assertOpen();
    if (key.length === 0) return undefined;
    return visibleKv(readRecord(this.#writeBehind.view, this.#layout, key), nowMs);
  }

  /**
   * Resolves once everything applied so far is in LevelDB (not synced): what must precede a synced
   * LevelDB write meant to cover the applied index, and a snapshot of the database.
   */
  flushed(): Promise<void> {
    return this.#writeBehind.flushed();
  }

  /** etcd's Range, plus the revision the answer is as of. */
  async range(req: RangeRequest, nowMs: number): Promise<RangeResponse & { revision: number }> {
    this.#assertOpen();
    // A Get reads the apply overlay at once: the view and #meta move together (see #write).
    const meta = this.#meta;
    const point = pointRead(this.#writeBehind.view, this.#layout, req, { revision: meta.appliedIndex, compactRevision: meta.compactRevision, nowMs });
    if (point !== undefined) return { ...point, revision: meta.appliedIndex };
    return this.#withSnapshot(async (source, meta) => {
      const view = { revision: meta.appliedIndex, compactRevision: meta.compactRevision, nowMs };
      const response = await rangeRead(source, this.#layout, req, view);
      return { ...response, revision: meta.appliedIndex };
    });
  }

  /**
   * Events from fromRevision (inclusive) for keys in [key, rangeEnd), in revision order, at most
   * `limit` unless the last revision has more (a revision is never split). fromRevision at or
   * below compactRevision: OUT_OF_RANGE, compacted.
   */
  async events(fromRevision: number, key: Uint8Array, rangeEnd: Uint8Array | undefined, limit: number): Promise<WatchEvent[]> {
    return this.#withSnapshot((source, meta) =>
      readEvents(source, this.#layout, meta.compactRevision, fromRevision, key, rangeEnd, limit),
    );
  }

  async leaseTimeToLive(id: bigint, withKeys: boolean): Promise<{ grantedTtlSeconds: number; keys: Uint8Array[] } | undefined> {
    return this.#withSnapshot(async (source) => {
      const grantedTtlSeconds = readLease(source, this.#layout, id);
      if (grantedTtlSeconds === undefined) return undefined;
      return { grantedTtlSeconds, keys: withKeys ? await attachedKeys(source, this.#layout, id) : [] };
    });
  }

  /** Every lease of this shard, sorted by id. */
  leases(): { id: bigint; ttlSeconds: number }[] {
    return [...this.#leases]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, ttlSeconds]) => ({ id, ttlSeconds }));
  }

  /** Keys whose TTL passed as of nowMs, soonest expiry first: what the leader proposes to expire. */
  async expiredKeys(nowMs: number, limit: number): Promise<Uint8Array[]> {
    return this.#withSnapshot((source) => expiredKeys(source, this.#layout, nowMs, limit));
  }

  /** When the soonest TTL passes (undefined: no key has one), as of `revision`, the applied index it was read at. */
  async nextExpiry(): Promise<{ atMs: number | undefined; revision: number }> {
    return this.#withSnapshot(async (source, meta) => ({ atMs: await nextExpiryMs(source, this.#layout), revision: meta.appliedIndex }));
  }

  /** How many tombstones were deleted before `revision`, counted up to `limit`. */
  async tombstonesBefore(revision: number, limit: number): Promise<number> {
    return this.#withSnapshot((source) => countTombstonesBefore(source, this.#layout, revision, limit));
  }

  /**
   * CRC32C over every key (without the prefix, so a copy under another prefix hashes the same) and
   * value of the shard, in key order, each framed by its length. Equal at equal applied indexes.
   */
  async hash(): Promise<number> {
    return this.#withSnapshot(async (source) => {
      let crc = 0;
      const frame = Buffer.alloc(8);
      for await (const [key, value] of source.scan(this.#layout.all())) {
        const relative = key.subarray(this.prefix.length);
        frame.writeUInt32BE(relative.length, 0);
        frame.writeUInt32BE(value.length, 4);
        crc = crc32c(value, crc32c(relative, crc32c(frame, crc)));
      }
      return crc;
    });
  }

  /** Waits for applies and writes in flight; the database belongs to the caller and stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail;
    await this.#writeBehind.settled();
  }

  async #write(batch: Overlay, meta: ShardMeta, changes: readonly LeaseChange[]): Promise<void> {
    // write() moves the batch into the read view before it returns its promise; the meta follows in
    // the same synchronous step, so a point read never sees data newer than the revision it reports.
    const written = this.#writeBehind.write(batch);
    this.#meta = meta;
    for (const change of changes) {
      if (change.ttlSeconds === undefined) this.#leases.delete(change.id);
      else this.#leases.set(change.id, change.ttlSeconds);
    }
    await written;
  }

  async #withSnapshot<T>(read: (source: DbSource, meta: ShardMeta) => Promise<T>): Promise<T> {
    this.#assertOpen();
    await this.#writeBehind.flushed();
    const snapshot = this.#db.snapshot();
    try {
      const source = new DbSource(this.#db, snapshot);
      const metaBytes = source.get(this.#layout.meta);
      return await read(source, metaBytes === undefined ? FRESH_META : decodeMeta(metaBytes));
    } finally {
      await snapshot.close();
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("ShardState is closed");
    const failure = this.#writeBehind.failure;
    if (failure !== undefined) throw failure;
  }
}
