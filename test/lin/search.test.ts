import { describe, expect, it } from "vitest";
import { checkHistory, MAX_STATES_PER_KEY_DEFAULT } from "./check.js";
import { HistoryBuilder } from "./history_builder.js";
import { partitionByKey } from "./partition.js";
import { randomPlans, runPlans } from "./register_run.js";
import { searchLinearization } from "./search.js";

describe("the linearization search", () => {
  it("accepts a key with no completed operation without exploring anything", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0]);
    expect(searchLinearization(h.ops, 10)).toEqual({ kind: "linearizable", statesExplored: 0 });
  });

  it("names the operation it could not get past", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.read(2, "x", "a", [20, 30]);
    const stale = h.read(2, "x", "b", [40, 50]);
    h.read(2, "x", "a", [60, 70]);
    const result = searchLinearization(h.ops, 100);
    expect(result.kind).toBe("not-linearizable");
    if (result.kind === "not-linearizable") expect(result.stuckAt).toBe(stale);
  });

  it("stops at its budget instead of answering", () => {
    const h = new HistoryBuilder();
    for (let client = 0; client < 10; client++) h.write(client, "x", `v${client}`, [0, 100]);
    h.read(10, "x", "v11", [200, 210]);
    expect(searchLinearization(h.ops, 50)).toMatchObject({ kind: "budget-exceeded", statesExplored: 51 });
  });

  it("refuses failed operations and unknown reads: the partition drops them first", () => {
    const h = new HistoryBuilder();
    h.failedWrite(1, "x", "a", [0, 10]);
    expect(() => searchLinearization(h.ops, 10)).toThrow(/drop failed ops and unknown reads/);
  });
});

describe("checking simulator-sized histories", () => {
  // A sanity check on the search's growth, not a timed assertion: CI machines vary, state counts do not.
  it("checks 2,000 operations over 10 keys from 5 clients well within the state budget", () => {
    const shape = { operations: 2_000, keys: 10, clients: 5, unknownRate: 0.03, failRate: 0.02 };
    const ops = runPlans(randomPlans(2024, shape));
    expect(checkHistory(ops)).toEqual({ kind: "ok", keys: 10, operations: 2_000 });
    const statesPerKey = partitionByKey(ops).map(
      ({ operations }) => searchLinearization(operations, MAX_STATES_PER_KEY_DEFAULT).statesExplored,
    );
    expect(Math.max(...statesPerKey)).toBeLessThan(MAX_STATES_PER_KEY_DEFAULT / 100);
  });

  it("proves 5,000 operations on one key from 10 clients linearizable, and finds a stale read in them", () => {
    const shape = { operations: 5_000, keys: 1, clients: 10, unknownRate: 0.03, failRate: 0.02 };
    const ops = runPlans(randomPlans(99, shape));
    expect(checkHistory(ops).kind).toBe("ok");
    const reads = ops.filter((op) => op.kind === "read" && op.status === "ok" && op.value !== null);
    const [early, late] = [reads[100], reads[reads.length - 100]];
    if (early === undefined || late === undefined) throw new Error("Expected enough reads of written values");
    late.value = early.value ?? null;
    const verdict = checkHistory(ops);
    expect(verdict.kind).toBe("violation");
    if (verdict.kind === "violation") expect(verdict.minimal.length).toBeLessThanOrEqual(3);
  });
});
