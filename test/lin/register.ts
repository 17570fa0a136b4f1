/**
 * The sequential specification every key follows: a register holding a string or nothing. Operations
 * are compiled to small integer codes over interned values so that the search's inner loop compares
 * numbers, not strings. This file owns the semantics; it knows nothing of time or concurrency.
 */
import type { Operation } from "./history.js";

/** The interned id of null: the key is absent, which is also every key's initial state. */
export const ABSENT = 0;
/** What `step` returns when the operation cannot happen in the given state. */
export const ILLEGAL = -1;

/**
 * READ: state must equal a. WRITE: state becomes a (a delete writes ABSENT). CAS_SWAPPED: state must
 * equal a, becomes b. CAS_NOT_SWAPPED: state must differ from a. CAS_UNKNOWN: an unknown-outcome cas
 * that took effect: swaps to b when the state equals a, else changes nothing.
 */
export const Step = {
  READ: 0,
  WRITE: 1,
  CAS_SWAPPED: 2,
  CAS_NOT_SWAPPED: 3,
  CAS_UNKNOWN: 4,
} as const;
export type StepCode = (typeof Step)[keyof typeof Step];

export interface CompiledOp {
  code: StepCode;
  /** The value read, written or compared against, as an interned id. */
  a: number;
  /** The value a cas writes; ABSENT otherwise. */
  b: number;
}

/** The id every uncompared value shares, when the interner was given the compared values. */
export const UNCOMPARED = 1;

/**
 * Gives each distinct value a small id, ABSENT for null; ids are only meaningful within one interner.
 * Given the values that some operation compares the state against (`comparedValues`), it gives all
 * other values one id, UNCOMPARED: no step can tell them apart, and merging them merges search states.
 */
export class ValueInterner {
  private readonly ids = new Map<string, number>();

  constructor(private readonly compared: ReadonlySet<string> | undefined = undefined) {}

  /** Ids handed out so far, ABSENT and UNCOMPARED included: every id is below it. */
  get count(): number {
    return this.ids.size + 2;
  }

  idOf(value: string | null | undefined): number {
    if (value === null || value === undefined) return ABSENT;
    if (this.compared !== undefined && !this.compared.has(value)) return UNCOMPARED;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.ids.size + 2;
      this.ids.set(value, id);
    }
    return id;
  }
}

/** The non-null values that some operation's result depends on the state being equal to (or not). */
export function comparedValues(ops: readonly Operation[]): Set<string> {
  const compared = new Set<string>();
  for (const op of ops) {
    const value = op.kind === "read" && op.status === "ok" ? op.value : op.kind === "cas" ? op.expected : null;
    if (value !== null && value !== undefined) compared.add(value);
  }
  return compared;
}

/**
 * Compiles an operation that may take effect: status ok, or unknown and not a read. Failed operations
 * and unknown reads never constrain the history, so the caller drops them first.
 */
export function compileOperation(op: Operation, values: ValueInterner): CompiledOp {
  if (op.status === "fail" || (op.status === "unknown" && op.kind === "read")) {
    throw new Error(`Cannot compile operation ${op.id}: a failed op or an unknown read has no effect to check`);
  }
  switch (op.kind) {
    case "read":
      return { code: Step.READ, a: values.idOf(op.value), b: ABSENT };
    case "write":
      return { code: Step.WRITE, a: values.idOf(op.value), b: ABSENT };
    case "delete":
      return { code: Step.WRITE, a: ABSENT, b: ABSENT };
    case "cas": {
      const expected = values.idOf(op.expected);
      const written = values.idOf(op.value);
      if (op.status === "unknown") return { code: Step.CAS_UNKNOWN, a: expected, b: written };
      return op.swapped === true
        ? { code: Step.CAS_SWAPPED, a: expected, b: written }
        : { code: Step.CAS_NOT_SWAPPED, a: expected, b: ABSENT };
    }
  }
}

/** The state after applying the operation to `state`, or ILLEGAL if its recorded result is impossible there. */
export function step(code: StepCode, a: number, b: number, state: number): number {
  switch (code) {
    case Step.READ:
      return state === a ? state : ILLEGAL;
    case Step.WRITE:
      return a;
    case Step.CAS_SWAPPED:
      return state === a ? b : ILLEGAL;
    case Step.CAS_NOT_SWAPPED:
      return state !== a ? state : ILLEGAL;
    case Step.CAS_UNKNOWN:
      return state === a ? b : state;
  }
}

/**
 * Whether the operation never changes the state, whatever the state: such an op commutes with every
 * other, which lets the search linearize it as soon as it is legal instead of branching on it.
 */
export function isPureObserver(code: StepCode): boolean {
  return code === Step.READ || code === Step.CAS_NOT_SWAPPED;
}
