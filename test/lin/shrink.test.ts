import { describe, expect, it } from "vitest";
import { bruteForceLinearizable } from "./brute_force.js";
import { checkHistory } from "./check.js";
import { HistoryBuilder } from "./history_builder.js";
import { randomPlans, runPlans } from "./register_run.js";

/** 200 operations on "x" from 4 clients, each reading back what it just wrote: linearizable. */
function busyKey(): HistoryBuilder {
  const h = new HistoryBuilder();
  for (let index = 0; index < 50; index++) {
    const client = index % 4;
    const time = index * 10;
    h.write(client, "x", `v${index}`, [time, time + 4]);
    h.read(client, "x", `v${index}`, [time + 5, time + 6]);
    h.read(client + 10, "y", null, [time, time + 6]);
    h.write(client + 20, "z", `w${index}`, [time, time + 9]);
  }
  return h;
}

describe("shrinking a violation", () => {
  it("finds the three operations of a stale read buried in 200", () => {
    const h = busyKey();
    expect(checkHistory(h.ops).kind).toBe("ok");
    const stale = h.read(9, "x", "v20", [305, 309]);
    const verdict = checkHistory(h.ops);
    if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${verdict.kind}`);
    expect(verdict.minimal.length).toBeLessThanOrEqual(3);
    expect(verdict.minimal).toContain(stale);
    // The witness fails on its own, and keeps the write that the stale read saw.
    expect(checkHistory(verdict.minimal).kind).toBe("violation");
    expect(bruteForceLinearizable(verdict.minimal)).toBe(false);
    expect(verdict.minimal.map((op) => op.value)).toContain("v20");
  });

  it("returns the minimal operations sorted by call time", () => {
    const h = new HistoryBuilder();
    h.read(2, "x", "b", [50, 60]);
    h.write(1, "x", "b", [0, 10]);
    h.write(1, "x", "c", [20, 30]);
    const verdict = checkHistory(h.ops);
    if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${verdict.kind}`);
    const calls = verdict.minimal.map((op) => op.call);
    expect(calls).toEqual([...calls].sort((x, y) => x - y));
  });

  it("never blames a read for the absence of a write it removed itself", () => {
    // Dropping the write of "a" would leave a read of a value never written: a smaller failing set
    // that proves nothing about this history. The witness must keep every writer of what it reads.
    const h = new HistoryBuilder();
    const write = h.write(1, "x", "a", [0, 10]);
    h.read(2, "x", "a", [20, 30]);
    h.delete(1, "x", [40, 50]);
    const stale = h.read(2, "x", "a", [60, 70]);
    const verdict = checkHistory(h.ops);
    if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${verdict.kind}`);
    expect(verdict.minimal).toContain(write);
    expect(verdict.minimal).toContain(stale);
  });

  it("keeps every writer of another value for a cas that did not swap", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(2, "x", "b", [0, 10]);
    h.write(1, "x", "a", [20, 30]);
    h.cas(3, "x", "a", "c", false, [40, 50]);
    const verdict = checkHistory(h.ops);
    if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${verdict.kind}`);
    // Without the write of "b" at [0, 10] the cas would fail for a different, invented reason.
    expect(verdict.minimal.map((op) => op.value ?? null)).toContain("b");
    expect(bruteForceLinearizable(verdict.minimal)).toBe(false);
  });

  it("proves a violation from a window when exhausting the whole key is over budget", () => {
    // Exhausting this key takes about 35,000 configurations; reaching the bad read takes under 2,000.
    const ops = runPlans(randomPlans(7, { operations: 1500, keys: 1, clients: 8, unknownRate: 0.04, failRate: 0.02 }));
    const corrupted = ops.filter((op) => op.kind === "read" && op.status === "ok")[400];
    if (corrupted === undefined) throw new Error("Expected at least 400 ok reads");
    corrupted.value = "never written";
    const verdict = checkHistory(ops, { maxStatesPerKey: 5000 });
    if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${JSON.stringify(verdict)}`);
    expect(verdict.minimal).toEqual([corrupted]);
    expect(verdict.message).toContain("window");
  });
});
