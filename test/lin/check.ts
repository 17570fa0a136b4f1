/**
 * The checker's entry point: splits a history by key, searches each key for a linearization and, on
 * the first key that has none, shrinks it to a small witness. It never answers "ok" without a
 * linearization of every key in hand: a key whose search runs out of budget makes the verdict "unknown".
 */
import { validateHistory } from "./history.js";
import type { Operation } from "./history.js";
import { partitionByKey } from "./partition.js";
import { searchLinearization } from "./search.js";
import { shrinkViolation } from "./shrink.js";
import type { ShrunkViolation } from "./shrink.js";

export type Verdict =
  | { kind: "ok"; keys: number; operations: number }
  /** minimal: the smallest failing subset found, sorted by call time. */
  | { kind: "violation"; key: string; minimal: Operation[]; message: string }
  | { kind: "unknown"; key: string; reason: string };

export interface CheckOptions {
  /** Configurations one key's search may explore before the verdict becomes "unknown". */
  maxStatesPerKey?: number;
  /** Shrink a violation to a small witness (default true); false reports all the key's operations. */
  shrink?: boolean;
  /** Configurations explored over all of shrinking's searches, after which it keeps what it has. */
  shrinkStatesMax?: number;
}

/**
 * Enough to prove thousands of operations per key from a dozen clients linearizable, or not; about
 * 2 to 5 seconds of search on one key when it runs out.
 */
export const MAX_STATES_PER_KEY_DEFAULT = 1_000_000;
export const SHRINK_STATES_MAX_DEFAULT = 2_000_000;

/**
 * Checks a key-value history for linearizability. Throws a HistoryError if an operation is malformed
 * (a bug in whoever recorded it, not a verdict on the system).
 */
export function checkHistory(ops: readonly Operation[], options: CheckOptions = {}): Verdict {
  validateHistory(ops);
  const statesMax = options.maxStatesPerKey ?? MAX_STATES_PER_KEY_DEFAULT;
  if (!(statesMax >= 1)) throw new RangeError(`maxStatesPerKey must be at least 1, got ${statesMax}`);
  const keys = partitionByKey(ops);
  let firstUnknown: Verdict | undefined;
  for (const { key, operations } of keys) {
    const verdict = checkKey(key, operations, statesMax, options);
    if (verdict?.kind === "violation") return verdict;
    firstUnknown ??= verdict;
  }
  return firstUnknown ?? { kind: "ok", keys: keys.length, operations: ops.length };
}

/**
 * A search that must fail has to exhaust every configuration of the key, while a window around the
 * violation usually fails after a few thousand: so a key that outgrows this many configurations gets
 * its windows tried before the search resumes with the whole budget.
 */
const QUICK_SEARCH_STATES_MAX = 100_000;

type KeyVerdict = Exclude<Verdict, { kind: "ok" }> | undefined;

/** The verdict on one key's relevant operations; undefined when they are linearizable. */
function checkKey(key: string, operations: Operation[], statesMax: number, options: CheckOptions): KeyVerdict {
  const quickStatesMax = Math.min(statesMax, QUICK_SEARCH_STATES_MAX);
  let result = searchLinearization(operations, quickStatesMax);
  if (result.kind === "budget-exceeded" && quickStatesMax < statesMax) {
    const early = findViolation(key, operations, result.stuckAt, false, options, quickStatesMax);
    if (early !== undefined) return early;
    result = searchLinearization(operations, statesMax);
  }
  if (result.kind === "linearizable") return undefined;
  const knownToFail = result.kind === "not-linearizable";
  const verdict = findViolation(key, operations, result.stuckAt, knownToFail, options, statesMax);
  if (verdict !== undefined) return verdict;
  const reason =
    `Key ${JSON.stringify(key)}: gave up after exploring ${result.statesExplored} configurations of its ` +
    `${operations.length} operations (maxStatesPerKey ${statesMax}), and no window around operation ` +
    `${result.stuckAt.id} failed either; no verdict. Raise the budget, or record fewer concurrent or ` +
    `unknown-outcome operations per key.`;
  return { kind: "unknown", key, reason };
}

/** The violation on `key`, shrunk unless told not to; undefined if the search gave up and no window fails. */
function findViolation(
  key: string,
  operations: Operation[],
  stuckAt: Operation,
  knownToFail: boolean,
  options: CheckOptions,
  statesPerCheckMax: number,
): KeyVerdict {
  const statesMax = options.shrinkStatesMax ?? SHRINK_STATES_MAX_DEFAULT;
  const removeOperations = options.shrink !== false;
  const shrunk = shrinkViolation(
    { ops: operations, stuckAt, knownToFail, removeOperations },
    { statesPerCheckMax, statesMax },
  );
  if (shrunk === undefined) return undefined;
  const count = shrunk.operations.length;
  const subject = count === 1 ? "this operation" : `these ${count} operations`;
  const how = explainShrinking(shrunk, operations.length, stuckAt, removeOperations, statesMax);
  const message = `Key ${JSON.stringify(key)}: no linearization exists for ${subject} (${how}).`;
  return { kind: "violation", key, minimal: shrunk.operations, message };
}

/** Where the failing operations came from and how far shrinking got, for the violation's message. */
function explainShrinking(
  shrunk: ShrunkViolation,
  keyOperations: number,
  stuckAt: Operation,
  removeOperations: boolean,
  statesMax: number,
): string {
  const origin =
    shrunk.windowSize === keyOperations
      ? `the key's ${keyOperations} operations`
      : `a window of ${shrunk.windowSize} of the key's ${keyOperations} operations, around #${stuckAt.id}`;
  if (!removeOperations) return `taken from ${origin}, not shrunk`;
  if (shrunk.operations.length === 1) return `found in ${origin}`;
  if (!shrunk.complete) {
    return `shrunk from ${origin} until shrinkStatesMax (${statesMax}) ran out; a smaller set may exist`;
  }
  return `shrunk from ${origin}; dropping any one of them, with what depends on it, leaves a linearizable history`;
}
