// Which point of the 32-bit hash space a key falls on. The whole key is hashed, unless it holds a
// hash tag: the bytes between its first "{" and the first "}" after it, when there are any (Redis
// Cluster's rule). Keys with the same tag land on the same point, hence in the same shard, so a
// transaction, a lock's waiters or an election's candidates can stay inside one shard.

import { xxh32 } from "@node-rs/xxhash";

const OPEN = 0x7b; // "{"
const CLOSE = 0x7d; // "}"

/** The part of `key` that is hashed: the content of its hash tag, or the whole key. */
export function hashTag(key: Uint8Array): Uint8Array {
  const open = key.indexOf(OPEN);
  if (open < 0) return key;
  const close = key.indexOf(CLOSE, open + 1);
  // "{}" or an unclosed "{" is no tag: Redis hashes the whole key then too.
  if (close < 0 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

/** The key's point in [0, 2^32). */
export function keyHash(key: Uint8Array): number {
  return xxh32(hashTag(key), 0) >>> 0;
}

/**
 * For a refusal's message: how to keep a prefix such as "mylock/" in one shard, written for that
 * prefix ("{mylock}/", and for etcd's lock and election recipes, which range over NAME/, the name
 * '{mylock}'); a generic example when the prefix is not short plain text ending in "/". `verb` is
 * what the client does over the prefix ("range over", "read", "watch").
 */
export function taggedPrefixAdvice(prefix: Uint8Array, verb = "range over"): string {
  const text = Buffer.from(prefix).toString("utf8");
  const name = text.slice(0, -1);
  if (!text.endsWith("/") || !/^[\w.:@+=,-]{1,64}$/.test(name)) {
    return `${verb} a prefix that holds a whole hash tag, like "{user:42}/"`;
  }
  const recipes = verb === "range over" ? ` (with etcdctl lock or elect, name it '{${name}}')` : "";
  return `${verb} "{${name}}/" instead of "${text}": the braces make a hash tag${recipes}`;
}
