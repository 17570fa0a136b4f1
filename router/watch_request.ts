// A WatchCreateRequest as etcd reads it (server/etcdserver/api/v3rpc/watch.go, recvLoop): an empty key
// is "\0", the smallest key; an empty range_end watches the key alone and "\0" every key from it on; a
// negative start revision or an empty range is refused. A refusal here is not a gRPC status: etcd
// answers it inside the stream, as a created-and-canceled response whose cancel_reason is the message.

import { type Writable, EventType, FilterType } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS, type WatchEvent } from "../shard/mvcc/index.js";
import { int64ToBigint, int64ToNumber, kvToWire } from "./etcd_convert.js";
import { RouterError } from "./errors.js";
import type { FeedRange } from "./shard_feed.js";

export interface WatchSpec extends FeedRange {
  /** 0: from the revision after the shard's current one ("now"). */
  readonly startRevision: number;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  /** 0n: the server picks the id. */
  readonly watchId: bigint;
}

/** etcd's own strings for the refusals it makes (server/storage/mvcc/watcher.go). */
export const WATCH_ERRORS = {
  emptyRange: "mvcc: watcher range is empty",
  duplicateId: "mvcc: duplicate watch ID provided on the WatchStream",
} as const;

/** The watch's spec, or a RouterError whose message becomes the cancel_reason. */
export function watchSpecFromWire(req: t.WatchCreateRequest): WatchSpec {
  const startRevision = int64ToNumber(req.start_revision, "watch start_revision");
  // etcd answers a negative start revision as if it were compacted away.
  if (startRevision < 0) throw RouterError.invalidArgument(ETCD_ERRORS.compacted);
  const watchId = int64ToBigint(req.watch_id, "watch_id");
  if (watchId < 0n) {
    throw RouterError.invalidArgument(`Cannot create watch ${watchId}: watch ids are non-negative (-1 marks progress reports); leave watch_id 0 to let the server pick one`);
  }
  let noPut = false;
  let noDelete = false;
  for (const filter of req.filters) {
    if (filter === FilterType.NOPUT) noPut = true;
    else if (filter === FilterType.NODELETE) noDelete = true;
    else throw RouterError.invalidArgument(`Cannot create a watch with filter ${filter}: the filters are NOPUT (0) and NODELETE (1)`);
  }
  // Decoded bytes are views into the received message: copied, so a long-lived watch does not pin it.
  const key = req.key.length === 0 ? new Uint8Array([0]) : Uint8Array.from(req.key);
  const rangeEnd = req.range_end.length === 0 ? undefined : Uint8Array.from(req.range_end);
  if (rangeEnd !== undefined && !isFromKey(rangeEnd) && Buffer.compare(key, rangeEnd) >= 0) throw RouterError.invalidArgument(WATCH_ERRORS.emptyRange);
  return { key, rangeEnd, startRevision, prevKv: req.prev_kv, progressNotify: req.progress_notify, noPut, noDelete, watchId };
}

/** range_end "\0": every key from `key` on. */
function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** The events the watch's filters let through, as etcd sends them (prev_kv only when asked). */
export function eventsToWire(spec: WatchSpec, events: readonly WatchEvent[]): Writable<t.Event>[] {
  const out: Writable<t.Event>[] = [];
  for (const event of events) {
    if (event.type === "put" ? spec.noPut : spec.noDelete) continue;
    out.push({
      type: event.type === "put" ? EventType.PUT : EventType.DELETE,
      kv: kvToWire(event.kv),
      prev_kv: spec.prevKv && event.prevKv !== undefined ? kvToWire(event.prevKv) : null,
    });
  }
  return out;
}
