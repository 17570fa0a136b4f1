import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KeyValue, RangeRequest, RangeResponse, SortOrder, SortTarget } from "../shard/mvcc/index.js";
import { mergeRanges, orderOf } from "./range_merge.js";

/** What one shard answers: its keys sorted as asked and cut at the limit (range.ts `shape`, without filters). */
function shardAnswer(kvs: KeyValue[], req: RangeRequest): RangeResponse {
  const sorted = [...kvs].sort(orderOf(req));
  const limit = req.limit ?? 0;
  const cut = limit > 0 && sorted.length > limit;
  return { kvs: cut ? sorted.slice(0, limit) : sorted, more: cut, count: kvs.length };
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
  it("equals one shard's answer over all the keys, under every sort and limit", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(kvArb, { selector: (kv) => Buffer.from(kv.key).toString("hex"), maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }),
        fc.constantFrom<SortOrder>("none", "ascend", "descend"),
        fc.constantFrom<SortTarget>("key", "version", "create", "mod", "value"),
        fc.integer({ min: 0, max: 8 }),
        (kvs, placement, sortOrder, sortTarget, limit) => {
          const req: RangeRequest = { key: Uint8Array.of(0), sortOrder, sortTarget, limit };
          const shards: KeyValue[][] = [[], [], [], []];
          kvs.forEach((kv, i) => shards[placement[i]!]!.push(kv));
          const merged = mergeRanges(
            shards.map((part) => shardAnswer(part, req)),
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
