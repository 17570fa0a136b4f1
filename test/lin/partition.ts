/**
 * Locality (Herlihy & Wing 1990, §3.3; "P-compositionality" in Horn & Kroening): a history is
 * linearizable iff every key's sub-history is, so the checker splits by key and searches each alone.
 * Each key keeps only the operations that can change its verdict: failed operations never happened,
 * unknown reads say nothing, and an unknown write that no kept operation could observe may as well
 * never have happened (dependencies.ts explains why dropping it is sound).
 */
import { Dependencies } from "./dependencies.js";
import type { Operation } from "./history.js";
import { ValueInterner, compileOperation } from "./register.js";

export interface KeyHistory {
  key: string;
  /** The operations that may constrain this key, sorted by call time. */
  operations: Operation[];
}

/** Splits a history into per-key histories of relevant operations, sorted by key. */
export function partitionByKey(ops: readonly Operation[]): KeyHistory[] {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  return [...byKey.keys()].sort().map((key) => ({ key, operations: relevantOperations(byKey.get(key) ?? []) }));
}

/** The operations of one key that may constrain it: the ok ones and the unknown ones they could observe. */
export function relevantOperations(keyOps: readonly Operation[]): Operation[] {
  const candidates = keyOps.filter((op) => op.status === "ok" || (op.status === "unknown" && op.kind !== "read"));
  const values = new ValueInterner();
  const dependencies = new Dependencies(candidates.map((op) => compileOperation(op, values)));
  const members = Uint8Array.from(candidates, (op) => (op.status === "ok" ? 1 : 0));
  dependencies.addDependencies(members);
  return sortByCall(candidates.filter((_, index) => members[index] === 1));
}

/** Sorts by call time, then id, so that every listing of operations reads in the same order. */
export function sortByCall(ops: Operation[]): Operation[] {
  return ops.sort((x, y) => x.call - y.call || x.id - y.id);
}
