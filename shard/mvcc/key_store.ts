// One key's record written together with everything that must agree with it: the lease attachment
// index, the TTL index, the tombstone index and the watch event. Keeping these in one place is what
// lets revoke, expiry and purge trust their indexes instead of scanning the key space.

import type { KeyValue } from "./requests.js";
import { type KeyRecord, decodeKeyRecord, deletedKv, encodeLiveRecord, encodePutEvent, encodeTombstone } from "./record_codec.js";
import type { KeyLayout } from "./keys.js";
import type { KvSource } from "./store.js";
import type { CommandScope } from "./scope.js";
import { appendEncodedEvent, appendEvent } from "./events.js";

export function readRecord(source: KvSource, layout: KeyLayout, userKey: Uint8Array): KeyRecord | undefined {
  const bytes = source.get(layout.kvForRead(userKey));
  return bytes === undefined ? undefined : decodeKeyRecord(userKey, bytes);
}

export function isExpired(kv: KeyValue, nowMs: number): boolean {
  return kv.expiresAtMs !== undefined && kv.expiresAtMs <= nowMs;
}

/** The key as reads see it at nowMs: absent if deleted or if its TTL passed. */
export function visibleKv(record: KeyRecord | undefined, nowMs: number): KeyValue | undefined {
  if (record === undefined || record.tombstone || isExpired(record.kv, nowMs)) return undefined;
  return record.kv;
}

/**
 * Writes `kv` (its modRevision is the scope's revision) over `previous`, the record as the scope
 * sees it now, and records a put event with `prevKv`.
 */
export function writeKey(scope: CommandScope, kv: KeyValue, previous: KeyRecord | undefined, prevKv: KeyValue | undefined): void {
  const { layout, overlay } = scope;
  if (previous !== undefined && previous.tombstone) overlay.del(layout.tombstone(previous.deletedRevision, kv.key));
  if (previous !== undefined && !previous.tombstone) unindex(scope, previous.kv, kv);
  if (kv.lease !== 0n) overlay.put(layout.attachment(kv.lease, kv.key), EMPTY);
  if (kv.expiresAtMs !== undefined) overlay.put(layout.ttl(kv.expiresAtMs, kv.key), EMPTY);
  const record = encodeLiveRecord(kv);
  overlay.put(layout.kv(kv.key), record);
  appendEncodedEvent(scope, encodePutEvent(kv.key, record, prevKv));
}

/** Deletes a live key (expired or not): a tombstone at the scope's revision, and a delete event. */
export function deleteKey(scope: CommandScope, kv: KeyValue): void {
  const { layout, overlay, revision } = scope;
  unindex(scope, kv, undefined);
  overlay.put(layout.kv(kv.key), encodeTombstone(revision));
  overlay.put(layout.tombstone(revision, kv.key), EMPTY);
  appendEvent(scope, { type: "delete", kv: deletedKv(kv.key, revision), prevKv: kv });
}

/** Drops the index entries of `old` that `next` (undefined: nothing) does not keep. */
function unindex(scope: CommandScope, old: KeyValue, next: KeyValue | undefined): void {
  if (old.lease !== 0n && old.lease !== next?.lease) scope.overlay.del(scope.layout.attachment(old.lease, old.key));
  if (old.expiresAtMs !== undefined && old.expiresAtMs !== next?.expiresAtMs) {
    scope.overlay.del(scope.layout.ttl(old.expiresAtMs, old.key));
  }
}

const EMPTY = new Uint8Array(0);
