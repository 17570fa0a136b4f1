// The fault tests' checkers must be able to fail: each is fed a history with the violation it exists
// to catch (no processes here), and a clean one it must pass.

import { describe, expect, it } from "vitest";
import { checkHistory, type Operation } from "../lin/index.js";
import type { FencedWrite } from "./fenced_resource.js";
import { FencedResource } from "./fenced_resource.js";
import { checkFencedOrder, checkLocks, staleGrants } from "./lock_check.js";
import type { Holding } from "./locks.js";

const holding = (holder: number, token: number, lockCallMs: number, lockReturnMs: number, releaseCallMs: number, aliveUntilMs: number): Holding => ({
  holder,
  token,
  lockCallMs,
  lockReturnMs,
  releaseCallMs,
  aliveUntilMs,
});

describe("the lock checker", () => {
  it("passes holders that took turns, with growing tokens", () => {
    const holdings = [holding(1, 10, 0, 5, 100, 3_000), holding(2, 12, 50, 110, 200, 3_100)];
    expect(checkLocks(holdings, [])).toEqual([]);
  });

  it("catches a second holder that got the lock before the first unlocked, while its lease lived", () => {
    const holdings = [holding(1, 10, 0, 5, 100, 3_000), holding(2, 12, 50, 60, 200, 3_100)];
    expect(checkLocks(holdings, []).join("\n")).toMatch(/held the lock at once/);
  });

  it("allows a second holder once the first one's lease surely ran out", () => {
    const holdings = [holding(1, 10, 0, 5, Infinity, 3_000), holding(2, 12, 50, 3_500, 3_600, 6_000)];
    expect(checkLocks(holdings, [])).toEqual([]);
  });

  it("takes a grant that arrives after its lease surely ran out for a stale one, not a second holder", () => {
    // Holder 2 asked first; its answer came late, after its lease (last renewed until 2 000) and after
    // holder 1 got the lock. The fence refuses holder 2's writes; the lock did not fail.
    const holdings = [holding(1, 827, 100, 4_000, 4_100, 7_000), holding(2, 825, 50, 4_010, 4_200, 2_000)];
    expect(checkLocks(holdings, [])).toEqual([]);
    expect(staleGrants(holdings)).toBe(1);
  });

  it("catches two holders with one token, and a token that did not grow with real time", () => {
    const same = [holding(1, 10, 0, 5, 6, 3_000), holding(2, 10, 50, 60, 70, 3_100)];
    expect(checkLocks(same, []).join("\n")).toMatch(/same token 10/);
    const shrinking = [holding(1, 10, 0, 5, 6, 3_000), holding(2, 8, 50, 60, 70, 3_100)];
    expect(checkLocks(shrinking, []).join("\n")).toMatch(/is not above 10/);
  });
});

describe("the fenced resource and its order", () => {
  const w = (holder: number, token: number, phase: "begin" | "end", atMs: number): FencedWrite => ({ holder, token, phase, atMs });

  it("refuses a token lower than the highest seen, so a fenced-off holder never interleaves", () => {
    const resource = new FencedResource();
    expect(resource.write(w(1, 10, "begin", 1))).toBe(true);
    expect(resource.write(w(2, 12, "begin", 2))).toBe(true);
    expect(resource.write(w(1, 10, "end", 3))).toBe(false);
    expect(resource.write(w(2, 12, "end", 4))).toBe(true);
    expect(checkFencedOrder(resource.accepted)).toEqual([]);
  });

  it("catches an accepted write inside another holder's section, and a token that went down", () => {
    expect(checkFencedOrder([w(1, 10, "begin", 1), w(2, 10, "begin", 2), w(1, 10, "end", 3)]).join("\n")).toMatch(/inside holder 1's critical section/);
    expect(checkFencedOrder([w(1, 10, "begin", 1), w(1, 10, "end", 2), w(2, 9, "begin", 3)]).join("\n")).toMatch(/accepted token 9/);
  });
});

describe("the linearizability checker on a fault-test history", () => {
  it("rejects a read that missed an acknowledged write (a stale lease read)", () => {
    const ops: Operation[] = [
      { id: 1, client: 1, key: "r0", kind: "write", call: 0, return: 10, status: "ok", value: "v1" },
      { id: 2, client: 2, key: "r0", kind: "write", call: 20, return: 30, status: "ok", value: "v2" },
      { id: 3, client: 3, key: "r0", kind: "read", call: 40, return: 50, status: "ok", value: "v1" },
    ];
    expect(checkHistory(ops).kind).toBe("violation");
  });

  it("accepts an unknown write that took effect late", () => {
    const ops: Operation[] = [
      { id: 1, client: 1, key: "r0", kind: "write", call: 0, status: "unknown", value: "v1" },
      { id: 2, client: 2, key: "r0", kind: "read", call: 40, return: 50, status: "ok", value: null },
      { id: 3, client: 3, key: "r0", kind: "read", call: 60, return: 70, status: "ok", value: "v1" },
    ];
    expect(checkHistory(ops).kind).toBe("ok");
  });
});
