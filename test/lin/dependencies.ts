/**
 * Which operations of one key another operation's result may depend on. A subset of a key's history
 * that is closed under these dependencies keeps the property that matters: if the subset has no
 * linearization, neither has the whole key. Shrinking and pruning only ever use closed subsets, so a
 * "minimal" violation never blames a read for the absence of a write we removed ourselves.
 *
 * Why closed is enough: take a linearization L of the whole key and keep only the subset's ops, in
 * L's order, dropping unknown cas that did not swap in L. Every op that looks at the state sees the
 * value of its latest effective writer in L; closure keeps that writer (every writer of the value it
 * expects, or for a cas that did not swap every writer of any other value), and no kept writer lies
 * between them, so it sees the same value and stays legal. Real-time order is inherited from L.
 */
import { Step } from "./register.js";
import type { CompiledOp } from "./register.js";

export class Dependencies {
  /** Writers (writes, deletes, swapping or unknown cas) by the value id they write. */
  private readonly writersByValue = new Map<number, number[]>();
  /** Ops that need the state to equal a value (reads, swapping cas, unknown cas), by that value. */
  private readonly equalObserversByValue = new Map<number, number[]>();
  /** Ok cas that did not swap: they need the state to differ from their expected value. */
  private readonly differObservers: number[] = [];

  constructor(private readonly ops: readonly CompiledOp[]) {
    ops.forEach((op, index) => {
      const written = writtenValue(op);
      if (written !== undefined) push(this.writersByValue, written, index);
      if (op.code === Step.CAS_NOT_SWAPPED) this.differObservers.push(index);
      else if (op.code !== Step.WRITE) push(this.equalObserversByValue, op.a, index);
    });
  }

  /** Adds to `members` (one flag per op) every op its members depend on, transitively. */
  addDependencies(members: Uint8Array): void {
    const pending: number[] = [];
    members.forEach((member, index) => {
      if (member === 1) pending.push(index);
    });
    const valuesAdded = new Set<number>();
    // Two distinct expected values of not-swapped cas already pull in every writer: stop looking.
    const differsSeen = new Set<number>();
    const add = (value: number): void => {
      if (valuesAdded.has(value)) return;
      valuesAdded.add(value);
      for (const writer of this.writersByValue.get(value) ?? []) {
        if (members[writer] === 0) {
          members[writer] = 1;
          pending.push(writer);
        }
      }
    };
    for (let index = pending.pop(); index !== undefined; index = pending.pop()) {
      const op = this.ops[index];
      if (op === undefined || op.code === Step.WRITE) continue;
      if (op.code !== Step.CAS_NOT_SWAPPED) {
        add(op.a);
        continue;
      }
      if (differsSeen.size >= 2 || differsSeen.has(op.a)) continue;
      differsSeen.add(op.a);
      for (const value of this.writersByValue.keys()) {
        if (value !== op.a) add(value);
      }
    }
  }

  /** Clears `removed` from `members`, and every member that depends on a cleared op, transitively. */
  removeWithDependents(members: Uint8Array, removed: readonly number[]): void {
    const pending = removed.filter((index) => members[index] === 1);
    for (const index of pending) members[index] = 0;
    const valuesGone = new Set<number>();
    const remove = (index: number): void => {
      if (members[index] === 1) {
        members[index] = 0;
        pending.push(index);
      }
    };
    for (let index = pending.pop(); index !== undefined; index = pending.pop()) {
      const op = this.ops[index];
      const written = op === undefined ? undefined : writtenValue(op);
      if (written === undefined || valuesGone.has(written)) continue;
      valuesGone.add(written);
      for (const observer of this.equalObserversByValue.get(written) ?? []) remove(observer);
      // After two distinct values are gone every not-swapped cas has lost a writer: two passes suffice.
      if (valuesGone.size > 2) continue;
      for (const observer of this.differObservers) {
        if (this.ops[observer]?.a !== written || valuesGone.size === 2) remove(observer);
      }
    }
  }
}

/** The value id an op may leave in the register, or undefined if it never writes. */
function writtenValue(op: CompiledOp): number | undefined {
  switch (op.code) {
    case Step.WRITE:
      return op.a;
    case Step.CAS_SWAPPED:
    case Step.CAS_UNKNOWN:
      return op.b;
    case Step.READ:
    case Step.CAS_NOT_SWAPPED:
      return undefined;
  }
}

function push(map: Map<number, number[]>, value: number, index: number): void {
  const list = map.get(value);
  if (list === undefined) map.set(value, [index]);
  else list.push(index);
}
