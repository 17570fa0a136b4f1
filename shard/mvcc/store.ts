// The database as the state machine sees it: point reads that never wait (getSync) and ordered scans,
// either straight from LevelDB (optionally pinned to a snapshot, for readers) or through an overlay
// of writes not yet in a batch (for apply, so that an entry sees the entries before it and a txn
// its own earlier writes). An overlay is discarded to roll a failed command back.

import { type DbRange, bytesToLatin1, compareBytes } from "./keys.js";

export interface MvccSnapshot {
  close(): Promise<void>;
}

export interface MvccIterator {
  nextv(size: number): Promise<[Uint8Array | undefined, Uint8Array | undefined][]>;
  close(): Promise<void>;
}

export type MvccBatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

/** abstract-level's chained batch: one call per op, cheaper to build than an array of op objects. */
export interface MvccChainedBatch {
  put(key: Uint8Array, value: Uint8Array): unknown;
  del(key: Uint8Array): unknown;
  write(): Promise<void>;
}

/** Naming the encodings the database was opened with spares abstract-level a copy of the options per read. */
export interface MvccGetOptions {
  keyEncoding: "view";
  valueEncoding: "view";
  snapshot: MvccSnapshot;
}

export interface MvccIteratorOptions {
  gte: Uint8Array;
  lt?: Uint8Array;
  keys?: boolean;
  values?: boolean;
  snapshot?: MvccSnapshot;
}

/**
 * What ShardState needs of an abstract-level database opened with keyEncoding and valueEncoding
 * 'view': classic-level in production, memory-level in tests. Both fit this shape.
 */
export interface MvccDb {
  readonly status: string;
  open(): Promise<void>;
  getSync(key: Uint8Array, options?: MvccGetOptions): Uint8Array | undefined;
  batch(operations: MvccBatchOp[]): Promise<void>;
  batch(): MvccChainedBatch;
  iterator(options: MvccIteratorOptions): MvccIterator;
  snapshot(): MvccSnapshot;
}

export type Entry = readonly [key: Uint8Array, value: Uint8Array];

export interface KvSource {
  /** Must not keep `key`: callers pass a buffer they reuse (KeyLayout.kvForRead). */
  get(key: Uint8Array): Uint8Array | undefined;
  /** Entries in [gte, lt) in key order; with keysOnly the values are empty. */
  scan(range: DbRange, keysOnly?: boolean): AsyncGenerator<Entry>;
}

const EMPTY = new Uint8Array(0);
const SCAN_CHUNK_ENTRIES = 256;

export class DbSource implements KvSource {
  /** undefined without a snapshot: abstract-level's fast path, which copies nothing. */
  private readonly getOptions: MvccGetOptions | undefined;

  constructor(
    private readonly db: MvccDb,
    private readonly snapshot?: MvccSnapshot,
  ) {
    this.getOptions = snapshot === undefined ? undefined : { keyEncoding: "view", valueEncoding: "view", snapshot };
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.db.getSync(key, this.getOptions);
  }

  async *scan(range: DbRange, keysOnly = false): AsyncGenerator<Entry> {
    if (range.lt !== undefined && compareBytes(range.gte, range.lt) >= 0) return;
    const options: MvccIteratorOptions = { gte: range.gte, values: !keysOnly };
    if (range.lt !== undefined) options.lt = range.lt;
    if (this.snapshot !== undefined) options.snapshot = this.snapshot;
    const iterator = this.db.iterator(options);
    try {
      for (;;) {
        const chunk = await iterator.nextv(SCAN_CHUNK_ENTRIES);
        if (chunk.length === 0) return;
        for (const [key, value] of chunk) yield [key!, value ?? EMPTY];
      }
    } finally {
      await iterator.close();
    }
  }
}

interface Write {
  readonly key: Uint8Array;
  /** null: deleted. */
  readonly value: Uint8Array | null;
}

export class Overlay implements KvSource {
  private writes = new Map<string, Write>();
  /** Roughly what the writes weigh, to bound a batch. */
  bytes = 0;

  constructor(private readonly under: KvSource) {}

  get size(): number {
    return this.writes.size;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.lookup(key, undefined);
  }

  /** `id` is the key as a Map key, made once and only if some layer has writes. */
  private lookup(key: Uint8Array, id: string | undefined): Uint8Array | undefined {
    if (this.writes.size > 0) {
      id ??= bytesToLatin1(key);
      const write = this.writes.get(id);
      if (write !== undefined) return write.value ?? undefined;
    }
    return this.under instanceof Overlay ? this.under.lookup(key, id) : this.under.get(key);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(bytesToLatin1(key), { key, value });
    this.bytes += key.length + value.length + 16;
  }

  del(key: Uint8Array): void {
    this.writes.set(bytesToLatin1(key), { key, value: null });
    this.bytes += key.length + 16;
  }

  /** Moves every write into the overlay below (a command that succeeded). */
  commitTo(parent: Overlay): void {
    for (const [id, write] of this.writes) parent.writes.set(id, write);
    parent.bytes += this.bytes;
    this.writes.clear();
    this.bytes = 0;
  }

  /** Takes every write of `other` (which is left empty); this overlay must have none. */
  adopt(other: Overlay): void {
    if (this.writes.size > 0) throw new Error("Overlay.adopt: this overlay still holds writes");
    this.writes = other.writes;
    this.bytes = other.bytes;
    other.writes = new Map();
    other.bytes = 0;
  }

  /** Adds every write to a LevelDB batch; the order does not matter, each key appears once. */
  addTo(batch: MvccChainedBatch): void {
    for (const write of this.writes.values()) {
      if (write.value === null) batch.del(write.key);
      else batch.put(write.key, write.value);
    }
  }

  /** The writes as one LevelDB batch; the order does not matter, each key appears once. */
  batchOps(): MvccBatchOp[] {
    const ops: MvccBatchOp[] = [];
    for (const write of this.writes.values()) {
      ops.push(write.value === null ? { type: "del", key: write.key } : { type: "put", key: write.key, value: write.value });
    }
    return ops;
  }

  clear(): void {
    this.writes.clear();
    this.bytes = 0;
  }

  /**
   * The layers' writes merged over the source below them all, in one pass: a layer per async generator
   * would cost a promise per entry per layer (apply scans through four of them).
   */
  async *scan(range: DbRange, keysOnly = false): AsyncGenerator<Entry> {
    const newest = new Map<string, Write>();
    let source: KvSource = this;
    while (source instanceof Overlay) {
      source.collectWritesIn(range, newest);
      source = source.under;
    }
    const own = [...newest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, write]) => write);
    let next = 0;
    for await (const entry of source.scan(range, keysOnly)) {
      let shadowed = false;
      for (; next < own.length; next++) {
        const write = own[next]!;
        const order = compareBytes(write.key, entry[0]);
        if (order > 0) break;
        if (order === 0) shadowed = true;
        if (write.value !== null) yield [write.key, keysOnly ? EMPTY : write.value];
      }
      if (!shadowed) yield entry;
    }
    for (; next < own.length; next++) {
      const write = own[next]!;
      if (write.value !== null) yield [write.key, keysOnly ? EMPTY : write.value];
    }
  }

  /** Adds this layer's writes in `range` to `newest`, except for keys a newer layer already wrote. */
  private collectWritesIn(range: DbRange, newest: Map<string, Write>): void {
    for (const [id, write] of this.writes) {
      if (newest.has(id)) continue;
      if (compareBytes(write.key, range.gte) >= 0 && (range.lt === undefined || compareBytes(write.key, range.lt) < 0)) {
        newest.set(id, write);
      }
    }
  }
}
