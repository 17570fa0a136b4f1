// What the proposer checks before proposing, with etcd's error strings where etcd has them
// (server/etcdserver/api/v3rpc/key.go: checkPutRequest, checkTxnRequest, checkIntervals). Apply
// never relies on these checks having run: it must answer anything deterministically.

import { ETCD_ERRORS, MvccError, invalidArgument } from "./errors.js";
import { LEASE_TTL_SECONDS_MAX, type MvccLimits } from "./limits.js";
import type { Command } from "./command.js";
import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from "./requests.js";
import { bytesToLatin1, describeKey } from "./keys.js";

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

export function validateCommand(command: Command, limits: MvccLimits): void {
  checkInteger(command.header.nowMs, "header.nowMs", 0);
  if (command.header.requestId < 0n || command.header.requestId > U64_MAX) {
    throw invalidArgument(`Cannot propose request id ${command.header.requestId}: expected a uint64`);
  }
  switch (command.op) {
    case "put":
      return validatePut(command.put, limits);
    case "deleteRange":
      return validateDeleteRange(command.deleteRange);
    case "txn":
      validateTxn(command.txn, limits);
      checkIntervals(command.txn.success);
      checkIntervals(command.txn.failure);
      return;
    case "compact":
      return checkInteger(command.revision, "compact revision", Number.MIN_SAFE_INTEGER);
    case "leaseGrant":
      checkLeaseId(command.id, "grant");
      if (command.id === 0n) throw invalidArgument("Cannot grant lease 0: the proposer must choose a non-zero id");
      checkInteger(command.ttlSeconds, "lease ttlSeconds", Number.MIN_SAFE_INTEGER);
      if (command.ttlSeconds <= 0) {
        throw invalidArgument(`Cannot grant lease ${command.id}: ttlSeconds is ${command.ttlSeconds}, it must be positive`);
      }
      if (command.ttlSeconds > LEASE_TTL_SECONDS_MAX) throw new MvccError("OUT_OF_RANGE", ETCD_ERRORS.leaseTtlTooLarge);
      return;
    case "leaseRevoke":
      return checkLeaseId(command.id, "revoke");
    case "expireKeys":
      for (const key of command.keys) checkKey(key, limits, "expire");
      return;
    case "purgeTombstones":
      return checkInteger(command.beforeRevision, "purgeTombstones beforeRevision", Number.MIN_SAFE_INTEGER);
  }
}

function validatePut(put: PutRequest, limits: MvccLimits): void {
  checkKey(put.key, limits, "put");
  if (put.value.length > limits.valueBytesMax) {
    throw invalidArgument(
      `Cannot put key ${describeKey(put.key)}: value is ${put.value.length} bytes, over the ${limits.valueBytesMax}-byte limit (valueBytesMax, set by the node's --max-value-bytes); store larger values in pieces, or raise the limit`,
    );
  }
  if (put.ignoreValue === true && put.value.length !== 0) throw invalidArgument(ETCD_ERRORS.valueProvided);
  if (put.ignoreLease === true && put.lease !== undefined && put.lease !== 0n) throw invalidArgument(ETCD_ERRORS.leaseProvided);
  if (put.lease !== undefined) checkLeaseId(put.lease, "attach");
  if (put.ttlMs !== undefined) {
    checkInteger(put.ttlMs, "put ttlMs", Number.MIN_SAFE_INTEGER);
    if (put.ttlMs <= 0) throw invalidArgument(`Cannot put key ${describeKey(put.key)}: ttlMs is ${put.ttlMs}, it must be positive`);
  }
}

function validateDeleteRange(del: DeleteRangeRequest): void {
  if (del.key.length === 0) throw invalidArgument(ETCD_ERRORS.emptyKey);
}

function validateRange(range: RangeRequest): void {
  if (range.key.length === 0) throw invalidArgument(ETCD_ERRORS.emptyKey);
  for (const name of ["limit", "revision", "minModRevision", "maxModRevision", "minCreateRevision", "maxCreateRevision"] as const) {
    const value = range[name];
    if (value !== undefined) checkInteger(value, `range ${name}`, Number.MIN_SAFE_INTEGER);
  }
}

