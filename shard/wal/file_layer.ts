// The few file operations the write-ahead log needs, behind an interface so that tests can put a
// layer underneath that forgets what was not synced (memory_files.ts), which a SIGKILL cannot show:
// the kernel keeps a killed process's writes, a power cut does not.

import { closeSync, openSync, readSync, writevSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";

export interface FileLayer {
  /** Whether the log should zero-fill its next segment ahead of time on this layer by default. */
  readonly preallocates: boolean;
  mkdir(dir: string): Promise<void>;
  /** File names in `dir`, or none if it does not exist. */
  list(dir: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /**
   * Opens `path` for appending at byte `at` (by default its end), creating it empty if it does not
   * exist. Bytes past `at` (a preallocated file's zeros) are overwritten, never shifted.
   */
  openAppend(path: string, at?: number): Promise<AppendFile>;
  /**
   * Creates `path` filled with `bytes` zeros and syncs it. Overwriting blocks that already exist asks
   * the file system for no new ones, so an fdatasync of the log need not wait for a journal commit
   * (and, on ext4, for every other file's dirty data): PostgreSQL's and etcd's preallocated segments.
   */
  preallocate(path: string, bytes: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Writes a whole file and syncs it (and its directory). */
  writeFileSynced(path: string, data: Uint8Array): Promise<void>;
  remove(path: string): Promise<void>;
  /** Makes the creation and removal of files in `dir` durable. */
  syncDir(dir: string): Promise<void>;
}

export interface AppendFile {
  readonly path: string;
  /** Appends the buffers in order at the end of the file. */
  append(buffers: readonly Uint8Array[]): Promise<void>;
  /** Makes every byte appended so far durable (fdatasync). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  /** Reads bytes already appended; synchronous, for the Raft core's synchronous log reads. */
  readSync(offset: number, length: number): Buffer;
  close(): Promise<void>;
}

export class DiskFileLayer implements FileLayer {
  readonly preallocates = true;

  async mkdir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
  }

  async list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async openAppend(path: string, at?: number): Promise<AppendFile> {
    // "a+" would ignore positions; "r+" needs the file to exist.
    await (await open(path, "a")).close();
    const handle = await open(path, "r+");
    const position = at ?? (await handle.stat()).size;
    return new DiskAppendFile(path, handle, openSync(path, "r"), position);
  }

  async preallocate(path: string, bytes: number): Promise<void> {
    const handle = await open(path, "w");
    try {
      const zeros = Buffer.alloc(Math.min(bytes, 1024 * 1024));
      for (let at = 0; at < bytes; at += zeros.length) {
        const length = Math.min(zeros.length, bytes - at);
        await handle.write(zeros, 0, length, at);
        // Small steps, each made durable, keep this background work from piling dirty pages in
        // front of the log's own syncs.
        await handle.datasync();
      }
    } finally {
      await handle.close();
    }
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  async writeFileSynced(path: string, data: Uint8Array): Promise<void> {
    await writeFile(path, data, { flush: true });
    await this.syncDir(dirOf(path));
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

class DiskAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** A separate descriptor for synchronous reads. */
    private readonly readFd: number,
    /** Where the next append goes. */
    private position: number,
  ) {}

  async append(buffers: readonly Uint8Array[]): Promise<void> {
    const expected = buffers.reduce((sum, b) => sum + b.byteLength, 0);
    // A write into the page cache takes microseconds; done on the thread pool it would queue behind
    // LevelDB's work there and take a round trip. The fdatasync, which waits for the disk, stays async.
    const bytesWritten = writevSync(this.handle.fd, buffers as Uint8Array[], this.position);
    // A short write to a regular file means the disk is full or failing: not something to retry.
    if (bytesWritten !== expected) throw new Error(`wrote ${bytesWritten} of ${expected} bytes`);
    this.position += expected;
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  async truncate(length: number): Promise<void> {
    await this.handle.truncate(length);
    this.position = Math.min(this.position, length);
  }

  readSync(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.readFd, buf, done, length - done, offset + done);
      if (n === 0) throw new Error(`${this.path} ends before byte ${offset + length}`);
      done += n;
    }
    return buf;
  }

  async close(): Promise<void> {
    closeSync(this.readFd);
    await this.handle.close();
  }
}

export function dirOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "." : path.slice(0, cut);
}
