import { describe, expect, it } from "vitest";
import { checkHistory } from "./check.js";
import type { Verdict } from "./check.js";
import { HistoryError } from "./history.js";
import { HistoryBuilder } from "./history_builder.js";

function expectViolation(verdict: Verdict): Extract<Verdict, { kind: "violation" }> {
  if (verdict.kind !== "violation") throw new Error(`Expected a violation, got ${JSON.stringify(verdict)}`);
  return verdict;
}

describe("checkHistory on registers", () => {
  it("accepts a write followed by a read of its value", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.read(2, "x", "a", [20, 30]);
    expect(checkHistory(h.ops)).toEqual({ kind: "ok", keys: 1, operations: 2 });
  });

  it("accepts a read of absent before any write: every key starts absent", () => {
    const h = new HistoryBuilder();
    h.read(1, "x", null, [0, 10]);
    h.write(1, "x", "a", [20, 30]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("rejects a read of a value nobody wrote, blaming that read alone", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    const read = h.read(2, "x", "zzz", [20, 30]);
    const verdict = expectViolation(checkHistory(h.ops));
    expect(verdict.key).toBe("x");
    expect(verdict.minimal).toEqual([read]);
  });

  it("rejects a stale read after a later write completed", () => {
    const h = new HistoryBuilder();
    const first = h.write(1, "x", "a", [0, 10]);
    const second = h.write(1, "x", "b", [20, 30]);
    const stale = h.read(2, "x", "a", [40, 50]);
    expect(expectViolation(checkHistory(h.ops)).minimal).toEqual([first, second, stale]);
  });

  it("accepts a read concurrent with a write returning either the old or the new value", () => {
    for (const seen of ["a", "b"]) {
      const h = new HistoryBuilder();
      h.write(1, "x", "a", [0, 10]);
      h.write(1, "x", "b", [20, 40]);
      h.read(2, "x", seen, [25, 35]);
      expect(checkHistory(h.ops).kind, `read of ${seen}`).toBe("ok");
    }
  });

  it("rejects a new-old inversion: a read sees the old value after another read saw the new one", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(1, "x", "b", [20, 100]);
    h.read(2, "x", "b", [30, 40]);
    h.read(3, "x", "a", [50, 60]);
    expect(expectViolation(checkHistory(h.ops)).minimal).toHaveLength(4);
  });

  it("treats operations that merely touch in time as concurrent", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(1, "x", "b", [10, 20]);
    h.read(2, "x", "a", [20, 30]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("accepts a delete followed by a read of absent, and rejects the old value afterwards", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.delete(1, "x", [20, 30]);
    h.read(2, "x", null, [40, 50]);
    expect(checkHistory(h.ops).kind).toBe("ok");
    h.read(2, "x", "a", [60, 70]);
    expect(expectViolation(checkHistory(h.ops)).minimal.map((op) => op.kind)).toEqual(["write", "delete", "read"]);
  });

  it("ignores failed operations: a failed write's value can never be read", () => {
    const h = new HistoryBuilder();
    h.failedWrite(1, "x", "a", [0, 10]);
    h.read(2, "x", null, [20, 30]);
    expect(checkHistory(h.ops).kind).toBe("ok");
    const read = h.read(2, "x", "a", [40, 50]);
    expect(expectViolation(checkHistory(h.ops)).minimal).toEqual([read]);
  });
});

describe("checkHistory on compare-and-set", () => {
  it("accepts a chain of swaps that each expect the previous value", () => {
    const h = new HistoryBuilder();
    h.cas(1, "x", null, "a", true, [0, 10]);
    h.cas(2, "x", "a", "b", true, [20, 30]);
    h.cas(1, "x", "b", "c", true, [40, 50]);
    h.read(3, "x", "c", [60, 70]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("accepts concurrent swaps in either order when both chains are consistent", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.cas(2, "x", "b", "c", true, [20, 50]);
    h.cas(3, "x", "a", "b", true, [25, 45]);
    h.read(1, "x", "c", [60, 70]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("rejects a swap whose expected value was not the state", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(1, "x", "b", [20, 30]);
    h.cas(2, "x", "a", "c", true, [40, 50]);
    expect(expectViolation(checkHistory(h.ops)).minimal).toHaveLength(3);
  });

  it("rejects a cas that did not swap although the state matched", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.cas(2, "x", "a", "b", false, [20, 30]);
    expect(expectViolation(checkHistory(h.ops)).minimal).toHaveLength(2);
  });

  it("accepts a cas that did not swap because a concurrent write changed the state", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(3, "x", "z", [15, 40]);
    h.cas(2, "x", "a", "b", false, [20, 30]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("accepts an unknown cas whether or not it took effect", () => {
    for (const seen of ["a", "b"]) {
      const h = new HistoryBuilder();
      h.write(1, "x", "a", [0, 10]);
      h.cas(2, "x", "a", "b", true, [20]);
      h.read(3, "x", seen, [40, 50]);
      expect(checkHistory(h.ops).kind, `read of ${seen}`).toBe("ok");
    }
  });
});

describe("checkHistory on unknown outcomes", () => {
  it("accepts an unknown write whose value shows up long after its call", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(2, "x", "b", [20]);
    h.read(3, "x", "a", [30, 40]);
    h.read(3, "x", "a", [1000, 1010]);
    h.read(3, "x", "b", [5000, 5010]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("rejects an unknown write whose value is read before the write was called", () => {
    const h = new HistoryBuilder();
    const read = h.read(1, "x", "b", [0, 10]);
    const write = h.write(2, "x", "b", [20]);
    expect(expectViolation(checkHistory(h.ops)).minimal).toEqual([read, write]);
  });

  it("accepts an unknown write that is never observed", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(2, "x", "b", [20]);
    h.read(3, "x", "a", [30, 40]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });

  it("rejects reading an unknown write's value after it was overwritten by a later completed write", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0]);
    h.read(2, "x", "a", [10, 20]);
    h.write(2, "x", "b", [30, 40]);
    h.read(2, "x", "a", [50, 60]);
    // The unknown write took effect before 20 (it was read), and takes effect only once.
    expect(checkHistory(h.ops).kind).toBe("violation");
  });

  it("ignores unknown reads: they say nothing about the state", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.read(2, "x", "zzz", [20]);
    expect(checkHistory(h.ops).kind).toBe("ok");
  });
});

describe("checkHistory across keys", () => {
  it("checks keys independently and reports the failing key", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(1, "y", "a", [0, 10]);
    h.read(2, "x", "a", [20, 30]);
    h.read(2, "y", null, [20, 30]);
    h.read(3, "z", null, [20, 30]);
    const verdict = expectViolation(checkHistory(h.ops));
    expect(verdict.key).toBe("y");
    expect(verdict.minimal.every((op) => op.key === "y")).toBe(true);
    expect(verdict.message).toContain('Key "y"');
  });

  it("does not let a write on one key explain a read on another", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.read(2, "y", "a", [20, 30]);
    expect(expectViolation(checkHistory(h.ops)).key).toBe("y");
  });

  it("counts keys and operations in an ok verdict", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.write(1, "y", "a", [20, 30]);
    h.failedWrite(1, "z", "a", [40, 50]);
    expect(checkHistory(h.ops)).toEqual({ kind: "ok", keys: 3, operations: 3 });
  });
});

describe("checkHistory options and inputs", () => {
  it("reports all of the key's operations when shrinking is off", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 10]);
    h.read(2, "x", "a", [20, 30]);
    h.read(2, "x", "zzz", [40, 50]);
    const verdict = expectViolation(checkHistory(h.ops, { shrink: false }));
    expect(verdict.minimal).toHaveLength(3);
    expect(verdict.message).toContain("not shrunk");
  });

  it("answers unknown, never ok, when the state budget is too small to decide", () => {
    const h = new HistoryBuilder();
    for (let client = 0; client < 8; client++) h.write(client, "x", `v${client}`, [0, 100]);
    h.read(9, "x", "v3", [200, 210]);
    const verdict = checkHistory(h.ops, { maxStatesPerKey: 2 });
    expect(verdict.kind).toBe("unknown");
    if (verdict.kind === "unknown") expect(verdict.reason).toContain("maxStatesPerKey 2");
  });

  it("throws a HistoryError for a malformed operation instead of judging it", () => {
    const h = new HistoryBuilder();
    const op = h.write(1, "x", "a", [0, 10]);
    delete op.return;
    expect(() => checkHistory(h.ops)).toThrow(HistoryError);
    expect(() => checkHistory(h.ops)).toThrow(/"return" is required/);
  });

  it("throws a HistoryError when two operations share an id", () => {
    const h = new HistoryBuilder();
    const first = h.write(1, "x", "a", [0, 10]);
    h.ops.push({ ...first });
    expect(() => checkHistory(h.ops)).toThrow(/appears more than once/);
  });
});
