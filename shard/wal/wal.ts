// The node's write-ahead log: one append-only sequence of segment files shared by every Raft group on
// the node (etcd's WAL, TiKV's raft-engine). Records are buffered as the groups produce them and made
// durable together by `sync()`, one fdatasync per segment touched, however many groups wrote: group
// commit. Nothing may be acknowledged, voted or answered on the strength of a record before the
// `sync()` that covers it resolves. A segment is deleted once every group has compacted past it.

import type { ConfState, Entry, HardState } from "../../raft/index.js";
import { entryBytes } from "../../raft/index.js";
import { WalCorruptionError, WalFatalError } from "./errors.js";
import { type AppendFile, DiskFileLayer, type FileLayer } from "./file_layer.js";
import { GroupLog, type RecordLocation } from "./group_log.js";
import { encodeRecord, type GroupId, readRecord, type WalRecord } from "./record.js";
import { isZero, SEGMENT_MAGIC, scanSegment } from "./segment_scan.js";

export interface WalOptions {
  readonly dir: string;
  readonly files?: FileLayer;
  /** A segment is closed and a new one begun once it would grow past this. */
  readonly segmentBytesMax?: number;
  /** The largest record accepted; a bigger length in a header is damage, not data. */
  readonly recordBytesMax?: number;
  /** Entries each group keeps in memory; older ones are read back from their segment. */
  readonly cacheBytesPerGroupMax?: number;
  /** Zero-fill each next segment ahead of time (see FileLayer.preallocate); by default on disk, not in memory. */
  readonly preallocate?: boolean;
  readonly log?: (line: string) => void;
}

export const WAL_DEFAULTS = {
  segmentBytesMax: 64 * 1024 * 1024,
  recordBytesMax: 64 * 1024 * 1024,
  cacheBytesPerGroupMax: 4 * 1024 * 1024,
} as const;

/** A torn tail that recovery cut off, and where it kept the bytes. */
export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  readonly savedAs: string;
}

interface Segment {
  readonly seq: number;
  readonly path: string;
  file: AppendFile | undefined;
  /** Bytes appended, including those still waiting for the next flush. */
  size: number;
  /** Bytes handed to the file. */
  written: number;
  /** The largest entry index each group has in this segment. */
  readonly maxIndex: Map<GroupId, number>;
}

interface PendingChunk {
  readonly seq: number;
  readonly buffers: Buffer[];
  bytes: number;
}

const SEGMENT_NAME = /^[0-9a-f]{16}\.wal$/;

export class Wal {
  private readonly files: FileLayer;
  private readonly segmentBytesMax: number;
  private readonly recordBytesMax: number;
  private readonly cacheBytesPerGroupMax: number;
  private readonly groupLogs = new Map<GroupId, GroupLog>();
  /** Oldest first; the last is the one being appended to. */
  private readonly segments: Segment[] = [];
  private pending: PendingChunk[] = [];
  private appended = 0;
  private durable = 0;
  private flushing: Promise<void> | undefined;
  private failure: WalFatalError | undefined;
  private decoded: { seq: number; offset: number; entries: readonly Entry[] } | undefined;
  readonly tornTails: TornTail[] = [];
  private readonly preallocate: boolean;
  /** The next segment's file, zero-filled ahead of time; resolves to undefined if that failed. */
  private spare: Promise<string | undefined> | undefined;
  /** Told of each flush that synced (metrics): time in fdatasync and bytes written. Called once per flush, never per record. */
  private syncObserver: ((fsyncMs: number, bytes: number) => void) | undefined;

  private constructor(private readonly options: WalOptions) {
    this.files = options.files ?? new DiskFileLayer();
    this.segmentBytesMax = options.segmentBytesMax ?? WAL_DEFAULTS.segmentBytesMax;
    this.recordBytesMax = options.recordBytesMax ?? WAL_DEFAULTS.recordBytesMax;
    this.cacheBytesPerGroupMax = options.cacheBytesPerGroupMax ?? WAL_DEFAULTS.cacheBytesPerGroupMax;
    this.preallocate = options.preallocate ?? this.files.preallocates;
  }

  /** Opens the log in `options.dir`, recovering what is there; creates it if there is none. */
  static async open(options: WalOptions): Promise<Wal> {
    const wal = new Wal(options);
    await wal.recover();
    return wal;
  }

