import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bruteForceLinearizable } from "./brute_force.js";
import { checkHistory } from "./check.js";
import type { Operation, OpKind, OpStatus } from "./history.js";
import { runPlans } from "./register_run.js";
import type { OpPlan, PlannedOutcome } from "./register_run.js";

const KINDS: readonly OpKind[] = ["read", "read", "write", "cas", "delete"];
const OUTCOMES: readonly PlannedOutcome[] = ["ok", "ok", "ok", "ok", "fail", "unknown-applied", "unknown-lost"];

const planArbitrary: fc.Arbitrary<OpPlan> = fc.record({
  slot: fc.nat(3),
  key: fc.nat(2),
  kind: fc.constantFrom(...KINDS),
  gap: fc.nat(20),
  duration: fc.integer({ min: 1, max: 40 }),
  effectPermille: fc.nat(1000),
  outcome: fc.constantFrom(...OUTCOMES),
  pick: fc.nat(1000),
});

/** Histories produced by a real register, with overlapping intervals and unknown outcomes. */
const registerRun = fc.array(planArbitrary, { minLength: 1, maxLength: 80 }).map(runPlans);

const VALUES = ["a", "b", null] as const;

interface Draft {
  kind: OpKind;
  status: OpStatus;
  call: number;
  duration: number;
  value: string | null;
  expected: string | null;
  swapped: boolean;
}

/**
 * Any single-key history of a few operations, whatever its results: about a third are not
 * linearizable. Three values, so that writes collide; `statuses` weights the outcomes.
 */
function tinyHistory(statuses: readonly OpStatus[], callMax: number): fc.Arbitrary<Operation[]> {
  const draft: fc.Arbitrary<Draft> = fc.record({
    kind: fc.constantFrom<OpKind>("read", "write", "cas", "delete"),
    status: fc.constantFrom(...statuses),
    call: fc.nat(callMax),
    duration: fc.nat(15),
    value: fc.constantFrom(...VALUES),
    expected: fc.constantFrom(...VALUES),
    swapped: fc.boolean(),
  });
  return fc.array(draft, { minLength: 1, maxLength: 8 }).map((drafts) => drafts.map(draftToOperation));
}

function draftToOperation(draft: Draft, index: number): Operation {
  const { kind, call, status } = draft;
  const op: Operation = { id: index, client: index, key: "x", kind, call, status };
  if (draft.status !== "unknown") op.return = draft.call + draft.duration;
  if (draft.kind === "write" || draft.kind === "cas") op.value = draft.value ?? "c";
  if (draft.kind === "read" && draft.status === "ok") op.value = draft.value;
  if (draft.kind === "cas") op.expected = draft.expected;
  if (draft.kind === "cas" && draft.status === "ok") op.swapped = draft.swapped;
  return op;
}

describe("checkHistory against generated histories", () => {
  it("accepts every history a real register produced", () => {
    fc.assert(
      fc.property(registerRun, (ops) => {
        const keys = new Set(ops.map((op) => op.key)).size;
        expect(checkHistory(ops)).toEqual({ kind: "ok", keys, operations: ops.length });
      }),
      { numRuns: 300 },
    );
  });

  it("rejects it once one read returns a value never written, and blames that read alone", () => {
    fc.assert(
      fc.property(registerRun, fc.nat(), (ops, choice) => {
        const reads = ops.filter((op) => op.kind === "read" && op.status === "ok");
        fc.pre(reads.length > 0);
        const corrupted = reads[choice % reads.length];
        if (corrupted === undefined) return;
        corrupted.value = "never written";
        const verdict = checkHistory(ops);
        expect(verdict.kind).toBe("violation");
        if (verdict.kind === "violation") {
          expect(verdict.key).toBe(corrupted.key);
          expect(verdict.minimal).toEqual([corrupted]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with a brute-force search on tiny arbitrary histories", () => {
    fc.assert(
      fc.property(tinyHistory(["ok", "ok", "ok", "unknown", "fail"], 30), (ops) => {
        const expected = bruteForceLinearizable(ops) ? "ok" : "violation";
        expect(checkHistory(ops).kind).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with a brute-force search when half the outcomes are unknown", () => {
    // Several pending unknown writes of one value, unknown cas chains: what unknown_placement.ts prunes.
    fc.assert(
      fc.property(tinyHistory(["ok", "unknown"], 60), (ops) => {
        const expected = bruteForceLinearizable(ops) ? "ok" : "violation";
        expect(checkHistory(ops).kind).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("shrinks tiny violations to subsets that brute force also finds non-linearizable", () => {
    fc.assert(
      fc.property(tinyHistory(["ok", "ok", "ok", "unknown", "fail"], 30), (ops) => {
        const verdict = checkHistory(ops);
        if (verdict.kind !== "violation") return;
        expect(verdict.minimal.length).toBeGreaterThan(0);
        expect(verdict.minimal.every((op) => ops.includes(op))).toBe(true);
        expect(bruteForceLinearizable(verdict.minimal)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
