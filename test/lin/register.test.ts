import { describe, expect, it } from "vitest";
import type { Operation } from "./history.js";
import { ABSENT, ILLEGAL, Step, UNCOMPARED, ValueInterner } from "./register.js";
import { comparedValues, compileOperation, step } from "./register.js";

function op(fields: Partial<Operation>): Operation {
  return { id: 1, client: 1, key: "x", kind: "read", call: 0, return: 1, status: "ok", ...fields };
}

describe("the register model", () => {
  it("reads only the current state and leaves it unchanged", () => {
    expect(step(Step.READ, 2, ABSENT, 2)).toBe(2);
    expect(step(Step.READ, 2, ABSENT, 3)).toBe(ILLEGAL);
  });

  it("writes and deletes whatever the state", () => {
    const values = new ValueInterner();
    const write = compileOperation(op({ kind: "write", value: "a" }), values);
    const remove = compileOperation(op({ kind: "delete" }), values);
    expect(step(write.code, write.a, write.b, ABSENT)).toBe(values.idOf("a"));
    expect(step(remove.code, remove.a, remove.b, values.idOf("a"))).toBe(ABSENT);
  });

  it("swaps a cas only from its expected value, and fails one that did not swap from it", () => {
    const values = new ValueInterner();
    const [a, b] = [values.idOf("a"), values.idOf("b")];
    const swapped = compileOperation(op({ kind: "cas", expected: "a", value: "b", swapped: true }), values);
    const notSwapped = compileOperation(op({ kind: "cas", expected: "a", value: "b", swapped: false }), values);
    expect(step(swapped.code, swapped.a, swapped.b, a)).toBe(b);
    expect(step(swapped.code, swapped.a, swapped.b, ABSENT)).toBe(ILLEGAL);
    expect(step(notSwapped.code, notSwapped.a, notSwapped.b, a)).toBe(ILLEGAL);
    expect(step(notSwapped.code, notSwapped.a, notSwapped.b, ABSENT)).toBe(ABSENT);
  });

  it("lets an unknown cas that takes effect swap or change nothing, as the state decides", () => {
    const values = new ValueInterner();
    const cas = compileOperation(op({ kind: "cas", status: "unknown", expected: null, value: "b" }), values);
    expect(cas.code).toBe(Step.CAS_UNKNOWN);
    expect(step(cas.code, cas.a, cas.b, ABSENT)).toBe(values.idOf("b"));
    expect(step(cas.code, cas.a, cas.b, values.idOf("c"))).toBe(values.idOf("c"));
  });

  it("refuses to compile what never constrains a history: failed ops and unknown reads", () => {
    expect(() => compileOperation(op({ status: "fail" }), new ValueInterner())).toThrow(/no effect to check/);
    expect(() => compileOperation(op({ status: "unknown" }), new ValueInterner())).toThrow(/no effect to check/);
  });

  it("gives every value nobody compares against the same id", () => {
    const ops = [op({ value: "read" }), op({ kind: "cas", expected: "expected", value: "new", swapped: true })];
    const values = new ValueInterner(comparedValues(ops));
    expect(comparedValues(ops)).toEqual(new Set(["read", "expected"]));
    expect(values.idOf("new")).toBe(UNCOMPARED);
    expect(values.idOf("other")).toBe(UNCOMPARED);
    expect(values.idOf("read")).not.toBe(values.idOf("expected"));
    expect(values.idOf(null)).toBe(ABSENT);
  });
});
