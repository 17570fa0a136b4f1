import { describe, expect, test } from "vitest";
import { KeyLayout, keyInRange, successor } from "./keys.js";
import { bytes } from "./fixtures.js";

const startsWith = (key: Uint8Array, prefix: Uint8Array) => Buffer.from(key).subarray(0, prefix.length).equals(prefix);

describe("key layout", () => {
  test("every key of every space starts with the prefix and stays inside the prefix range", () => {
    const prefix = Uint8Array.of(7, 0xff);
    const layout = new KeyLayout(prefix);
    const all = layout.all();
    const keys = [
      layout.meta,
      layout.kv(Uint8Array.of(0xff, 0xff)),
      layout.event(2 ** 40, 3),
      layout.lease(-1n),
      layout.attachment(5n, bytes("k")),
      layout.ttl(Date.UTC(2030, 0), bytes("k")),
      layout.tombstone(9, bytes("k")),
      layout.kvRange(bytes("a"), Uint8Array.of(0)).lt!,
    ];
    for (const key of keys) {
      expect(startsWith(key, prefix)).toBe(true);
      expect(Buffer.compare(key, all.gte)).toBeGreaterThanOrEqual(0);
      expect(Buffer.compare(key, all.lt!)).toBeLessThan(0);
    }
  });

  test("numbers in keys sort numerically as bytes", () => {
    const layout = new KeyLayout(bytes("p"));
    expect(Buffer.compare(layout.event(255, 0), layout.event(256, 0))).toBeLessThan(0);
    expect(Buffer.compare(layout.event(2 ** 33, 0), layout.event(2 ** 33 + 1, 0))).toBeLessThan(0);
    expect(layout.revisionOfEvent(layout.event(2 ** 45 + 7, 1))).toBe(2 ** 45 + 7);
    expect(layout.leaseIdOf(layout.lease(-42n))).toBe(-42n);
  });

  test("successor skips trailing 0xff bytes and is undefined for all-0xff", () => {
    expect(successor(Uint8Array.of(1, 0xff))).toEqual(Uint8Array.of(2));
    expect(successor(Uint8Array.of(0xff))).toBeUndefined();
  });

  test("keyInRange follows etcd: a single key, [key, end), or every key >= key for \\0", () => {
    expect(keyInRange(bytes("a"), bytes("a"), undefined)).toBe(true);
    expect(keyInRange(bytes("ab"), bytes("a"), undefined)).toBe(false);
    expect(keyInRange(bytes("b"), bytes("a"), bytes("b"))).toBe(false);
    expect(keyInRange(bytes("zz"), bytes("a"), Uint8Array.of(0))).toBe(true);
    expect(keyInRange(bytes("0"), bytes("a"), Uint8Array.of(0))).toBe(false);
  });
});
