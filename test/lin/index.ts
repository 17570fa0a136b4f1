/**
 * The linearizability checker for key-value histories: what the simulator and the CLI import. Only
 * re-exports; the search, its memo and the shrinker stay private to this folder.
 */
export { checkHistory, MAX_STATES_PER_KEY_DEFAULT, SHRINK_STATES_MAX_DEFAULT } from "./check.js";
export type { CheckOptions, Verdict } from "./check.js";
export { describeOperation, describeVerdict, describeViolation } from "./describe.js";
export type { Violation } from "./describe.js";
export { formatHistory, HistoryError, parseHistory } from "./history.js";
export type { Operation, OpKind, OpStatus } from "./history.js";
