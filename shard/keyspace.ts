// Where each thing lives in the node's one LevelDB database. Every shard replica's state sits under
// its own prefix, `g | group u32 | generation u32`, so that a snapshot is a copy of one key range and
// an installed snapshot replaces a replica by flipping one pointer (`n | "gen" | group`) in a synced
// write: a crash half way through an install leaves the old generation in force and the new one garbage.

import type { AbstractLevel } from "abstract-level";

/** The node's database: classic-level in production, memory-level in tests. Keys and values are bytes. */
export type LevelDb = AbstractLevel<string | Buffer | Uint8Array, Uint8Array, Uint8Array>;

const GROUP_TAG = 0x67; // "g"
const NODE_TAG = 0x6e; // "n"
const GENERATION = Buffer.from("gen");
const CHECKPOINT = Buffer.from("checkpoint");

export const GENERATION_MAX = 0xffff_ffff;

/** The prefix under which one generation of a group's state lives. */
export function replicaPrefix(group: number, generation: number): Uint8Array {
  const prefix = Buffer.allocUnsafe(9);
  prefix[0] = GROUP_TAG;
  prefix.writeUInt32BE(group, 1);
  prefix.writeUInt32BE(generation, 5);
  return prefix;
}

/** All generations of one group: [lo, hi). */
export function groupRange(group: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: replicaPrefix(group, 0), lt: prefixEnd(replicaPrefix(group, GENERATION_MAX)) };
}

/** The pointer to a group's current generation. */
export function generationKey(group: number): Uint8Array {
  const key = Buffer.allocUnsafe(1 + GENERATION.length + 4);
  key[0] = NODE_TAG;
  GENERATION.copy(key, 1);
  key.writeUInt32BE(group, 1 + GENERATION.length);
  return key;
}

export function encodeGeneration(generation: number): Uint8Array {
  const value = Buffer.allocUnsafe(4);
  value.writeUInt32BE(generation, 0);
  return value;
}

export function decodeGeneration(value: Uint8Array): number {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32BE(0);
}

/**
 * Write options that make classic-level fsync its log before answering (memory-level ignores them).
 * Kept in a variable, with a known option beside it: the abstract-level types do not know `sync`.
 */
export const SYNCED_WRITE = { keyEncoding: "view", sync: true } as const;

/** A key whose synced write makes every earlier write of the database durable. */
export const CHECKPOINT_KEY: Uint8Array = Buffer.concat([Buffer.from([NODE_TAG]), CHECKPOINT]);

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  throw new RangeError("a prefix of only 0xff bytes has no end");
}
