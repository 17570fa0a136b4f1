import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KeyValue, RangeRequest, RangeResponse, SortOrder, SortTarget } from "../shard/mvcc/index.js";
import { mergeRanges, orderOf, partRequest } from "./range_merge.js";

/** What one shard answers: its keys sorted as asked, cut at the limit, values left out last with keys_only (range.ts `shape`, without filters). */
function shardAnswer(kvs: KeyValue[], req: RangeRequest): RangeResponse {
  const sorted = [...kvs].sort(orderOf(req));
  const limit = req.limit ?? 0;
  const cut = limit > 0 && sorted.length > limit;
  const answer = cut ? sorted.slice(0, limit) : sorted;
  return { kvs: req.keysOnly === true ? answer.map((kv) => ({ ...kv, value: new Uint8Array(0) })) : answer, more: cut, count: kvs.length };
}

const kvArb = fc.record({
  key: fc.uint8Array({ minLength: 1, maxLength: 3 }),
  value: fc.uint8Array({ maxLength: 2 }),
  createRevision: fc.integer({ min: 1, max: 5 }),
  modRevision: fc.integer({ min: 1, max: 5 }),
  version: fc.integer({ min: 1, max: 3 }),
  lease: fc.constant(0n),
});

describe("merging the range answers of several shards", () => {
  // keys_only included: sorted by value, the shards must still send values for the merge to sort by
  // (etcd3's getAll().sort("Value", ...).keys() found keys in key order before partRequest).
  it("equals one shard's answer over all the keys, under every sort and limit, with and without keys only", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(kvArb, { selector: (kv) => Buffer.from(kv.key).toString("hex"), maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }),
        fc.constantFrom<SortOrder>("none", "ascend", "descend"),
        fc.constantFrom<SortTarget>("key", "version", "create", "mod", "value"),
        fc.integer({ min: 0, max: 8 }),
        fc.boolean(),
        (kvs, placement, sortOrder, sortTarget, limit, keysOnly) => {
          const req: RangeRequest = { key: Uint8Array.of(0), sortOrder, sortTarget, limit, keysOnly };
          const shards: KeyValue[][] = [[], [], [], []];
          kvs.forEach((kv, i) => shards[placement[i]!]!.push(kv));
          const merged = mergeRanges(
            shards.map((part) => shardAnswer(part, partRequest(req))),
            req,
          );
          expect(merged).toEqual(shardAnswer(kvs, req));
        },
      ),
    );
  });

  it("sums counts and lists nothing when asked for the count only", () => {
    const req: RangeRequest = { key: Uint8Array.of(1), countOnly: true };
    expect(mergeRanges([{ kvs: [], more: false, count: 3 }, { kvs: [], more: false, count: 4 }], req)).toEqual({ kvs: [], more: false, count: 7 });
  });
});
