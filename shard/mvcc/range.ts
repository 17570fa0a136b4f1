// Range reads with etcd's rules (server/etcdserver/txn/range.go): count is every key in the range
// at the revision before limit and before the min/max revision filters; more says the limit cut the
// answer; sorting defaults to ascending when only a target is given. A past revision inside the
// retained window is answered by undoing the newer events (each carries the previous kv). A key whose
// TTL passed as of nowMs is absent for every read, whether or not its deletion has applied.

import { ETCD_ERRORS, compactedError, futureRevisionError, invalidArgument } from "./errors.js";
import { type KeyLayout, bytesToLatin1, compareBytes, isSingleKey, keyInRange } from "./keys.js";
import { decodeKeyRecord } from "./record_codec.js";
import type { KeyValue, RangeRequest, RangeResponse, SortTarget } from "./requests.js";
import type { KvSource } from "./store.js";
import { readRecord, visibleKv } from "./key_store.js";
import { eventsNewerThan } from "./events.js";

/** What a read is answered against: the state as of `revision`. */
export interface ReadView {
  readonly revision: number;
  readonly compactRevision: number;
  readonly nowMs: number;
}

const EMPTY = new Uint8Array(0);

export async function rangeRead(source: KvSource, layout: KeyLayout, req: RangeRequest, view: ReadView): Promise<RangeResponse> {
  if (req.key.length === 0) throw invalidArgument(ETCD_ERRORS.emptyKey);
  const asked = req.revision ?? 0;
  if (asked > view.revision) throw futureRevisionError();
  const revision = asked <= 0 ? view.revision : asked;
  // etcd answers the compaction revision itself (compaction keeps the state as of it); only older
  // revisions are gone. Our undo needs events > revision, all of which are still retained.
  if (revision < view.compactRevision) throw compactedError();
  if (revision === view.revision) {
    const { kvs, total } = await currentKvs(source, layout, req, view.nowMs, scanKeep(req));
    return shape(kvs, total, req);
  }
  const kvs = await historicalKvs(source, layout, req, revision, view.nowMs);
  return shape(kvs, kvs.length, req);
}

/**
 * One key at the current revision, read synchronously: what a Get is. `source` must be at `view`'s
 * revision for the whole call, which a synchronous read of the apply overlay is (no LevelDB snapshot
 * to take, no wait for writes in flight). Undefined when `req` is not that case: rangeRead answers it.
 */
export function pointRead(source: KvSource, layout: KeyLayout, req: RangeRequest, view: ReadView): RangeResponse | undefined {
  if (!isSingleKey(req.rangeEnd) || req.key.length === 0) return undefined;
  const asked = req.revision ?? 0;
  if (asked > 0 && asked !== view.revision) return undefined;
  const kv = visibleKv(readRecord(source, layout, req.key), view.nowMs);
  return kv === undefined ? shape([], 0, req) : shape([kv], 1, req);
}

/** Every visible kv in the key's range at the current revision, in key order. */
export async function* visibleKvsIn(
  source: KvSource,
  layout: KeyLayout,
  key: Uint8Array,
  rangeEnd: Uint8Array | undefined,
  nowMs: number,
): AsyncGenerator<KeyValue> {
  if (isSingleKey(rangeEnd)) {
    const kv = visibleKv(readRecord(source, layout, key), nowMs);
    if (kv !== undefined) yield kv;
    return;
  }
  for await (const [dbKey, bytes] of source.scan(layout.kvRange(key, rangeEnd))) {
    const kv = visibleKv(decodeKeyRecord(layout.userKeyOfKv(dbKey), bytes), nowMs);
    if (kv !== undefined) yield kv;
  }
}

/** How many kvs, in key order, the answer can need: all of them unless key order is the answer's order. */
function scanKeep(req: RangeRequest): number {
  if (req.countOnly === true) return 0;
  const keyOrdered = (req.sortTarget ?? "key") === "key" && req.sortOrder !== "descend";
  const filtered = nonZero(req.minModRevision) || nonZero(req.maxModRevision) || nonZero(req.minCreateRevision) || nonZero(req.maxCreateRevision);
  const limit = req.limit ?? 0;
  return keyOrdered && !filtered && limit > 0 ? limit + 1 : Infinity;
}

async function currentKvs(
  source: KvSource,
  layout: KeyLayout,
  req: RangeRequest,
  nowMs: number,
  keep: number,
): Promise<{ kvs: KeyValue[]; total: number }> {
  const kvs: KeyValue[] = [];
  let total = 0;
  for await (const kv of visibleKvsIn(source, layout, req.key, req.rangeEnd, nowMs)) {
    total++;
    if (kvs.length < keep) kvs.push(kv);
  }
  return { kvs, total };
}

async function historicalKvs(source: KvSource, layout: KeyLayout, req: RangeRequest, revision: number, nowMs: number): Promise<KeyValue[]> {
  // Start from every live record (expired or not: expiry is judged at the end, by the reader's clock).
  const state = new Map<string, KeyValue>();
  for await (const kv of visibleKvsIn(source, layout, req.key, req.rangeEnd, -Infinity)) state.set(bytesToLatin1(kv.key), kv);
  for (const event of await eventsNewerThan(source, layout, revision)) {
    if (!keyInRange(event.kv.key, req.key, req.rangeEnd)) continue;
    const id = bytesToLatin1(event.kv.key);
    if (event.prevKv === undefined) state.delete(id);
    else state.set(id, event.prevKv);
  }
  const kvs = [...state.values()].filter((kv) => visibleKv({ tombstone: false, kv }, nowMs) !== undefined);
  return kvs.sort((a, b) => compareBytes(a.key, b.key));
}

/** Filters, sort, limit and keysOnly, on kvs in key order (etcd's order of steps). */
function shape(kvs: KeyValue[], total: number, req: RangeRequest): RangeResponse {
  if (req.countOnly === true) return { kvs: [], more: false, count: total };
  let answer = kvs.filter(
    (kv) =>
      (!nonZero(req.maxModRevision) || kv.modRevision <= req.maxModRevision!) &&
      (!nonZero(req.minModRevision) || kv.modRevision >= req.minModRevision!) &&
      (!nonZero(req.maxCreateRevision) || kv.createRevision <= req.maxCreateRevision!) &&
      (!nonZero(req.minCreateRevision) || kv.createRevision >= req.minCreateRevision!),
  );
  const target = req.sortTarget ?? "key";
  let order = req.sortOrder ?? "none";
  if (target !== "key" && order === "none") order = "ascend";
  if (target === "key" && order === "ascend") order = "none";
  if (order !== "none") {
    const compare = compareByTarget(target);
    // Array.prototype.sort is stable: ties keep key order in both directions.
    answer.sort(order === "ascend" ? compare : (a, b) => compare(b, a));
  }
  const limit = req.limit ?? 0;
  let more = false;
  if (limit > 0 && answer.length > limit) {
    answer = answer.slice(0, limit);
    more = true;
  }
  if (req.keysOnly === true) answer = answer.map((kv) => ({ ...kv, value: EMPTY }));
  return { kvs: answer, more, count: total };
}

/** etcd's order for a sort target; the router merges shards' answers with the same one. */
export function compareByTarget(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case "key":
      return (a, b) => compareBytes(a.key, b.key);
    case "value":
      return (a, b) => compareBytes(a.value, b.value);
    case "version":
      return (a, b) => a.version - b.version;
    case "create":
      return (a, b) => a.createRevision - b.createRevision;
    case "mod":
      return (a, b) => a.modRevision - b.modRevision;
  }
}

function nonZero(value: number | undefined): value is number {
  return value !== undefined && value !== 0;
}
