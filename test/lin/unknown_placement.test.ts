import { describe, expect, it } from "vitest";
import { bruteForceLinearizable } from "./brute_force.js";
import { checkHistory } from "./check.js";
import { HistoryBuilder } from "./history_builder.js";

// Each story needs one of the placements the rules in unknown_placement.ts must not prune away; the
// brute-force reference confirms the expected verdict independently.
function expectVerdict(h: HistoryBuilder, kind: "ok" | "violation"): void {
  expect(bruteForceLinearizable(h.ops), "brute force").toBe(kind === "ok");
  expect(checkHistory(h.ops).kind).toBe(kind);
}

describe("placing unknown-outcome operations", () => {
  it("lets an unknown write of an unread value unblock a cas that did not swap", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(2, "x", "unread", [5]);
    h.cas(3, "x", "a", "b", false, [20, 30]);
    expectVerdict(h, "ok");
  });

  it("lets two unknown writes of the same value both take effect", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0]);
    h.write(2, "x", "a", [0]);
    h.read(3, "x", "a", [10, 20]);
    h.write(3, "x", "b", [30, 40]);
    h.read(3, "x", "a", [50, 60]);
    expectVerdict(h, "ok");
  });

  it("does not let one unknown write take effect twice", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0]);
    h.read(3, "x", "a", [10, 20]);
    h.write(3, "x", "b", [30, 40]);
    h.read(3, "x", "a", [50, 60]);
    expectVerdict(h, "violation");
  });

  it("does not replace an unknown cas by a definite write of the same value", () => {
    // The cas must swap early (null -> b) and the definite write of b take effect late, after "a".
    const h = new HistoryBuilder();
    h.cas(1, "x", null, "b", true, [0]);
    h.write(2, "x", "b", [0, 100]);
    h.read(3, "x", "b", [10, 20]);
    h.write(3, "x", "a", [30, 40]);
    h.read(3, "x", "b", [50, 60]);
    expectVerdict(h, "ok");
  });

  it("chains unknown cas operations that each expect the previous one's value", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.cas(2, "x", "a", "b", true, [20]);
    h.cas(3, "x", "b", "c", true, [20]);
    h.read(4, "x", "c", [100, 110]);
    expectVerdict(h, "ok");
  });

  it("lets an unknown delete explain a later read of absent", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.delete(2, "x", [20]);
    h.read(3, "x", "a", [30, 40]);
    h.read(3, "x", null, [50, 60]);
    expectVerdict(h, "ok");
  });
});
