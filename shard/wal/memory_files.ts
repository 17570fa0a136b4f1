// A file layer in memory that knows which bytes were synced, for tests: `crash()` gives the files as
// a power cut would leave them (unsynced bytes lost, or kept only in part, files whose directory was
// not synced gone), and faults can be injected into syncs. The write-ahead log's recovery is tested
// on what it leaves.

import type { AppendFile, FileLayer } from "./file_layer.js";
import { dirOf } from "./file_layer.js";

interface MemoryFile {
  data: Buffer;
  /** Bytes made durable by the last datasync. */
  synced: number;
  /** A preallocated file's synced zeros end here (0 for a file that grows by appends). */
  zeroedTo: number;
  /** Whether the file's directory entry is durable. */
  linked: boolean;
}

export interface CrashOptions {
  /** Keeps this many of each file's unsynced bytes (a write that reached the disk in part). */
  readonly keepUnsyncedBytes?: (path: string, unsynced: number) => number;
}

export class MemoryFiles implements FileLayer {
  /** Off by default: a preallocated segment costs its whole size in memory. */
  constructor(readonly preallocates = false) {}

  private files = new Map<string, MemoryFile>();
  private readonly dirs = new Set<string>();
  /** When set, the next datasync fails with this error. */
  failNextSync: Error | undefined;
  /** When set, a datasync takes this long: a power cut can then fall between a write and its sync. */
  syncDelay: (() => Promise<void>) | undefined;
  syncCount = 0;

  async mkdir(dir: string): Promise<void> {
    this.dirs.add(dir);
  }

  async list(dir: string): Promise<string[]> {
    const prefix = `${dir}/`;
    return [...this.files.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/")).map((p) => p.slice(prefix.length));
  }

  async readFile(path: string): Promise<Buffer> {
    return Buffer.from(this.get(path).data);
  }

  async openAppend(path: string, at?: number): Promise<AppendFile> {
    if (!this.files.has(path)) this.files.set(path, { data: Buffer.alloc(0), synced: 0, linked: false, zeroedTo: 0 });
    return new MemoryAppendFile(path, this, at ?? this.get(path).data.length);
  }

  async preallocate(path: string, bytes: number): Promise<void> {
    this.files.set(path, { data: Buffer.alloc(bytes), synced: 0, linked: false, zeroedTo: bytes });
  }

  async rename(from: string, to: string): Promise<void> {
    const file = this.get(from);
    this.files.delete(from);
    // The new name is durable once the directory is synced, as on a real file system.
    this.files.set(to, { ...file, linked: false });
  }

  async writeFileSynced(path: string, data: Uint8Array): Promise<void> {
    this.files.set(path, { data: Buffer.from(data), synced: data.byteLength, linked: true, zeroedTo: 0 });
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }

  async syncDir(dir: string): Promise<void> {
    for (const [path, file] of this.files) if (dirOf(path) === dir) file.linked = true;
  }

  get(path: string): MemoryFile {
    const file = this.files.get(path);
    if (file === undefined) throw new Error(`${path}: no such file`);
    return file;
  }

  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  /** Replaces a file's bytes, for tests that damage a log; what it writes counts as synced. */
  overwrite(path: string, data: Buffer): void {
    this.files.set(path, { data: Buffer.from(data), synced: data.length, linked: true, zeroedTo: 0 });
  }

  /** The files as a power cut leaves them. Open files of this layer must not be used after. */
  crash(options: CrashOptions = {}): MemoryFiles {
    const after = new MemoryFiles(this.preallocates);
    for (const dir of this.dirs) after.dirs.add(dir);
    for (const [path, file] of this.files) {
      if (!file.linked) continue;
      const unsynced = file.data.length - file.synced;
      const kept = Math.min(unsynced, Math.max(0, options.keepUnsyncedBytes?.(path, unsynced) ?? 0));
      const length = file.synced + kept;
      // A preallocated file keeps its synced zeros past what was written into it.
      const data = Buffer.alloc(Math.max(length, file.zeroedTo));
      file.data.copy(data, 0, 0, length);
      after.files.set(path, { data, synced: length, linked: true, zeroedTo: file.zeroedTo });
    }
    return after;
  }
}

class MemoryAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly files: MemoryFiles,
    private position: number,
  ) {}

  async append(buffers: readonly Uint8Array[]): Promise<void> {
    const file = this.files.get(this.path);
    const added = Buffer.concat(buffers);
    const end = this.position + added.length;
    if (end > file.data.length) {
      const grown = Buffer.alloc(end);
      file.data.copy(grown);
      file.data = grown;
    }
    added.copy(file.data, this.position);
    // Bytes below `synced` are never rewritten: the log only appends past its logical end.
    file.synced = Math.min(file.synced, this.position);
    this.position = end;
  }

  async datasync(): Promise<void> {
    const failure = this.files.failNextSync;
    if (failure !== undefined) {
      this.files.failNextSync = undefined;
      throw failure;
    }
    const file = this.files.get(this.path);
    const length = this.position;
    await this.files.syncDelay?.();
    file.synced = Math.max(file.synced, Math.min(length, file.data.length));
    this.files.syncCount++;
  }

  async truncate(length: number): Promise<void> {
    const file = this.files.get(this.path);
    file.data = Buffer.from(file.data.subarray(0, length));
    file.synced = Math.min(file.synced, length);
    file.zeroedTo = Math.min(file.zeroedTo, length);
    this.position = Math.min(this.position, length);
  }

  readSync(offset: number, length: number): Buffer {
    const data = this.files.get(this.path).data;
    if (offset + length > data.length) throw new Error(`${this.path} ends before byte ${offset + length}`);
    return Buffer.from(data.subarray(offset, offset + length));
  }

  async close(): Promise<void> {}
}
