import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyHash } from "./key_hash.js";
import { evenShards, HASH_SPACE, ShardMap, ShardMapError } from "./shard_map.js";

const b = (s: string): Uint8Array => Buffer.from(s);

describe("the shard map", () => {
  it("finds the one shard whose hash range holds a key", () => {
    const map = new ShardMap(1, evenShards(8, [1, 2, 3], 3));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (key) => {
        const shard = map.shardFor(key);
        const h = keyHash(key);
        expect(h >= shard.start && h < shard.end).toBe(true);
      }),
    );
    expect(map.shardForHash(0).id).toBe(1);
    expect(map.shardForHash(HASH_SPACE - 1).id).toBe(8);
  });

  it("refuses maps with gaps, overlaps, short ends, shared ids or shards without replicas", () => {
    const good = evenShards(2, [1], 1);
    expect(() => new ShardMap(1, [good[0]!])).toThrow(/short of 2\^32/);
    expect(() => new ShardMap(1, [good[0]!, { ...good[1]!, start: good[1]!.start + 1 }])).toThrow(ShardMapError);
    expect(() => new ShardMap(1, [good[0]!, { ...good[1]!, id: good[0]!.id }])).toThrow(/share an id/);
    expect(() => new ShardMap(1, [good[0]!, { ...good[1]!, replicas: [] }])).toThrow(/no replicas/);
  });

  it("balances replicas and first replicas over the members", () => {
    const shards = evenShards(9, [1, 2, 3], 3);
    for (const node of [1, 2, 3]) {
      expect(shards.filter((s) => s.replicas.includes(node))).toHaveLength(9);
      expect(shards.filter((s) => s.replicas[0] === node)).toHaveLength(3);
    }
    expect(() => evenShards(4, [1, 2], 3)).toThrow(/between 1 and the 2 members/);
  });

  it("sends a range to every shard, but a prefix that closes a hash tag to the tag's shard alone", () => {
    const map = new ShardMap(1, evenShards(8, [1, 2, 3], 3));
    expect(map.shardsForRange(b("k"), undefined)).toHaveLength(1);
    expect(map.shardsForRange(b("a"), b("z"))).toHaveLength(8);
    expect(map.shardsForRange(b("users/"), b("users0"))).toHaveLength(8);
    const tagged = map.shardsForRange(b("{locks}/name/"), b("{locks}/name0"));
    expect(tagged).toHaveLength(1);
    expect(tagged[0]).toBe(map.shardFor(b("{locks}/name/holder-7")));
    // A prefix that opens a tag without closing it could hold many tags.
    expect(map.shardsForRange(b("{loc"), b("{lod"))).toHaveLength(8);
  });

  it("sends a range that starts inside a tagged prefix to the tag's shard (etcd3's namespaces ask from prefix + \\0)", () => {
    const map = new ShardMap(1, evenShards(8, [1, 2, 3], 3));
    const inside = map.shardsForRange(b("election/{e}/\0"), b("election/{e}0"));
    expect(inside).toEqual([map.shardFor(b("election/{e}/42"))]);
    expect(map.shardsForRange(b("election/{e}/7"), b("election/{e}0"))).toEqual(inside);
    // Ending past the prefix, or without a whole tag in it, the range may reach other shards.
    expect(map.shardsForRange(b("election/{e}/\0"), b("election/{f}"))).toHaveLength(8);
    expect(map.shardsForRange(b("election/e/\0"), b("election/e0"))).toHaveLength(8);
    expect(map.shardsForRange(b("{"), b("{e}0"))).toHaveLength(8);
  });
});