function validateTxn(txn: TxnRequest, limits: MvccLimits): void {
  if (txn.compare.length > limits.txnOpsMax || txn.success.length > limits.txnOpsMax || txn.failure.length > limits.txnOpsMax) {
    throw invalidArgument(ETCD_ERRORS.tooManyOps);
  }
  for (const compare of txn.compare) validateCompare(compare);
  for (const op of [...txn.success, ...txn.failure]) {
    if ("range" in op) validateRange(op.range);
    else if ("put" in op) validatePut(op.put, limits);
    else if ("deleteRange" in op) validateDeleteRange(op.deleteRange);
    else validateTxn(op.txn, limits);
  }
}

function validateCompare(compare: Compare): void {
  const expected = compare.target === "value" ? "bytes" : compare.target === "lease" ? "bigint" : "number";
  const actual = compare.value instanceof Uint8Array ? "bytes" : typeof compare.value;
  if (expected !== actual) {
    throw invalidArgument(
      `Cannot compare ${compare.target} of key ${describeKey(compare.key)}: the value is a ${actual}, expected a ${expected}`,
    );
  }
  if (typeof compare.value === "number") checkInteger(compare.value, `compare ${compare.target}`, Number.MIN_SAFE_INTEGER);
}

/** A deleted span: [start, end), with end null for "every key from start on". */
interface Span {
  readonly start: Uint8Array;
  readonly end: Uint8Array | null;
}

/**
 * etcd's checkIntervals: within one branch, no key may be put twice, nor put and deleted; the
 * then/else branches of a nested txn exclude each other, so they may put the same key.
 */
function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; dels: Span[] } {
  const dels: Span[] = [];
  for (const op of ops) if ("deleteRange" in op) dels.push(spanOf(op.deleteRange.key, op.deleteRange.rangeEnd));
  const puts = new Set<string>();
  for (const op of ops) {
    if (!("txn" in op)) continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    for (const key of then.puts) {
      if (puts.has(key) || intersects(dels, key)) throw invalidArgument(ETCD_ERRORS.duplicateKey);
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if ((puts.has(key) && !then.puts.has(key)) || intersects(dels, key)) throw invalidArgument(ETCD_ERRORS.duplicateKey);
      puts.add(key);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (!("put" in op)) continue;
    const key = bytesToLatin1(op.put.key);
    if (puts.has(key) || intersects(dels, key)) throw invalidArgument(ETCD_ERRORS.duplicateKey);
    puts.add(key);
  }
  return { puts, dels };
}

function spanOf(key: Uint8Array, rangeEnd: Uint8Array | undefined): Span {
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start: key, end: Uint8Array.of(...key, 0) };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start: key, end: null };
  return { start: key, end: rangeEnd };
}

function intersects(spans: readonly Span[], latin1Key: string): boolean {
  const key = Buffer.from(latin1Key, "latin1");
  return spans.some((span) => Buffer.compare(span.start, key) <= 0 && (span.end === null || Buffer.compare(key, span.end) < 0));
}

function checkKey(key: Uint8Array, limits: MvccLimits, action: string): void {
  if (key.length === 0) throw invalidArgument(ETCD_ERRORS.emptyKey);
  if (key.length > limits.keyBytesMax) {
    throw invalidArgument(
      `Cannot ${action} key ${describeKey(key)}: key is ${key.length} bytes, over the ${limits.keyBytesMax}-byte limit (keyBytesMax, set by the node's --max-key-bytes); use a shorter key, or raise the limit`,
    );
  }
}

function checkLeaseId(id: bigint, action: string): void {
  if (id < I64_MIN || id > I64_MAX) throw invalidArgument(`Cannot ${action} lease ${id}: lease ids are int64`);
}

/** Signed fields travel zigzagged, so the codec takes magnitudes below 2^52 (wire.ts). */
const SIGNED_ABS_LIMIT = 2 ** 52;

function checkInteger(value: number, what: string, min: number): void {
  const max = min === 0 ? Number.MAX_SAFE_INTEGER : SIGNED_ABS_LIMIT - 1;
  if (!Number.isSafeInteger(value) || value < Math.max(min, -max) || value > max) {
    throw invalidArgument(`Invalid ${what}: ${String(value)}, expected an integer${min === 0 ? " >= 0" : " of magnitude below 2^52"}`);
  }
}
