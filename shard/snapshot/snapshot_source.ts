// A replica's state as a stream of chunks, read from a LevelDB snapshot taken the moment the source
// is made: writes that land while the stream is read do not tear it. Memory stays bounded by one
// chunk and one iterator batch, whatever the size of the shard.

import type { AbstractSnapshot } from "abstract-level";
import { type LevelDb, prefixEnd } from "../keyspace.js";
import { ChunkWriter } from "./snapshot_format.js";

export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
const PAIRS_PER_READ = 1024;

export class SnapshotSource {
  private constructor(
    private readonly db: LevelDb,
    private readonly prefix: Uint8Array,
    private readonly view: AbstractSnapshot,
  ) {}

  /** Takes the database snapshot now, synchronously, so it sees exactly the writes made so far. */
  static take(db: LevelDb, prefix: Uint8Array): SnapshotSource {
    return new SnapshotSource(db, prefix, db.snapshot());
  }

  /** The chunks, ending with the trailer. Closes the snapshot when done or abandoned. */
  async *chunks(chunkBytesMax = SNAPSHOT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
    const iterator = this.db.iterator({ gte: this.prefix, lt: prefixEnd(this.prefix), snapshot: this.view });
    const writer = new ChunkWriter(chunkBytesMax);
    const cut = this.prefix.byteLength;
    try {
      for (;;) {
        const batch = await iterator.nextv(PAIRS_PER_READ);
        if (batch.length === 0) break;
        for (const [key, value] of batch) {
          const chunk = writer.add(key.subarray(cut), value);
          if (chunk !== undefined) yield chunk;
        }
      }
      const last = writer.flush();
      if (last !== undefined) yield last;
      yield writer.trailer();
    } finally {
      await iterator.close();
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.view.close();
  }
}
