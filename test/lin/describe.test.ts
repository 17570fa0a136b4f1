import { describe, expect, it } from "vitest";
import { checkHistory } from "./check.js";
import { describeOperation, describeVerdict, describeViolation } from "./describe.js";
import { HistoryBuilder } from "./history_builder.js";

describe("describing operations and verdicts", () => {
  it("shows each kind of operation with its client, key, values and interval", () => {
    const h = new HistoryBuilder();
    const lines = [
      h.read(2, "x", "a", [5, 12]),
      h.read(2, "x", null, [13, 14]),
      h.write(1, "x", "a", [0, 10]),
      h.cas(3, "x", "a", "b", true, [15, 20]),
      h.cas(3, "x", null, "c", false, [21, 22]),
      h.cas(3, "x", "b", "d", false, [23]),
      h.delete(4, "x", [22, 30]),
      h.failedWrite(4, "y", "d", [31, 32]),
    ].map(describeOperation);
    expect(lines).toEqual([
      '#1 client 2 read "x" -> "a" [5, 12]',
      '#2 client 2 read "x" -> absent [13, 14]',
      '#3 client 1 write "x" = "a" [0, 10]',
      '#4 client 3 cas "x" "a" -> "b" swapped [15, 20]',
      '#5 client 3 cas "x" absent -> "c" not swapped [21, 22]',
      '#6 client 3 cas "x" "b" -> "d" [23, ?) outcome unknown',
      '#7 client 4 delete "x" [22, 30]',
      '#8 client 4 write "y" = "d" [31, 32] failed',
    ]);
  });

  it("describes a violation as its message followed by one indented line per operation", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(1, "x", "b", [20, 30]);
    h.read(2, "x", "a", [40, 50]);
    const verdict = checkHistory(h.ops);
    if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${verdict.kind}`);
    expect(describeViolation(verdict).split("\n")).toEqual([
      verdict.message,
      '  #1 client 1 write "x" = "a" [0, 10]',
      '  #2 client 1 write "x" = "b" [20, 30]',
      '  #3 client 2 read "x" -> "a" [40, 50]',
    ]);
  });

  it("describes every kind of verdict on its first line", () => {
    const ok = describeVerdict({ kind: "ok", keys: 2, operations: 10 });
    expect(ok).toBe("ok: 10 operations over 2 keys are linearizable");
    expect(describeVerdict({ kind: "unknown", key: "x", reason: "Out of budget." })).toBe("unknown: Out of budget.");
    expect(describeVerdict({ kind: "violation", key: "x", minimal: [], message: "Bad." })).toBe("violation: Bad.");
  });
});
