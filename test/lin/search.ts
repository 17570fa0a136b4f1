/**
 * The search for a linearization of one key's history: Wing & Gong's backtracking over the
 * operations that may take effect next, with Lowe's memo of explored configurations (as Porcupine
 * does). It proves "linearizable" only by building a linearization, and "not linearizable" only by
 * exhausting every configuration; when the budget runs out first it says so and claims neither.
 *
 * A definite (ok) operation may be linearized while its call precedes the first pending return.
 * Unknown-outcome operations have no return, so they never block; they are tried after the definite
 * candidates, and only where UnknownPlacement says some linearization needs them. A read (or a cas
 * that did not swap) that is legal now is linearized at once without branching: it changes nothing,
 * so any linearization can be rewritten to take it first.
 */
import type { Operation } from "./history.js";
import { DefiniteOps, UnknownOps } from "./candidates.js";
import { ConfigCache } from "./config_cache.js";
import { ABSENT, ILLEGAL, ValueInterner, comparedValues, isPureObserver } from "./register.js";
import { UnknownPlacement } from "./unknown_placement.js";

export type SearchResult =
  | { kind: "linearizable"; statesExplored: number }
  | {
      kind: "not-linearizable";
      statesExplored: number;
      /** The operation whose return no explored configuration got past: the violation is at or before it. */
      stuckAt: Operation;
    }
  | {
      kind: "budget-exceeded";
      statesExplored: number;
      /** The furthest return the search reached: a violation, if any, is likely at or before it. */
      stuckAt: Operation;
    };

/**
 * Searches for a linearization of `ops`, all on one key, with status ok or (for writes, deletes and
 * cas) unknown; gives up after `statesMax` configurations.
 */
export function searchLinearization(ops: readonly Operation[], statesMax: number): SearchResult {
  return new LinearizationSearch(ops, statesMax).run();
}

/**
 * What one step of the search did. ENTERED: linearized an op, reaching a new configuration. SEEN:
 * moved on without one (the candidate was illegal, explored already, or not worth it). SUCCESS: every
 * definite op is linearized. EXHAUSTED: backtracked past the root. BUDGET: too many configurations.
 */
