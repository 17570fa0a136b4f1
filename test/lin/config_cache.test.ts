import { describe, expect, it } from "vitest";
import { ConfigCache } from "./config_cache.js";

const key = (...ints: number[]): Int32Array => Int32Array.from(ints);

describe("the configuration cache", () => {
  it("admits a configuration once", () => {
    const cache = new ConfigCache(0);
    const none = new Uint32Array(0);
    expect(cache.insertIfNew(key(1, 2, 3), 3, none)).toBe(true);
    expect(cache.insertIfNew(key(1, 2, 3), 3, none)).toBe(false);
    expect(cache.insertIfNew(key(1, 2, 4), 3, none)).toBe(true);
    expect(cache.insertIfNew(key(1, 2, 3, 9), 3, none)).toBe(false);
    expect(cache.size).toBe(2);
  });

  it("compares whole keys of different lengths, not just hashes", () => {
    const cache = new ConfigCache(0);
    const none = new Uint32Array(0);
    expect(cache.insertIfNew(key(0, 0), 2, none)).toBe(true);
    expect(cache.insertIfNew(key(0, 0, 0), 3, none)).toBe(true);
  });

  it("rejects a configuration that linearized more unknown ops than a cached one, not fewer", () => {
    const cache = new ConfigCache(1);
    expect(cache.insertIfNew(key(5), 1, Uint32Array.of(0b0101))).toBe(true);
    expect(cache.insertIfNew(key(5), 1, Uint32Array.of(0b0111))).toBe(false);
    expect(cache.insertIfNew(key(5), 1, Uint32Array.of(0b0100))).toBe(true);
    expect(cache.insertIfNew(key(5), 1, Uint32Array.of(0b0010))).toBe(true);
    expect(cache.insertIfNew(key(6), 1, Uint32Array.of(0b0111))).toBe(true);
  });

  it("keeps every record as it grows past its initial buckets and pool", () => {
    const cache = new ConfigCache(2);
    const unknown = Uint32Array.of(1, 2);
    const admitted = (): number => {
      let count = 0;
      for (let i = 0; i < 20_000; i++) if (cache.insertIfNew(key(i, i * 7, -i), 3, unknown)) count++;
      return count;
    };
    expect(admitted()).toBe(20_000);
    expect(admitted()).toBe(0);
    expect(cache.size).toBe(20_000);
  });
});
