// The shard map: the 32-bit hash space cut into contiguous ranges, each a shard (a Raft group) with
// its replicas and an epoch that grows whenever the shard's range or replicas change. The meta group
// holds the map; every node keeps a copy and routes by it. A range of keys is spread over every shard
// by the hash, except a prefix that holds a whole hash tag: all its keys share the tag's shard.

import type { NodeId } from "../raft/index.js";
import { keyHash } from "./key_hash.js";

export const HASH_SPACE = 2 ** 32;

export interface ShardInfo {
  readonly id: number;
  /** The hash range [start, end); the last shard ends at 2^32. */
  readonly start: number;
  readonly end: number;
  /** Replica node ids; the first is where the leader is placed at bootstrap. */
  readonly replicas: readonly NodeId[];
  readonly epoch: number;
}

export class ShardMapError extends Error {
  override readonly name = "ShardMapError";
}

export class ShardMap {
  /** Sorted by start; invariant: they tile [0, 2^32) without gaps or overlaps. */
  readonly shards: readonly ShardInfo[];

  constructor(
    readonly epoch: number,
    shards: readonly ShardInfo[],
  ) {
    this.shards = [...shards].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const shard of this.shards) {
      if (shard.start !== at) throw new ShardMapError(`shard ${shard.id} starts at ${shard.start}, but the previous shard ends at ${at}`);
      if (!(shard.end > shard.start && shard.end <= HASH_SPACE)) throw new ShardMapError(`shard ${shard.id} has an empty or out-of-space range [${shard.start}, ${shard.end})`);
      if (shard.replicas.length === 0) throw new ShardMapError(`shard ${shard.id} has no replicas`);
      at = shard.end;
    }
    if (at !== HASH_SPACE) throw new ShardMapError(`the shards end at ${at}, short of 2^32`);
    if (new Set(this.shards.map((s) => s.id)).size !== this.shards.length) throw new ShardMapError("two shards share an id");
  }

  shardForHash(hash: number): ShardInfo {
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.shards[mid]!.start <= hash) lo = mid;
      else hi = mid - 1;
    }
    return this.shards[lo]!;
  }

  shardFor(key: Uint8Array): ShardInfo {
    return this.shardForHash(keyHash(key));
  }

  byId(id: number): ShardInfo | undefined {
    return this.shards.find((s) => s.id === id);
  }

  /**
   * The shards that may hold keys of [key, rangeEnd): one for a single key or for a range inside a
   * prefix that holds a whole hash tag; every shard otherwise. The range may start past the prefix:
   * etcd3's namespaces ask from prefix + "\0" up to the prefix's end, and every key there still
   * starts with the prefix.
   */
  shardsForRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): readonly ShardInfo[] {
    if (rangeEnd === undefined || rangeEnd.byteLength === 0) return [this.shardFor(key)];
    const prefix = key.subarray(0, rangeEnd.byteLength);
    if (isPrefixEnd(prefix, rangeEnd) && holdsWholeTag(prefix)) return [this.shardFor(prefix)];
    return this.shards;
  }
}

/** Whether [key, rangeEnd) is exactly the keys that start with `key` (etcd's prefix scan). */
function isPrefixEnd(key: Uint8Array, rangeEnd: Uint8Array): boolean {
  let last = key.byteLength - 1;
  while (last >= 0 && key[last] === 0xff) last--;
  if (last < 0 || rangeEnd.byteLength !== last + 1) return false;
  for (let i = 0; i < last; i++) if (rangeEnd[i] !== key[i]) return false;
  return rangeEnd[last] === key[last]! + 1;
}

/** Whether every key that starts with `prefix` has the tag that `prefix` already closes. */
function holdsWholeTag(prefix: Uint8Array): boolean {
  const open = prefix.indexOf(0x7b);
  if (open < 0) return false;
  const close = prefix.indexOf(0x7d, open + 1);
  return close > open + 1;
}

/**
 * A new cluster's data shards: `count` equal ranges, replicas placed round-robin so that each node
 * holds as many replicas, and first replicas (where leaders start), as any other.
 */
export function evenShards(count: number, nodes: readonly NodeId[], replicas: number, firstId = 1): ShardInfo[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new ShardMapError(`the cluster needs at least one shard, got ${count}`);
  if (replicas < 1 || replicas > nodes.length) throw new ShardMapError(`--replicas ${replicas} must be between 1 and the ${nodes.length} members`);
  const shards: ShardInfo[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * HASH_SPACE) / count);
    const end = Math.floor(((i + 1) * HASH_SPACE) / count);
    const placed = Array.from({ length: replicas }, (_, r) => nodes[(i + r) % nodes.length]!);
    shards.push({ id: firstId + i, start, end, replicas: placed, epoch: 1 });
  }
  return shards;
}