  // ---- Recovery --------------------------------------------------------------------------------

  private async recover(): Promise<void> {
    const { dir } = this.options;
    await this.files.mkdir(dir);
    const names = (await this.files.list(dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
    for (const [i, name] of names.entries()) {
      const path = `${dir}/${name}`;
      const seq = Number.parseInt(name.slice(0, 16), 16);
      const buf = await this.files.readFile(path);
      const { records, end } = scanSegment(buf, this.recordBytesMax, i === names.length - 1);
      if (end.kind === "corrupt") throw new WalCorruptionError(path, end.offset, end.reason);
      const logicalEnd = end.kind === "clean" ? end.offset : buf.length;
      const segment: Segment = { seq, path, file: await this.files.openAppend(path, logicalEnd), size: logicalEnd, written: logicalEnd, maxIndex: new Map() };
      this.segments.push(segment);
      for (const { record, offset, bytes } of records) this.replay(segment, record, offset, bytes);
      if (end.kind === "torn") await this.cutTornTail(segment, buf, end.offset);
    }
    // A spare segment being zero-filled when the node stopped is started again from scratch.
    await this.files.remove(this.sparePath());
    for (const [group, log] of this.groupLogs) {
      const hole = log.firstHole();
      if (hole !== undefined) throw new WalCorruptionError(dir, 0, `group ${group} has no entry ${hole} between its first ${log.first} and last ${log.last}`);
    }
    this.prepareSpare();
    if (this.segments.length === 0) {
      this.startSegment(1);
      await this.sync();
    }
    this.evictCaches();
  }

  private async cutTornTail(segment: Segment, buf: Buffer, offset: number): Promise<void> {
    const savedAs = `${segment.path}.torn-${offset}`;
    // Zeros hold nothing worth keeping (a preallocated segment that never got its header).
    const onlyZeros = isZero(buf, offset, buf.length);
    if (!onlyZeros) await this.files.writeFileSynced(savedAs, buf.subarray(offset));
    const file = segment.file!;
    await file.truncate(offset);
    // A segment torn inside its header gets a whole one, so that it reads as an empty segment.
    if (offset < SEGMENT_MAGIC.length) {
      await file.truncate(0);
      await file.append([SEGMENT_MAGIC]);
    }
    await file.datasync();
    segment.size = segment.written = Math.max(offset, SEGMENT_MAGIC.length);
    if (onlyZeros) return;
    this.tornTails.push({ file: segment.path, offset, bytes: buf.length - offset, savedAs });
    this.options.log?.(`write-ahead log: cut a torn tail of ${buf.length - offset} bytes from ${segment.path} at byte ${offset} (kept in ${savedAs})`);
  }

  private replay(segment: Segment, record: WalRecord, offset: number, bytes: number): void {
    const log = this.groupLog(record.group);
    switch (record.kind) {
      case "entries": {
        log.append(record.entries, { segment: segment.seq, offset, bytes });
        const last = record.entries[record.entries.length - 1];
        if (last !== undefined) segment.maxIndex.set(record.group, Math.max(segment.maxIndex.get(record.group) ?? 0, last.index));
        return;
      }
      case "hardState":
        log.hardState = record.hardState;
        return;
      case "snapshot":
        log.resetTo(record.index, record.term, record.confState);
        return;
      case "compact":
        log.compact(record.index, record.term, record.confState);
        return;
    }
  }

  private groupLog(group: GroupId): GroupLog {
    let log = this.groupLogs.get(group);
    if (log === undefined) {
      log = new GroupLog();
      this.groupLogs.set(group, log);
    }
    return log;
  }

  // ---- Reads -----------------------------------------------------------------------------------

  groups(): GroupId[] {
    return [...this.groupLogs.keys()].sort((a, b) => a - b);
  }

  /** A group's log as the WAL holds it (including records not yet synced). */
  group(group: GroupId): GroupLog | undefined {
    return this.groupLogs.get(group);
  }

  /** Entries [lo, hi) of a group, at least one and at most `maxBytes` after the first. */
  entries(group: GroupId, lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    const log = this.groupLogs.get(group);
    if (log === undefined || lo < log.first || hi > log.last + 1) {
      throw new RangeError(`group ${group} holds entries ${log?.first ?? 1}..${log?.last ?? 0}, not ${lo}..${hi - 1}`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const slot = log.slot(i)!;
      const entry = slot.entry ?? this.readEntry(slot.record, slot.ordinal);
      bytes += entryBytes(entry);
      // Like limitBytes: always the first entry, then as many as fit, without reading the rest.
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  private readEntry(location: RecordLocation, ordinal: number): Entry {
    const cached = this.decoded;
    if (cached?.seq !== location.segment || cached.offset !== location.offset) {
      const segment = this.segments.find((s) => s.seq === location.segment);
      if (segment?.file === undefined) throw new Error(`segment ${location.segment} is gone but still referenced`);
      const buf = segment.file.readSync(location.offset, location.bytes);
      const result = readRecord(buf, 0, this.recordBytesMax);
      if (!result.ok || result.record.kind !== "entries") {
        throw new WalCorruptionError(segment.path, location.offset, result.ok ? "an entry points at a record that holds none" : result.reason);
      }
      this.decoded = { seq: location.segment, offset: location.offset, entries: result.record.entries };
    }
    return this.decoded!.entries[ordinal]!;
  }

  // ---- Writes ----------------------------------------------------------------------------------

  /** Appends entries, replacing any the group holds from the first one's index on. */
  appendEntries(group: GroupId, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const log = this.groupLog(group);
    const first = entries[0]!.index;
    if (first > log.last + 1) throw new RangeError(`group ${group}: entry ${first} would leave a gap after ${log.last}`);
    const { segment, offset, bytes } = this.push({ kind: "entries", group, entries });
    log.append(entries, { segment: segment.seq, offset, bytes });
    segment.maxIndex.set(group, Math.max(segment.maxIndex.get(group) ?? 0, entries[entries.length - 1]!.index));
  }

  setHardState(group: GroupId, hardState: HardState): void {
    this.push({ kind: "hardState", group, hardState });
    this.groupLog(group).hardState = hardState;
  }

  /** The group installed a snapshot at `index`, with membership `confState`: its log restarts after it. */
  applySnapshot(group: GroupId, index: number, term: number, confState: ConfState): void {
    this.push({ kind: "snapshot", group, index, term, confState });
    this.groupLog(group).resetTo(index, term, confState);
  }

  /**
   * The state machine has made everything up to `index` durable: the log may forget it. Call this
   * only after that state is synced, never before: the WAL is the only other copy.
   */
  compact(group: GroupId, index: number, confState: ConfState): void {
    const log = this.groupLog(group);
    if (index < log.first) return;
    const term = log.term(index);
    if (term === undefined) throw new RangeError(`group ${group} cannot compact to ${index}: its log ends at ${log.last}`);
    this.push({ kind: "compact", group, index, term, confState });
    log.compact(index, term, confState);
  }

  private push(record: WalRecord): { segment: Segment; offset: number; bytes: number } {
    if (this.failure !== undefined) throw this.failure;
    const buf = encodeRecord(record);
    if (buf.length - 9 > this.recordBytesMax) throw new RangeError(`a ${record.kind} record of ${buf.length} bytes is over the ${this.recordBytesMax}-byte limit`);
    let segment = this.segments[this.segments.length - 1]!;
    if (segment.size + buf.length > this.segmentBytesMax && segment.size > SEGMENT_MAGIC.length) segment = this.startSegment(segment.seq + 1);
    return { segment, offset: this.write(segment, buf), bytes: buf.length };
  }

  /**
   * Begins a segment whose first records restate every group's hard state and log start, so that
   * older segments can go once their entries are compacted.
   */
  private startSegment(seq: number): Segment {
    const name = seq.toString(16).padStart(16, "0");
    const segment: Segment = { seq, path: `${this.options.dir}/${name}.wal`, file: undefined, size: 0, written: 0, maxIndex: new Map() };
    this.segments.push(segment);
    this.write(segment, SEGMENT_MAGIC);
    for (const [group, log] of this.groupLogs) {
      this.write(segment, encodeRecord({ kind: "compact", group, index: log.first - 1, term: log.prevTerm, confState: log.prevConfState }));
      this.write(segment, encodeRecord({ kind: "hardState", group, hardState: log.hardState }));
    }
    return segment;
  }

  private write(segment: Segment, buf: Buffer): number {
    const offset = segment.size;
    segment.size += buf.length;
    const last = this.pending[this.pending.length - 1];
    if (last?.seq === segment.seq) {
      last.buffers.push(buf);
      last.bytes += buf.length;
    } else {
      this.pending.push({ seq: segment.seq, buffers: [buf], bytes: buf.length });
    }
    this.appended++;
    return offset;
  }

  /** Calls `observer` after each flush that made records durable, with its fdatasync time and bytes written. */
  observeSyncs(observer: (fsyncMs: number, bytes: number) => void): void {
    this.syncObserver = observer;
  }

  /** Resolves once everything appended before the call is durable. */
  async sync(): Promise<void> {
    const target = this.appended;
    while (this.durable < target) {
      if (this.failure !== undefined) throw this.failure;
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
      });
      await this.flushing;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private async flush(): Promise<void> {
    const chunks = this.pending;
    this.pending = [];
    const upTo = this.appended;
    const firsts = new Map([...this.groupLogs].map(([group, log]) => [group, log.first]));
    let current = this.options.dir;
    try {
      let created = false;
      let writtenBytes = 0;
      const touched = new Set<Segment>();
      for (const chunk of chunks) {
        const segment = this.segments.find((s) => s.seq === chunk.seq)!;
        current = segment.path;
        if (segment.file === undefined) {
          segment.file = await this.openNewSegment(segment.path);
          created = true;
        }
        await segment.file.append(chunk.buffers);
        segment.written += chunk.bytes;
        writtenBytes += chunk.bytes;
        touched.add(segment);
      }
      const fsyncStartedMs = performance.now();
      for (const segment of touched) {
        current = segment.path;
        await segment.file!.datasync();
      }
      if (touched.size > 0) this.syncObserver?.(performance.now() - fsyncStartedMs, writtenBytes);
      current = this.options.dir;
      if (created) await this.files.syncDir(this.options.dir);
      this.durable = upTo;
      this.evictCaches();
      await this.collectGarbage(firsts);
    } catch (error) {
      this.failure ??= new WalFatalError("write and sync", current, error);
      throw this.failure;
    }
  }

  private sparePath(): string {
    return `${this.options.dir}/spare.prealloc`;
  }

  /** Starts zero-filling the next segment in the background, so it is ready when this one fills. */
  private prepareSpare(): void {
    if (!this.preallocate) return;
    const path = this.sparePath();
    this.spare = this.files.preallocate(path, this.segmentBytesMax).then(
      () => path,
      (error: unknown) => {
        this.options.log?.(`write-ahead log: could not preallocate ${path} (${String(error)}); the next segment grows as it is written`);
        return undefined;
      },
    );
  }

  /** A new segment's file: the spare, renamed into place, or an empty file if there is none. */
  private async openNewSegment(path: string): Promise<AppendFile> {
    const spare = await this.spare;
    this.spare = undefined;
    let file: AppendFile;
    if (spare !== undefined) {
      await this.files.rename(spare, path);
      file = await this.files.openAppend(path, 0);
    } else {
      file = await this.files.openAppend(path);
    }
    this.prepareSpare();
    return file;
  }

  private evictCaches(): void {
    const written = (location: RecordLocation): boolean => {
      const segment = this.segments.find((s) => s.seq === location.segment);
      return segment !== undefined && location.offset + location.bytes <= segment.written;
    };
    for (const log of this.groupLogs.values()) {
      if (log.cachedBytes > this.cacheBytesPerGroupMax) log.evict(this.cacheBytesPerGroupMax, written);
    }
  }

  /** Deletes the oldest segments that hold no entry any group still needs, as of `firsts` (durable). */
  private async collectGarbage(firsts: ReadonlyMap<GroupId, number>): Promise<void> {
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const needed = [...oldest.maxIndex].some(([group, max]) => max >= (firsts.get(group) ?? 0));
      if (needed) return;
      this.segments.shift();
      if (this.decoded?.seq === oldest.seq) this.decoded = undefined;
      await oldest.file?.close();
      await this.files.remove(oldest.path);
      this.options.log?.(`write-ahead log: removed ${oldest.path}, compacted past by every group`);
    }
  }

  /** Segment files, oldest first (for tests and status). */
  segmentPaths(): string[] {
    return this.segments.map((s) => s.path);
  }

  async close(): Promise<void> {
    if (this.failure === undefined && this.pending.length > 0) await this.sync().catch(() => undefined);
    await this.flushing?.catch(() => undefined);
    await this.spare;
    for (const segment of this.segments) await segment.file?.close();
  }
}
