// The watch event log (P 'e' rev sub): every put and delete, including lease-revoke and TTL-expiry
// deletes, with the previous kv whenever the key existed. It feeds watches and answers historical
// reads by undo. It is bounded: compaction drops a prefix, and past eventsRetainedMax the oldest
// whole revisions are trimmed at apply (deterministically: the rule depends only on the log).

import { compactedError } from "./errors.js";
import { type KeyLayout, keyInRange } from "./keys.js";
import { decodeEvent, encodeEvent } from "./record_codec.js";
import type { WatchEvent } from "./requests.js";
import type { CommandScope } from "./scope.js";
import type { KvSource } from "./store.js";

export function appendEvent(scope: CommandScope, event: WatchEvent): void {
  appendEncodedEvent(scope, encodeEvent(event));
}

/** Appends an event already encoded (a put encodes its record once for the key and the event). */
export function appendEncodedEvent(scope: CommandScope, bytes: Uint8Array): void {
  scope.overlay.put(scope.layout.event(scope.revision, scope.sub), bytes);
  scope.sub++;
  scope.eventCount++;
}

/**
 * How far under eventsRetainedMax a trim goes: trimming a little more than needed means the log is
 * scanned once per `slack` events, not on every put once it is full.
 */
export function eventTrimSlack(eventsRetainedMax: number): number {
  return Math.min(1024, Math.floor(eventsRetainedMax / 8));
}

/** Trims the oldest whole revisions once the log is over eventsRetainedMax; compactRevision follows. */
export async function trimEvents(scope: CommandScope): Promise<void> {
  const max = scope.limits.eventsRetainedMax;
  if (scope.eventCount <= max) return;
  const target = max - eventTrimSlack(max);
  const doomed: Uint8Array[] = [];
  let remaining = scope.eventCount;
  let lastRevision = -1;
  // From past compactRevision, not from 0: no event is left at or below it (meta.ts), and LevelDB
  // would otherwise step over the tombstones of every event trimmed since its last compaction.
  for await (const [key] of scope.overlay.scan(scope.layout.eventRange(scope.compactRevision + 1, undefined), true)) {
    const revision = scope.layout.revisionOfEvent(key);
    if (remaining <= target && revision !== lastRevision) break;
    doomed.push(key);
    remaining--;
    lastRevision = revision;
  }
  for (const key of doomed) scope.overlay.del(key);
  scope.eventCount = remaining;
  scope.compactRevision = Math.max(scope.compactRevision, lastRevision);
}

/** Drops every event at or below `revision` (the caller checked it against the current state). */
export async function compactEvents(scope: CommandScope, revision: number): Promise<void> {
  const doomed: Uint8Array[] = [];
  const range = scope.layout.eventRange(scope.compactRevision + 1, revision + 1);
  for await (const [key] of scope.overlay.scan(range, true)) doomed.push(key);
  for (const key of doomed) scope.overlay.del(key);
  scope.eventCount -= doomed.length;
  scope.compactRevision = revision;
}

/**
 * Events from fromRevision on for keys in [key, rangeEnd), in revision order. Stops at `limit`
 * events, but never in the middle of a revision (a txn's events travel together).
 */
export async function readEvents(
  source: KvSource,
  layout: KeyLayout,
  compactRevision: number,
  fromRevision: number,
  key: Uint8Array,
  rangeEnd: Uint8Array | undefined,
  limit: number,
): Promise<WatchEvent[]> {
  if (compactRevision > 0 && fromRevision <= compactRevision) throw compactedError();
  const events: WatchEvent[] = [];
  let lastRevision = -1;
  for await (const [dbKey, bytes] of source.scan(layout.eventRange(Math.max(1, fromRevision), undefined))) {
    const revision = layout.revisionOfEvent(dbKey);
    if (events.length >= limit && revision !== lastRevision) break;
    const event = decodeEvent(bytes);
    if (!keyInRange(event.kv.key, key, rangeEnd)) continue;
    events.push(event);
    lastRevision = revision;
  }
  return events;
}

/** Events newer than `revision`, newest first: what a historical read undoes. */
export async function eventsNewerThan(source: KvSource, layout: KeyLayout, revision: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  for await (const [, bytes] of source.scan(layout.eventRange(revision + 1, undefined))) events.push(decodeEvent(bytes));
  return events.reverse();
}
