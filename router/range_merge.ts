// One Range answer from the answers of several shards. Each shard answered the same request on its
// own keys, already filtered, sorted and cut to `limit`; keys live in exactly one shard, so the
// answer is the parts merged in the asked order and cut to `limit` again. Why asking each shard for
// `limit` suffices under every sort: each shard orders by (target, then key ascending) exactly as the
// merge does (etcd's stable sort over key order), so the first `limit` of the whole are among the
// first `limit` of some part.

import { compareByTarget, type KeyValue, type RangeRequest, type RangeResponse } from "../shard/mvcc/index.js";

export function mergeRanges(parts: readonly RangeResponse[], req: RangeRequest): RangeResponse {
  // etcd's count: every key in the range before limit and filters; the shards' ranges are disjoint.
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  if (req.countOnly === true) return { kvs: [], more: false, count };
  const all = parts.flatMap((part) => part.kvs);
  all.sort(orderOf(req));
  const limit = req.limit ?? 0;
  const cut = limit > 0 && all.length > limit;
  // A part cut short means more keys than its `limit` matched, so more than `limit` in all.
  const more = cut || parts.some((part) => part.more);
  return { kvs: cut ? all.slice(0, limit) : all, more, count };
}

/** etcd's rules (range.ts `shape`): a target without an order sorts ascending; ties keep key order. */
export function orderOf(req: RangeRequest): (a: KeyValue, b: KeyValue) => number {
  const target = req.sortTarget ?? "key";
  let order = req.sortOrder ?? "none";
  if (target !== "key" && order === "none") order = "ascend";
  const byTarget = compareByTarget(target);
  const sign = order === "descend" ? -1 : 1;
  return (a, b) => sign * byTarget(a, b) || Buffer.compare(a.key, b.key);
}

/** Sorts the deleted keys of several shards into key order, as one shard would have listed them. */
export function byKey(a: KeyValue, b: KeyValue): number {
  return Buffer.compare(a.key, b.key);
}
