/**
 * When linearizing an unknown-outcome operation is worth a branch. An unknown op never blocks and may
 * take effect at any time after its call, so the search could try it everywhere; these rules try it
 * only where some linearization must, which keeps histories full of timeouts from exploding. Each
 * rule rewrites any linearization into one that obeys it, with no more operations (moving an unknown
 * op later never breaks real-time order: it has no return), so no verdict changes:
 *
 * 1. Wanted: it is tried only right before a candidate that notices its effect: one reading or
 *    expecting the value it leaves, or a not-swapped cas the current state blocks. Otherwise move it
 *    later, to just before the first op that notices; drop it if none does (unknown cas that did not
 *    swap in between are dropped too: they changed nothing).
 * 2. Not dominated: a legal definite candidate with the same effect goes instead (for an unknown cas,
 *    only a swapping cas with the same values). Swap the two: the definite op now, the unknown one
 *    where the definite op was, where it has the same effect.
 * 3. First twin: of pending ops with the same effect (all callable from now on), only the first in call
 *    order is tried. Swap identities.
 */
import type { DefiniteOps, UnknownOps } from "./candidates.js";
import { ILLEGAL, Step } from "./register.js";

export class UnknownPlacement {
  /** Stamps per value id, equal to `epoch` when set by the latest survey. */
  private readonly wanted: Int32Array;
  /** A legal definite write or swapping cas leaves the value. */
  private readonly writtenByDefinite: Int32Array;
  /** A legal definite swapping cas leaves the value. */
  private readonly swappedByDefinite: Int32Array;
  private epoch = 0;
  /** A not-swapped cas candidate is blocked by the surveyed state: any change of value is wanted. */
  private anyChangeWanted = false;

  constructor(
    private readonly definite: DefiniteOps,
    private readonly unknown: UnknownOps,
    valueCount: number,
  ) {
    this.wanted = new Int32Array(valueCount);
    this.writtenByDefinite = new Int32Array(valueCount);
    this.swappedByDefinite = new Int32Array(valueCount);
  }

  /** Records what the candidates of this configuration (ops called by `bound`) want and offer. */
  survey(state: number, bound: number): void {
    const epoch = ++this.epoch;
    const definite = this.definite;
    this.anyChangeWanted = false;
    for (let node = definite.first(); definite.isCall(node); node = definite.next(node)) {
      const rank = definite.rankOf(node);
      const a = definite.operandA(rank);
      switch (definite.code(rank)) {
        case Step.READ:
          this.wanted[a] = epoch;
          break;
        case Step.WRITE:
          this.writtenByDefinite[a] = epoch;
          break;
        case Step.CAS_SWAPPED:
          this.wanted[a] = epoch;
          if (definite.step(rank, state) !== ILLEGAL) {
            this.writtenByDefinite[definite.operandB(rank)] = epoch;
            this.swappedByDefinite[definite.operandB(rank)] = epoch;
          }
          break;
        case Step.CAS_NOT_SWAPPED:
          this.anyChangeWanted ||= a === state;
          break;
        case Step.CAS_UNKNOWN:
          break;
      }
    }
    const unknown = this.unknown;
    for (let index = unknown.first(); unknown.callTime(index) <= bound; index = unknown.next(index)) {
      if (unknown.code(index) === Step.CAS_UNKNOWN) this.wanted[unknown.operandA(index)] = epoch;
    }
  }

  /**
   * Whether unknown op `index`, taking the surveyed state to `next`, obeys the three rules above.
   * `linearized` is the search's bitset of unknown ops already linearized.
   */
  isWorthTrying(index: number, state: number, next: number, linearized: Uint32Array): boolean {
    const epoch = this.epoch;
    if (next === state) return false;
    if (!this.anyChangeWanted && this.wanted[next] !== epoch) return false;
    const dominated =
      this.unknown.code(index) === Step.CAS_UNKNOWN
        ? this.swappedByDefinite[next] === epoch
        : this.writtenByDefinite[next] === epoch;
    if (dominated) return false;
    const twin = this.unknown.previousTwin(index);
    return twin < 0 || ((linearized[twin >>> 5] ?? 0) & (1 << (twin & 31))) !== 0;
  }
}
