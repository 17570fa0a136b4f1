import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashTag, keyHash, taggedPrefixAdvice } from "./key_hash.js";

const b = (s: string): Uint8Array => Buffer.from(s);
const s = (u: Uint8Array): string => Buffer.from(u).toString();

describe("the key hash", () => {
  it("hashes only a hash tag's content, so tagged keys share a point", () => {
    expect(s(hashTag(b("{user:42}/profile")))).toBe("user:42");
    expect(keyHash(b("{user:42}/profile"))).toBe(keyHash(b("orders/{user:42}/7")));
    expect(keyHash(b("{user:42}/profile"))).toBe(keyHash(b("user:42")));
  });

  it("follows Redis Cluster's rule for odd braces: first '{', first '}' after it, never an empty tag", () => {
    expect(s(hashTag(b("a{b}{c}")))).toBe("b");
    expect(s(hashTag(b("a{{b}}")))).toBe("{b");
    expect(s(hashTag(b("a{}b{c}")))).toBe("a{}b{c}");
    expect(s(hashTag(b("no}tag{here")))).toBe("no}tag{here");
    expect(s(hashTag(b("{unclosed")))).toBe("{unclosed");
    expect(s(hashTag(b("")))).toBe("");
  });

  it("spreads plain keys evenly over the 32-bit space", () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 64_000; i++) buckets[Math.floor(keyHash(b(`key/${i}`)) / 2 ** 28)]!++;
    // 4,000 expected per bucket; a poor hash (or one over fewer bits) lands far outside 10%.
    for (const count of buckets) expect(Math.abs(count - 4_000)).toBeLessThan(400);
  });

  it("gives every key a point in [0, 2^32), the same every time", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (key) => {
        const h = keyHash(key);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
        expect(keyHash(Uint8Array.from(key))).toBe(h);
      }),
    );
  });
});

describe("taggedPrefixAdvice", () => {
  it("writes the hash-tagged form of a plain prefix such as a lock's or an election's NAME/", () => {
    expect(taggedPrefixAdvice(Buffer.from("mylock/"))).toBe(`range over "{mylock}/" instead of "mylock/": the braces make a hash tag (with etcdctl lock or elect, name it '{mylock}')`);
    expect(taggedPrefixAdvice(Buffer.from("jobs.v2-a:b/"))).toMatch(/^range over "\{jobs\.v2-a:b\}\/"/);
  });

  it("names what the client does, and the recipes only for a range", () => {
    expect(taggedPrefixAdvice(Buffer.from("config/"), "watch")).toBe(`watch "{config}/" instead of "config/": the braces make a hash tag`);
    expect(taggedPrefixAdvice(Buffer.from("a/b/"), "watch")).toBe(`watch a prefix that holds a whole hash tag, like "{user:42}/"`);
  });

  it("falls back to a generic example for what it cannot rewrite plainly", () => {
    const generic = `range over a prefix that holds a whole hash tag, like "{user:42}/"`;
    for (const prefix of ["mylock", "a/b/", "/", "it's/", "{x/", "sp ace/", `${"n".repeat(65)}/`, "\u00e9t\u00e9/"]) {
      expect(taggedPrefixAdvice(Buffer.from(prefix))).toBe(generic);
    }
    expect(taggedPrefixAdvice(new Uint8Array([0xff, 0x2f]))).toBe(generic);
  });
});
