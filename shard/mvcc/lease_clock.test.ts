import { describe, expect, test } from "vitest";
import { LeaseClock } from "./lease_clock.js";

describe("LeaseClock", () => {
  test("promotion starts every lease's TTL over, so none expires early after a leader change", () => {
    const clock = new LeaseClock();
    clock.promote([{ id: 1n, ttlSeconds: 10 }, { id: 2n, ttlSeconds: 5 }], 100_000);
    expect(clock.remainingMs(1n, 100_000)).toBe(10_000);
    expect(clock.expired(104_999, 10)).toEqual([]);
    expect(clock.expired(105_000, 10)).toEqual([2n]);
    expect(clock.expired(200_000, 10)).toEqual([2n, 1n]); // earliest deadline first
  });

  test("keepAlive renews a live lease and refuses an expired or unknown one", () => {
    const clock = new LeaseClock();
    clock.promote([], 0);
    clock.granted(7n, 10, 0);
    expect(clock.keepAlive(7n, 9_000)).toBe(10);
    expect(clock.remainingMs(7n, 9_000)).toBe(10_000);
    expect(clock.keepAlive(7n, 19_000)).toBeUndefined();
    expect(clock.keepAlive(8n, 0)).toBeUndefined();
  });

  test("a follower's clock holds nothing", () => {
    const clock = new LeaseClock();
    clock.granted(1n, 10, 0);
    expect(clock.keepAlive(1n, 0)).toBeUndefined();
    clock.promote([{ id: 1n, ttlSeconds: 10 }], 0);
    clock.demote();
    expect(clock.remainingMs(1n, 0)).toBeUndefined();
    expect(clock.expired(1e12, 10)).toEqual([]);
  });

  test("a revoked lease is forgotten and expired respects the limit", () => {
    const clock = new LeaseClock();
    clock.promote([1n, 2n, 3n].map((id) => ({ id, ttlSeconds: 1 })), 0);
    clock.revoked(2n);
    expect(clock.expired(5_000, 1)).toEqual([1n]);
    expect(clock.expired(5_000, 10)).toEqual([1n, 3n]);
  });
});
