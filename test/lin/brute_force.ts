/**
 * A naive linearizability check for tiny histories, the reference the quick checks compare the real
 * checker against (as etcd-io/raft's quorum/quick_test.go does): it tries every order of every
 * subset, with the semantics restated from the history format and no pruning, memo or shortcut.
 */
import type { Operation } from "./history.js";

const ILLEGAL = Symbol("illegal");
type State = string | null;

/** Whether the single-key history has a linearization; exponential, so keep it under ten ops. */
export function bruteForceLinearizable(ops: readonly Operation[]): boolean {
  // Failed ops never happened; an unknown read may return anything, so it constrains nothing.
  const effective = ops.filter((op) => op.status === "ok" || (op.status === "unknown" && op.kind !== "read"));
  return completes(effective, null);
}

/** Ops left pending when every ok op is placed never took effect, which unknown ones may do. */
function completes(remaining: readonly Operation[], state: State): boolean {
  if (remaining.every((op) => op.status !== "ok")) return true;
  return remaining.some((op) => {
    const mustComeFirst = remaining.some((other) => other.return !== undefined && other.return < op.call);
    if (mustComeFirst) return false;
    const next = apply(op, state);
    return next !== ILLEGAL && completes(remaining.filter((other) => other !== op), next);
  });
}

function apply(op: Operation, state: State): State | typeof ILLEGAL {
  const value = op.value ?? null;
  switch (op.kind) {
    case "read":
      return state === value ? state : ILLEGAL;
    case "write":
      return value;
    case "delete":
      return null;
    case "cas": {
      const matches = state === (op.expected ?? null);
      if (op.status === "unknown") return matches ? value : state;
      if (op.swapped === true) return matches ? value : ILLEGAL;
      return matches ? ILLEGAL : state;
    }
  }
}
