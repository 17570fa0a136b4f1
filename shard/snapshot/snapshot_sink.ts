// Receiving a snapshot: chunks are written under a fresh generation of the replica's prefix, checked
// against the trailer, and only then made current by one synced write of the generation pointer.
// Until that write the old generation stays in force, so a crash or a bad stream at any point loses
// nothing; a staged generation that was never made current is garbage, dropped at the next start.

import { decodeGeneration, encodeGeneration, generationKey, GENERATION_MAX, groupRange, type LevelDb, prefixEnd, replicaPrefix, SYNCED_WRITE } from "../keyspace.js";
import { decodeChunk, SnapshotFormatError, type SnapshotTrailer } from "./snapshot_format.js";

export interface StagedSnapshot {
  readonly group: number;
  readonly generation: number;
  readonly prefix: Uint8Array;
  readonly trailer: SnapshotTrailer;
}

/** The generation in force for `group` (0 for a group never written). */
export async function currentGeneration(db: LevelDb, group: number): Promise<number> {
  const value = await db.get(generationKey(group));
  return value === undefined ? 0 : decodeGeneration(value);
}

export class SnapshotSink {
  private crc = 0;
  private pairs = 0;
  private bytes = 0;
  private staged: StagedSnapshot | undefined;

  private constructor(
    private readonly db: LevelDb,
    readonly group: number,
    readonly generation: number,
  ) {}

  /** Starts staging the next generation of `group`, clearing whatever an earlier attempt left there. */
  static async begin(db: LevelDb, group: number): Promise<SnapshotSink> {
    const current = await currentGeneration(db, group);
    if (current >= GENERATION_MAX) throw new RangeError(`group ${group} has used every generation number`);
    const sink = new SnapshotSink(db, group, current + 1);
    await sink.clear();
    return sink;
  }

  get prefix(): Uint8Array {
    return replicaPrefix(this.group, this.generation);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.staged !== undefined) throw new SnapshotFormatError(`group ${this.group}: a chunk arrived after the snapshot's trailer`);
    const decoded = decodeChunk(chunk, this.crc);
    if (decoded.kind === "end") {
      const { trailer } = decoded;
      if (trailer.pairs !== this.pairs || trailer.bytes !== this.bytes || trailer.crc !== this.crc) {
        throw new SnapshotFormatError(
          `group ${this.group}: the snapshot does not match its trailer (${this.pairs} pairs, ${this.bytes} bytes, crc ${this.crc} received; ` +
            `${trailer.pairs}, ${trailer.bytes}, ${trailer.crc} sent); it was discarded and the leader will send it again`,
        );
      }
      this.staged = { group: this.group, generation: this.generation, prefix: this.prefix, trailer };
      return;
    }
    const prefix = this.prefix;
    await this.db.batch(decoded.pairs.map(([key, value]) => ({ type: "put" as const, key: Buffer.concat([prefix, key]), value })));
    this.crc = decoded.crc;
    this.pairs += decoded.pairs.length;
    this.bytes += decoded.bytes;
  }

  /** The staged snapshot, once its trailer arrived and matched. */
  finish(): StagedSnapshot {
    if (this.staged === undefined) throw new SnapshotFormatError(`group ${this.group}: the snapshot stream ended before its trailer`);
    return this.staged;
  }

  /** Throws away what was staged. */
  async abort(): Promise<void> {
    await this.clear();
  }

  private async clear(): Promise<void> {
    const prefix = this.prefix;
    await this.db.clear({ gte: prefix, lt: prefixEnd(prefix) });
  }
}

/**
 * Makes a staged snapshot the group's state: one synced write of the pointer (which also makes every
 * staged chunk durable, LevelDB's log being one sequence), then the old generations are dropped.
 */
export async function commitStaged(db: LevelDb, staged: StagedSnapshot): Promise<void> {
  await db.put(generationKey(staged.group), encodeGeneration(staged.generation), SYNCED_WRITE);
  await dropOtherGenerations(db, staged.group, staged.generation);
}

/** Deletes every generation of `group` but `keep`: leftovers of an install that crashed or was superseded. */
export async function dropOtherGenerations(db: LevelDb, group: number, keep: number): Promise<void> {
  const all = groupRange(group);
  const kept = replicaPrefix(group, keep);
  await db.clear({ gte: all.gte, lt: kept });
  await db.clear({ gte: prefixEnd(kept), lt: all.lt });
}
