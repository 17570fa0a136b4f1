// One Range answer from the answers of several shards. Each shard answered the same request on its
// own keys, already filtered, sorted and cut to `limit`; keys live in exactly one shard, so the
// answer is the parts merged in the asked order and cut to `limit` again. Why asking each shard for
// `limit` suffices under every sort: each shard orders by (target, then key ascending) exactly as the
// merge does (etcd's stable sort over key order), so the first `limit` of the whole are among the
// first `limit` of some part. Sorting by value needs the values, so with keys_only the shards are
// asked for them (partRequest) and the merge leaves them out after sorting, as etcd strips values
// only after its sort (server/etcdserver/txn/range.go).

import { compareByTarget, type KeyValue, type RangeRequest, type RangeResponse } from "../shard/mvcc/index.js";

/** What each shard is asked: the request itself, but with the values when the merge must sort by them. */
export function partRequest(req: RangeRequest): RangeRequest {
  return req.keysOnly === true && req.sortTarget === "value" ? { ...req, keysOnly: false } : req;
}

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
  const kvs = cut ? all.slice(0, limit) : all;
  return { kvs: req.keysOnly === true ? kvs.map((kv) => ({ ...kv, value: NO_VALUE })) : kvs, more, count };
}

const NO_VALUE = new Uint8Array(0);

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
