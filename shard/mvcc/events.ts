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

/**
 * Trims the oldest whole revisions once the log is over eventsRetainedMax; compactRevision follows.
 * The command's own events come last, and go too if the older ones are not enough (a delete of more
 * keys than the log keeps).
 */
export async function trimEvents(scope: CommandScope): Promise<void> {
  const max = scope.limits.eventsRetainedMax;
  if (scope.eventCount <= max) return;
  const target = max - eventTrimSlack(max);
  let remaining = scope.eventCount;
  let lastRevision = -1;
  const drop = (revision: number, count: number): void => {
    for (let sub = 0; sub < count; sub++) scope.overlay.del(scope.layout.event(revision, sub));
    remaining -= count;
    lastRevision = revision;
  };
  await eachOldestEvent(scope, ([revision, count]) => {
    if (remaining <= target) return false;
    drop(revision, count);
    return true;
  });
  if (remaining > target && scope.sub > 0) drop(scope.revision, scope.sub);
  scope.eventCount = remaining;
  scope.compactRevision = Math.max(scope.compactRevision, lastRevision);
}

/** Drops every event at or below `revision` (the caller checked it against the current state). */
export async function compactEvents(scope: CommandScope, revision: number): Promise<void> {
  await eachOldestEvent(scope, ([eventRevision, count]) => {
    if (eventRevision > revision) return false;
    for (let sub = 0; sub < count; sub++) scope.overlay.del(scope.layout.event(eventRevision, sub));
    scope.eventCount -= count;
    return true;
  });
  scope.compactRevision = revision;
}

/** Calls `visit` with the log's revisions, oldest first, until it returns false or none are left. */
async function eachOldestEvent(scope: CommandScope, visit: (entry: readonly [revision: number, count: number]) => boolean): Promise<void> {
  const index = scope.eventIndex;
  for (let cursor = index.start(); ; cursor++) {
    let entry = index.at(cursor);
    while (entry === undefined) {
      if (!(await index.scanMore(cursor, scope.before, scope.layout))) return;
      entry = index.at(cursor);
    }
    if (!visit(entry)) return;
  }
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
