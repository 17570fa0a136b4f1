/**
 * Finds a small subset of one key's history that has no linearization. First it looks near where the
 * search got stuck: windows of operations ending there, growing fourfold, each far cheaper to exhaust
 * than the whole key. Then it shrinks in the manner of delta debugging (Zeller & Hildebrandt 2002):
 * drop chunks of operations, halving the chunk size, then single operations until none can go.
 * Every candidate is closed under dependencies (dependencies.ts), so a failing candidate proves the
 * whole key non-linearizable. A budget of explored states bounds the work; when it runs out, the
 * smallest subset proven so far is returned.
 */
import { Dependencies } from "./dependencies.js";
import type { Operation } from "./history.js";
import { sortByCall } from "./partition.js";
import { Step, ValueInterner, compileOperation } from "./register.js";
import type { CompiledOp } from "./register.js";
import { searchLinearization } from "./search.js";

export interface ShrinkBudget {
  /** The search budget for one candidate subset; a candidate that exceeds it is kept, unproven. */
  statesPerCheckMax: number;
  /** Explored states summed over all candidates, after which shrinking stops. */
  statesMax: number;
}

export interface ShrunkViolation {
  /** A non-linearizable subset of the input, sorted by call time. */
  operations: Operation[];
  /** The size of the first failing subset found: the whole key, or the window around `stuckAt`. */
  windowSize: number;
  /** False when the budget cut shrinking short: a smaller subset may exist. */
  complete: boolean;
  statesExplored: number;
}

/** The smallest window tried after the stuck operation alone; each next one is four times larger. */
const WINDOW_OPERATIONS_MIN = 16;

export interface ShrinkTask {
  /** The key's relevant operations, sorted by call time. */
  ops: readonly Operation[];
  /** The furthest return the key's search reached. */
  stuckAt: Operation;
  /** Whether the search proved the key fails; if not (it ran out of budget), only a window can prove it. */
  knownToFail: boolean;
  /** False to stop at the first failing window (or the whole key) without removing operations. */
  removeOperations: boolean;
}

/** The smallest failing subset found, or undefined if the key was not known to fail and no window fails. */
export function shrinkViolation(task: ShrinkTask, budget: ShrinkBudget): ShrunkViolation | undefined {
  const { ops, stuckAt, knownToFail, removeOperations } = task;
  const shrinker = new Shrinker(ops, budget);
  let members = knownToFail && !removeOperations ? undefined : shrinker.failingWindow(stuckAt);
  if (members === undefined) {
    if (!knownToFail) return undefined;
    members = new Uint8Array(ops.length).fill(1);
  }
  const windowSize = shrinker.count(members);
  if (removeOperations) members = shrinker.removeChunks(members);
  const operations = sortByCall(ops.filter((_, index) => members[index] === 1));
  return { operations, windowSize, complete: shrinker.complete, statesExplored: shrinker.statesExplored };
}

class Shrinker {
  private readonly compiled: readonly CompiledOp[];
  private readonly dependencies: Dependencies;
  statesExplored = 0;
  complete = true;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly budget: ShrinkBudget,
  ) {
    const values = new ValueInterner();
    this.compiled = ops.map((op) => compileOperation(op, values));
    this.dependencies = new Dependencies(this.compiled);
  }

  /**
   * The smallest failing window: the stuck operation alone, then the last 16, 64, 256... operations
   * called by the time it returned, plus what they depend on. Each window is tried first without its
   * not-swapped cas, which depend on every writer of another value and so would pull in most of the
   * key. Undefined if none fails.
   */
  failingWindow(stuckAt: Operation): Uint8Array | undefined {
    const stuckIndex = this.ops.indexOf(stuckAt);
    const stuckTime = stuckAt.return ?? stuckAt.call;
    let end = this.ops.length - 1;
    while (end > 0 && (this.ops[end]?.call ?? 0) > stuckTime) end--;
    for (let size = 1; ; size = Math.max(WINDOW_OPERATIONS_MIN, size * 4)) {
      const [first, last] = size === 1 ? [stuckIndex, stuckIndex] : [Math.max(0, end + 1 - size), end];
      const lean = this.window(first, last, stuckIndex, true);
      const full = this.window(first, last, stuckIndex, false);
      for (const members of this.count(lean) === this.count(full) ? [full] : [lean, full]) {
        // A window holding every operation is the search that already failed or gave up.
        if (this.exhausted() || this.count(members) === this.ops.length) return undefined;
        if (this.fails(members)) return members;
      }
      if (first === 0) return undefined;
    }
  }

  /** Operations first..last (and `keep`), without not-swapped cas if `lean`, plus their dependencies. */
  private window(first: number, last: number, keep: number, lean: boolean): Uint8Array {
    const members = new Uint8Array(this.ops.length);
    for (let index = Math.max(0, first); index <= last; index++) {
      const leftOut = lean && index !== keep && this.compiled[index]?.code === Step.CAS_NOT_SWAPPED;
      members[index] = leftOut ? 0 : 1;
    }
    if (keep >= 0) members[keep] = 1;
    this.dependencies.addDependencies(members);
    return members;
  }

  /** Delta debugging's complement step: chunks of halving size, then single ops until a fixpoint. */
  removeChunks(start: Uint8Array): Uint8Array {
    // Windows that ran out of budget do not make the result less minimal; only this step's checks do.
    this.complete = true;
    let members: Uint8Array = start;
    let chunk = Math.ceil(this.count(members) / 2);
    for (;;) {
      let changed = false;
      let listed = this.indices(members);
      for (let at = 0; at < listed.length && listed.length > 1 && !this.exhausted(); ) {
        const candidate = members.slice();
        this.dependencies.removeWithDependents(candidate, listed.slice(at, at + chunk));
        if (this.count(candidate) > 0 && this.fails(candidate)) {
          members = candidate;
          listed = this.indices(members);
          changed = true;
        } else {
          at += chunk;
        }
      }
      if (this.exhausted() || (chunk === 1 && !changed)) return members;
      chunk = Math.max(1, Math.ceil(chunk / 2));
    }
  }

  /** Whether the subset is proven non-linearizable; running out of budget proves nothing. */
  fails(members: Uint8Array): boolean {
    const subset = this.ops.filter((_, index) => members[index] === 1);
    const statesMax = Math.min(this.budget.statesPerCheckMax, this.budget.statesMax - this.statesExplored);
    const result = searchLinearization(subset, statesMax);
    this.statesExplored += result.statesExplored;
    if (result.kind === "budget-exceeded") this.complete = false;
    return result.kind === "not-linearizable";
  }

  count(members: Uint8Array): number {
    return members.reduce((sum, member) => sum + member, 0);
  }

  private indices(members: Uint8Array): number[] {
    const listed: number[] = [];
    members.forEach((member, index) => {
      if (member === 1) listed.push(index);
    });
    return listed;
  }

  private exhausted(): boolean {
    if (this.statesExplored < this.budget.statesMax) return false;
    this.complete = false;
    return true;
  }
}
