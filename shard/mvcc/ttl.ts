// Per-key TTL (our own, Redis EXPIRE semantics): a put with ttlMs stores an absolute expiry and an
// entry in the TTL index (P 't' expiresAtMs key), which the leader scans to propose expireKeys. The
// deletion is re-checked at apply against the command's (monotonic) clock: a key re-put meanwhile,
// with a later TTL or none, survives.

import type { KeyLayout } from "./keys.js";
import type { ExpireKeysResponse } from "./requests.js";
import type { CommandScope } from "./scope.js";
import type { KvSource } from "./store.js";
import { deleteKey, isExpired, readRecord } from "./key_store.js";

export function applyExpireKeys(scope: CommandScope, keys: readonly Uint8Array[]): ExpireKeysResponse {
  let deleted = 0;
  for (const key of keys) {
    if (key.length === 0) continue;
    const record = readRecord(scope.overlay, scope.layout, key);
    if (record === undefined || record.tombstone || !isExpired(record.kv, scope.nowMs)) continue;
    deleteKey(scope, record.kv);
    deleted++;
  }
  return { deleted };
}

/** The latest expiry a TTL index key can hold (a u64 of milliseconds, kept exact as a number). */
const EXPIRY_MS_MAX = Number.MAX_SAFE_INTEGER - 1;

/** When the soonest TTL passes, or undefined when no key has one. */
export async function nextExpiryMs(source: KvSource, layout: KeyLayout): Promise<number | undefined> {
  for await (const [dbKey] of source.scan(layout.ttlRangeUpTo(EXPIRY_MS_MAX), true)) return layout.numberOfIndexEntry(dbKey);
  return undefined;
}

/** Keys whose expiry is <= nowMs, soonest first, at most `limit`. */
export async function expiredKeys(source: KvSource, layout: KeyLayout, nowMs: number, limit: number): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  if (limit <= 0) return keys;
  for await (const [dbKey] of source.scan(layout.ttlRangeUpTo(nowMs), true)) {
    keys.push(layout.userKeyOfIndexEntry(dbKey));
    if (keys.length >= limit) break;
  }
  return keys;
}