const Outcome = { ENTERED: 0, SEEN: 1, SUCCESS: 2, EXHAUSTED: 3, BUDGET: 4 } as const;
type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Where the main loop is: entering a configuration, scanning definite or unknown candidates, or backtracking. */
const Mode = { ENTER: 0, DEFINITE: 1, UNKNOWN: 2, BACKTRACK: 3 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

class LinearizationSearch {
  private readonly definite: DefiniteOps;
  private readonly unknown: UnknownOps;
  private readonly cache: ConfigCache;

  /** The register state after the operations linearized so far. */
  private state = ABSENT;
  /** Definite ops linearized, by rank. Invariant: count of set bits === linearizedCount. */
  private readonly linearized: Uint32Array;
  private linearizedCount = 0;
  /** Invariant: every rank below it is linearized and it is not (or it equals the definite count). */
  private firstPending = 0;
  /** Unknown ops linearized, by index in `unknown`. */
  private readonly unknownLinearized: Uint32Array;
  /** The highest rank whose return the scan reached: where a failed or abandoned search got stuck. */
  private stuckRank = 0;
  private readonly placement: UnknownPlacement;
  /** Scratch for the configuration key handed to the cache: [state, firstPending, ...other linearized ranks]. */
  private readonly key: Int32Array;

  /** Where the loop is, and its cursors: a node of the definite list, an index of the unknown list. */
  private mode: Mode = Mode.ENTER;
  private node = 0;
  private unknownIndex = 0;
  /** The first pending return's time: unknown ops called after it cannot go yet. */
  private bound = 0;

  /** The stack of linearized operations, so that backtracking can undo them in order. */
  private depth = 0;
  private readonly frameIsUnknown: Uint8Array;
  /** A forced frame linearized a pure observer, the only child its configuration needs. */
  private readonly frameIsForced: Uint8Array;
  private readonly frameOp: Int32Array;
  private readonly frameState: Int32Array;
  private readonly frameBound: Float64Array;

  constructor(
    ops: readonly Operation[],
    private readonly statesMax: number,
  ) {
    const values = new ValueInterner(comparedValues(ops));
    const definiteOps = ops.filter((op) => op.status === "ok");
    const unknownOps = ops.filter((op) => op.status !== "ok");
    for (const op of unknownOps) {
      if (op.status !== "unknown" || op.kind === "read") {
        throw new Error(`Cannot search operation ${op.id}: drop failed ops and unknown reads before searching`);
      }
    }
    this.definite = new DefiniteOps(definiteOps, values);
    this.unknown = new UnknownOps(unknownOps, values);
    this.placement = new UnknownPlacement(this.definite, this.unknown, values.count);
    const definiteCount = this.definite.count;
    const unknownWords = Math.ceil(this.unknown.count / 32);
    this.cache = new ConfigCache(unknownWords);
    this.linearized = new Uint32Array(Math.ceil(definiteCount / 32) + 1);
    this.unknownLinearized = new Uint32Array(unknownWords);
    this.key = new Int32Array(definiteCount + 2);
    const depthMax = definiteCount + this.unknown.count;
    this.frameIsUnknown = new Uint8Array(depthMax);
    this.frameIsForced = new Uint8Array(depthMax);
    this.frameOp = new Int32Array(depthMax);
    this.frameState = new Int32Array(depthMax);
    this.frameBound = new Float64Array(depthMax);
  }

  run(): SearchResult {
    if (this.definite.count === 0) return { kind: "linearizable", statesExplored: 0 };
    for (;;) {
      let outcome: Outcome;
      if (this.mode === Mode.ENTER) outcome = this.enter();
      else if (this.mode === Mode.DEFINITE) outcome = this.scanDefinite();
      else if (this.mode === Mode.UNKNOWN) outcome = this.scanUnknown();
      else outcome = this.backtrack();
      const statesExplored = this.cache.size;
      const stuckAt = this.definite.operation(this.stuckRank);
      switch (outcome) {
        case Outcome.SUCCESS:
          return { kind: "linearizable", statesExplored };
        case Outcome.EXHAUSTED:
          return { kind: "not-linearizable", statesExplored, stuckAt };
        case Outcome.BUDGET:
          return { kind: "budget-exceeded", statesExplored, stuckAt };
        case Outcome.ENTERED:
        case Outcome.SEEN:
          break;
      }
    }
  }

  /** A configuration was just entered: a legal pure observer goes first and alone, as it commutes with all. */
  private enter(): Outcome {
    const observer = this.legalPureObserver();
    if (observer < 0) {
      this.node = this.definite.first();
      this.mode = Mode.DEFINITE;
      return Outcome.SEEN;
    }
    const outcome = this.linearizeDefinite(observer, 1);
    // If the observer's configuration was explored already, this one fails too: it had no other child.
    if (outcome === Outcome.SEEN) this.mode = Mode.BACKTRACK;
    return outcome;
  }

  /** Tries the definite candidate at `node`; at the first pending return, moves on to unknown ops. */
  private scanDefinite(): Outcome {
    const definite = this.definite;
    const rank = definite.rankOf(this.node);
    if (!definite.isCall(this.node)) {
      // `rank` must be linearized before anything called later: only unknown ops remain to try here.
      this.stuckRank = Math.max(this.stuckRank, rank);
      this.bound = definite.returnTime(rank);
      this.unknownIndex = this.unknown.first();
      this.placement.survey(this.state, this.bound);
      this.mode = Mode.UNKNOWN;
      return Outcome.SEEN;
    }
    const outcome = definite.step(rank, this.state) === ILLEGAL ? Outcome.SEEN : this.linearizeDefinite(rank, 0);
    if (outcome === Outcome.SEEN) this.node = definite.next(this.node);
    else this.mode = Mode.ENTER;
    return outcome;
  }

  /** Tries the unknown candidate at `unknownIndex`; past the last one called by `bound`, backtracks. */
  private scanUnknown(): Outcome {
    if (this.unknown.callTime(this.unknownIndex) > this.bound) {
      this.mode = Mode.BACKTRACK;
      return Outcome.SEEN;
    }
    const outcome = this.linearizeUnknown(this.unknownIndex, this.bound);
    if (outcome === Outcome.SEEN) this.unknownIndex = this.unknown.next(this.unknownIndex);
    else this.mode = Mode.ENTER;
    return outcome;
  }

  /** Undoes the last linearized operation and resumes the scan just after it. */
  private backtrack(): Outcome {
    if (this.depth === 0) return Outcome.EXHAUSTED;
    const frame = --this.depth;
    const op = this.frameOp[frame] ?? 0;
    this.state = this.frameState[frame] ?? ABSENT;
    if (this.frameIsUnknown[frame] === 1) {
      this.undoUnknown(op);
      this.unknownIndex = this.unknown.next(op);
      this.bound = this.frameBound[frame] ?? 0;
      this.placement.survey(this.state, this.bound);
      this.mode = Mode.UNKNOWN;
    } else {
      this.undoDefinite(op);
      this.node = this.definite.next(this.definite.callNode(op));
      // A forced frame was its configuration's only child: that configuration failed too.
      this.mode = this.frameIsForced[frame] === 1 ? Mode.BACKTRACK : Mode.DEFINITE;
    }
    return Outcome.SEEN;
  }

  /** The rank of a candidate that never changes the state and is legal now, or -1. */
  private legalPureObserver(): number {
    const definite = this.definite;
    for (let node = definite.first(); definite.isCall(node); node = definite.next(node)) {
      const rank = definite.rankOf(node);
      if (isPureObserver(definite.code(rank)) && definite.step(rank, this.state) !== ILLEGAL) return rank;
    }
    return -1;
  }

  /** Linearizes a legal definite candidate unless its configuration was explored already. */
  private linearizeDefinite(rank: number, forced: 0 | 1): Outcome {
    const next = this.definite.step(rank, this.state);
    this.setLinearized(rank);
    if (!this.cache.insertIfNew(this.key, this.writeKey(next), this.unknownLinearized)) {
      this.clearLinearized(rank);
      return Outcome.SEEN;
    }
    if (this.cache.size > this.statesMax) return Outcome.BUDGET;
    this.push(0, forced, rank, 0);
    this.state = next;
    this.definite.lift(rank);
    return this.linearizedCount === this.definite.count ? Outcome.SUCCESS : Outcome.ENTERED;
  }

  /** Linearizes an unknown candidate that is worth it (see UnknownPlacement) unless already explored. */
  private linearizeUnknown(index: number, bound: number): Outcome {
    const next = this.unknown.step(index, this.state);
    if (!this.placement.isWorthTrying(index, this.state, next, this.unknownLinearized)) return Outcome.SEEN;
    const words = this.unknownLinearized;
    const word = index >>> 5;
    const bit = 1 << (index & 31);
    words[word] = (words[word] ?? 0) | bit;
    if (!this.cache.insertIfNew(this.key, this.writeKey(next), words)) {
      words[word] = (words[word] ?? 0) & ~bit;
      return Outcome.SEEN;
    }
    if (this.cache.size > this.statesMax) return Outcome.BUDGET;
    this.push(1, 0, index, bound);
    this.state = next;
    this.unknown.lift(index);
    return Outcome.ENTERED;
  }

  private undoDefinite(rank: number): void {
    this.definite.unlift(rank);
    this.clearLinearized(rank);
  }

  private undoUnknown(index: number): void {
    this.unknown.unlift(index);
    const word = index >>> 5;
    this.unknownLinearized[word] = (this.unknownLinearized[word] ?? 0) & ~(1 << (index & 31));
  }

  private push(isUnknown: 0 | 1, forced: 0 | 1, op: number, bound: number): void {
    const frame = this.depth++;
    this.frameIsUnknown[frame] = isUnknown;
    this.frameIsForced[frame] = forced;
    this.frameOp[frame] = op;
    this.frameState[frame] = this.state;
    this.frameBound[frame] = bound;
  }

  private setLinearized(rank: number): void {
    const words = this.linearized;
    words[rank >>> 5] = (words[rank >>> 5] ?? 0) | (1 << (rank & 31));
    this.linearizedCount++;
    while (this.firstPending < this.definite.count && this.isLinearized(this.firstPending)) this.firstPending++;
  }

  private clearLinearized(rank: number): void {
    const words = this.linearized;
    words[rank >>> 5] = (words[rank >>> 5] ?? 0) & ~(1 << (rank & 31));
    this.linearizedCount--;
    if (rank < this.firstPending) this.firstPending = rank;
  }

  private isLinearized(rank: number): boolean {
    return ((this.linearized[rank >>> 5] ?? 0) & (1 << (rank & 31))) !== 0;
  }

  /**
   * Encodes the configuration (state, linearized definite ops) as ints and returns how many. The
   * linearized set is every rank below firstPending plus a few ranks above it: ops in flight when
   * firstPending returns, so at most about one per client. That keeps keys short and exact.
   */
  private writeKey(state: number): number {
    const key = this.key;
    key[0] = state;
    key[1] = this.firstPending;
    let length = 2;
    let remaining = this.linearizedCount - this.firstPending;
    for (let word = (this.firstPending + 1) >>> 5; remaining > 0; word++) {
      let bits = this.linearized[word] ?? 0;
      if (word === (this.firstPending + 1) >>> 5) bits &= ~0 << ((this.firstPending + 1) & 31);
      while (bits !== 0 && remaining > 0) {
        const lowest = bits & -bits;
        key[length++] = (word << 5) + 31 - Math.clz32(lowest);
        bits ^= lowest;
        remaining--;
      }
    }
    return length;
  }
}
