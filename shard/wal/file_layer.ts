// The few file operations the write-ahead log needs, behind an interface so that tests can put a
// layer underneath that forgets what was not synced (memory_files.ts), which a SIGKILL cannot show:
// the kernel keeps a killed process's writes, a power cut does not.

import { closeSync, openSync, readSync } from "node:fs";
import { type FileHandle, mkdir, open, readFile, readdir, rm, writeFile } from "node:fs/promises";

export interface FileLayer {
  mkdir(dir: string): Promise<void>;
  /** File names in `dir`, or none if it does not exist. */
  list(dir: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /** Opens `path` for appending, creating it empty if it does not exist. */
  openAppend(path: string): Promise<AppendFile>;
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

  async openAppend(path: string): Promise<AppendFile> {
    const handle = await open(path, "a+");
    return new DiskAppendFile(path, handle, openSync(path, "r"));
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
  ) {}

  async append(buffers: readonly Uint8Array[]): Promise<void> {
    const expected = buffers.reduce((sum, b) => sum + b.byteLength, 0);
    const { bytesWritten } = await this.handle.writev(buffers as Uint8Array[]);
    // A short write to a regular file means the disk is full or failing: not something to retry.
    if (bytesWritten !== expected) throw new Error(`wrote ${bytesWritten} of ${expected} bytes`);
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
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
