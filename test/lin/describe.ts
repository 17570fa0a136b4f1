/**
 * Verdicts and operations as text for the people reading a failure: one line per operation with its
 * client, kind, key, values and [call, return] interval, in call order. Nothing here decides anything.
 */
import type { Verdict } from "./check.js";
import type { Operation } from "./history.js";

export type Violation = Extract<Verdict, { kind: "violation" }>;

/** The violation's message, then its operations, one per indented line. */
export function describeViolation(violation: Violation): string {
  return [violation.message, ...violation.minimal.map((op) => `  ${describeOperation(op)}`)].join("\n");
}

/** One or more lines for any verdict, as the CLI prints it. */
export function describeVerdict(verdict: Verdict): string {
  switch (verdict.kind) {
    case "ok":
      return `ok: ${verdict.operations} operations over ${verdict.keys} keys are linearizable`;
    case "violation":
      return `violation: ${describeViolation(verdict)}`;
    case "unknown":
      return `unknown: ${verdict.reason}`;
  }
}

/** For example `#7 client 2 cas "k" "a" -> "b" swapped [10, 14]`, or `[10, ?) outcome unknown`. */
export function describeOperation(op: Operation): string {
  const interval = op.status === "unknown" ? `[${op.call}, ?)` : `[${op.call}, ${op.return ?? "?"}]`;
  const outcome = op.status === "ok" ? "" : op.status === "fail" ? " failed" : " outcome unknown";
  return `#${op.id} client ${op.client} ${describeEffect(op)} ${interval}${outcome}`;
}

function describeEffect(op: Operation): string {
  const key = JSON.stringify(op.key);
  switch (op.kind) {
    case "read":
      return op.status === "ok" ? `read ${key} -> ${describeValue(op.value)}` : `read ${key}`;
    case "write":
      return `write ${key} = ${describeValue(op.value)}`;
    case "delete":
      return `delete ${key}`;
    case "cas": {
      const swap = `cas ${key} ${describeValue(op.expected)} -> ${describeValue(op.value)}`;
      if (op.status !== "ok") return swap;
      return op.swapped === true ? `${swap} swapped` : `${swap} not swapped`;
    }
  }
}

function describeValue(value: string | null | undefined): string {
  return value === null || value === undefined ? "absent" : JSON.stringify(value);
}
