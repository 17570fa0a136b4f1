import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatHistory, HistoryError, parseHistory } from "./history.js";
import type { Operation } from "./history.js";
import { HistoryBuilder } from "./history_builder.js";

function sample(): Operation[] {
  const h = new HistoryBuilder();
  h.write(1, "x", "a", [0, 10]);
  h.read(2, "x", "a", [5, 12]);
  h.read(2, "y", null, [13, 14]);
  h.cas(3, "x", "a", "b", true, [15, 20]);
  h.cas(3, "x", null, "c", false, [21]);
  h.delete(4, "x", [22, 30]);
  h.failedWrite(4, "y", "d", [31, 32]);
  return h.ops;
}

function parseError(jsonl: string): HistoryError {
  try {
    parseHistory(jsonl);
  } catch (error) {
    if (error instanceof HistoryError) return error;
    throw error;
  }
  throw new Error(`Expected parseHistory to reject ${jsonl}`);
}

const READ = { id: 1, client: 1, key: "x", kind: "read", call: 0, return: 1, status: "ok", value: null };
const line = (fields: Record<string, unknown>): string => JSON.stringify({ ...READ, ...fields });

describe("the history format", () => {
  it("reads back what it formats, one operation per line", () => {
    const text = formatHistory(sample());
    expect(text.split("\n")).toHaveLength(sample().length + 1);
    expect(parseHistory(text)).toEqual(sample());
  });

  it("round-trips generated operations", () => {
    const operation = fc
      .record({
        kind: fc.constantFrom("read", "write", "cas", "delete"),
        status: fc.constantFrom("ok", "fail", "unknown"),
        key: fc.string(),
        call: fc.integer({ min: -1e9, max: 1e9 }),
        duration: fc.nat(1e6),
        value: fc.option(fc.string(), { nil: null }),
        expected: fc.option(fc.string(), { nil: null }),
        swapped: fc.boolean(),
      })
      .map((draft): Omit<Operation, "id"> => {
        const { key, kind, call, status } = draft;
        const op: Omit<Operation, "id"> = { client: 7, key, kind, call, status };
        if (draft.status !== "unknown") op.return = draft.call + draft.duration;
        if (draft.kind === "write" || draft.kind === "cas" || (draft.kind === "read" && draft.status === "ok")) {
          op.value = draft.value;
        }
        if (draft.kind === "cas") op.expected = draft.expected;
        if (draft.kind === "cas" && draft.status === "ok") op.swapped = draft.swapped;
        return op;
      });
    fc.assert(
      fc.property(fc.array(operation), (drafts) => {
        const ops = drafts.map((draft, id) => ({ id, ...draft }));
        expect(parseHistory(formatHistory(ops))).toEqual(ops);
      }),
    );
  });

  it("skips blank lines and ignores fields it does not know", () => {
    const ops = parseHistory(`\n${line({ node: "n1" })}\n\n`);
    expect(ops).toEqual([{ id: 1, client: 1, key: "x", kind: "read", call: 0, return: 1, status: "ok", value: null }]);
  });

  it("names the line of text that is not JSON", () => {
    const error = parseError(`${line({})}\n{"id": 2,`);
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/^Line 2: not valid JSON/);
  });

  it("names the line and the field of an invalid operation", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kind: "scan" }, /"kind" must be one of "read", "write", "cas", "delete", got "scan"/],
      [{ call: "12" }, /"call" must be a finite number, got "12"/],
      [{ return: undefined }, /"return" is required when status is "ok"/],
      [{ call: 5, return: 4 }, /"return" 4 is before "call" 5/],
      [{ status: "unknown" }, /"return" must be absent when status is "unknown"/],
      [{ value: undefined }, /"value" must be a string or null, got nothing/],
      [{ kind: "cas", value: "a", expected: "b" }, /"swapped" must be true or false on a cas with status "ok"/],
      [{ kind: "write", value: "a", expected: "b" }, /"expected" is only allowed on a cas, not a write/],
      [{ kind: "delete", value: "a" }, /"value" must be absent for a delete/],
      [{ id: 1.5 }, /"id" must be an integer, got 1.5/],
    ];
    for (const [fields, message] of cases) {
      const error = parseError(`${line({ id: 0 })}\n${line(fields)}`);
      expect(error.line, JSON.stringify(fields)).toBe(2);
      expect(error.message, JSON.stringify(fields)).toMatch(/^Line 2: /);
      expect(error.message, JSON.stringify(fields)).toMatch(message);
    }
  });

  it("rejects a line that is not an object", () => {
    expect(parseError("[1, 2]").message).toBe("Line 1: expected a JSON object, got [1,2]");
  });

  it("rejects an id used twice, naming both lines", () => {
    expect(parseError(`${line({})}\n\n${line({})}`).message).toBe("Line 3: operation id 1 is already used on line 1");
  });
});
