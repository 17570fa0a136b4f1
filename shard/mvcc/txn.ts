// Transactions as etcd applies them (server/etcdserver/txn/txn.go): compares against the state
// before the txn, then the success or failure ops in order, each seeing the writes of the ones
// before it; nested txns likewise. An op that fails fails the whole txn, and the caller drops the
// command's overlay, so nothing of it is written.

import { compareBytes } from "./keys.js";
import type { Compare, KeyValue, RequestOp, ResponseOp, TxnRequest, TxnResponse } from "./requests.js";
import type { CommandScope } from "./scope.js";
import { applyDeleteRange, applyPut } from "./kv_ops.js";
import { rangeRead, visibleKvsIn } from "./range.js";

export async function applyTxn(scope: CommandScope, txn: TxnRequest): Promise<TxnResponse> {
  let succeeded = true;
  for (const compare of txn.compare) {
    if (!(await evaluateCompare(scope, compare))) {
      succeeded = false;
      break;
    }
  }
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? txn.success : txn.failure) responses.push(await applyRequestOp(scope, op));
  return { succeeded, responses };
}

async function applyRequestOp(scope: CommandScope, op: RequestOp): Promise<ResponseOp> {
  if ("put" in op) return { put: applyPut(scope, op.put) };
  if ("deleteRange" in op) return { deleteRange: await applyDeleteRange(scope, op.deleteRange) };
  if ("txn" in op) return { txn: await applyTxn(scope, op.txn) };
  const view = { revision: scope.revision, compactRevision: scope.compactRevision, nowMs: scope.nowMs };
  return { range: await rangeRead(scope.overlay, scope.layout, op.range, view) };
}

/**
 * etcd's applyCompare: true when every key in the range satisfies it. No key at all compares as a
 * zero KeyValue (version, create, mod and lease 0), except a value compare, which is then false.
 */
export async function evaluateCompare(scope: CommandScope, compare: Compare): Promise<boolean> {
  let seen = false;
  for await (const kv of visibleKvsIn(scope.overlay, scope.layout, compare.key, compare.rangeEnd, scope.nowMs)) {
    seen = true;
    if (!compareKv(compare, kv)) return false;
  }
  if (seen) return true;
  return compare.target !== "value" && compareKv(compare, undefined);
}

/** A compare whose value has the wrong type for its target is false (validateCommand refuses it). */
export function compareKv(compare: Compare, kv: KeyValue | undefined): boolean {
  const order = orderOf(compare, kv);
  if (order === undefined) return false;
  switch (compare.result) {
    case "equal":
      return order === 0;
    case "notEqual":
      return order !== 0;
    case "less":
      return order < 0;
    case "greater":
      return order > 0;
  }
}

/** The sign of (the key's field - the compare's value), or undefined for a mistyped value. */
function orderOf(compare: Compare, kv: KeyValue | undefined): number | undefined {
  const value = compare.value;
  switch (compare.target) {
    case "value":
      return value instanceof Uint8Array ? Math.sign(compareBytes(kv?.value ?? EMPTY, value)) : undefined;
    case "lease": {
      if (typeof value !== "bigint") return undefined;
      const lease = kv?.lease ?? 0n;
      return lease < value ? -1 : lease > value ? 1 : 0;
    }
    case "version":
      return typeof value === "number" ? Math.sign((kv?.version ?? 0) - value) : undefined;
    case "create":
      return typeof value === "number" ? Math.sign((kv?.createRevision ?? 0) - value) : undefined;
    case "mod":
      return typeof value === "number" ? Math.sign((kv?.modRevision ?? 0) - value) : undefined;
  }
}

const EMPTY = new Uint8Array(0);
