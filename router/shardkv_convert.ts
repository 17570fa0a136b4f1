// Our own API's messages (proto/shardkv/v1/kv.proto, as proto/shardkv_types.ts decodes them) to
// and from the state machine's types, and the checks every request of it gets first: a non-empty
// key, a known consistency with a staleness bound only where one means something, a TTL in range.
// Pure functions; every refusal is INVALID_ARGUMENT with a sentence that says what to send instead.

import type { Int64, Writable } from "../proto/index.js";
import { shardkv as t } from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import { quoteKey, RouterError } from "./errors.js";

/** How a read is to be served, once checked. */
export type ReadMode =
  | { readonly kind: "linearizable" }
  | { readonly kind: "serializable" }
  | { readonly kind: "bounded"; readonly maxStalenessMs: number };

/**
 * TTLs and staleness bounds are added to wall-clock ms by the state machine, which takes integers of
 * magnitude below 2^52 (shard/mvcc/validate.ts): a bound past ~140,000 years is refused, not rounded.
 */
const MS_MAX = 2 ** 52 - 1;

/** Refuses an empty key with the method's name in the message. */
export function requireOwnKey(key: Uint8Array, method: string): void {
  if (key.length === 0) {
    throw RouterError.invalidArgument(`Cannot ${method}: the key is empty; every key needs at least one byte`);
  }
}

/** A millisecond field: a decimal int64 in [0, 2^52), else INVALID_ARGUMENT naming the field. */
export function msFromWire(value: Int64, field: string): number {
  return nonNegativeFromWire(value, field, "ms");
}

function nonNegativeFromWire(value: Int64, field: string, unit: string): number {
  if (!/^-?\d{1,20}$/.test(value)) throw RouterError.invalidArgument(`Invalid ${field} ${JSON.stringify(value)}: expected a decimal integer (${unit})`);
  const n = BigInt(value);
  if (n < 0n) throw RouterError.invalidArgument(`Invalid ${field} ${value}: it must be 0 or more (${unit})`);
  if (n > BigInt(MS_MAX)) throw RouterError.invalidArgument(`Invalid ${field} ${value}: it must be below 2^52 (${unit})`);
  return Number(n);
}

/** The read mode of a Get or MultiGet; a bound is required with BOUNDED_STALENESS and refused without it. */
export function readModeFromWire(consistency: t.Consistency, maxStalenessMs: Int64): ReadMode {
  const bound = msFromWire(maxStalenessMs, "max_staleness_ms");
  switch (consistency) {
    case t.Consistency.LINEARIZABLE:
    case t.Consistency.SERIALIZABLE:
      if (bound !== 0) {
        throw RouterError.invalidArgument(
          `Invalid max_staleness_ms ${bound}: it applies only to consistency BOUNDED_STALENESS; set that, or leave max_staleness_ms at 0`,
        );
      }
      return { kind: consistency === t.Consistency.LINEARIZABLE ? "linearizable" : "serializable" };
    case t.Consistency.BOUNDED_STALENESS:
      if (bound === 0) {
        throw RouterError.invalidArgument(
          "Invalid read: consistency BOUNDED_STALENESS needs max_staleness_ms > 0 (how old the answer may be); use LINEARIZABLE for a bound of 0",
        );
      }
      return { kind: "bounded", maxStalenessMs: bound };
    default:
      throw RouterError.invalidArgument(`Invalid consistency ${consistency}: expected LINEARIZABLE (0), SERIALIZABLE (1) or BOUNDED_STALENESS (2)`);
  }
}

/** A put's TTL: 0 is none. */
export function ttlFromWire(ttlMs: Int64): { readonly ttlMs?: number } {
  const ms = msFromWire(ttlMs, "ttl_ms");
  return ms === 0 ? {} : { ttlMs: ms };
}

/** The compare of a compare-and-set, or none. */
export function expectedFromWire(req: t.Expected & { readonly key: Uint8Array }): mvcc.Compare | undefined {
  switch (req.expected) {
    case undefined:
      return undefined;
    case "expected_version": {
      const version = nonNegativeFromWire(req.expected_version, "expected_version", "a key version; 0: the key must not exist");
      return { key: req.key, target: "version", result: "equal", value: version };
    }
    case "expected_value":
      return { key: req.key, target: "value", result: "equal", value: req.expected_value };
  }
}

export interface HeaderFields {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly shard: number;
  readonly revision: number;
  readonly raftTerm: number;
}

export function headerToWire(h: HeaderFields): Writable<t.ResponseHeader> {
  return { cluster_id: String(h.clusterId), member_id: String(h.memberId), shard_id: h.shard, revision: String(h.revision), raft_term: String(h.raftTerm) };
}

export function kvToWire(kv: mvcc.KeyValue, shard: number): Writable<t.KeyValue> {
  return {
    key: kv.key,
    value: kv.value,
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    expires_at_ms: String(kv.expiresAtMs ?? 0),
    shard_id: shard,
  };
}

/** What a read of `mode` turned out to be (a bounded read may have fallen back). */
export function servedToWire(mode: ReadMode, servedLocally: boolean): (typeof t.Consistency)[keyof typeof t.Consistency] {
  if (mode.kind === "serializable") return t.Consistency.SERIALIZABLE;
  return mode.kind === "bounded" && servedLocally ? t.Consistency.BOUNDED_STALENESS : t.Consistency.LINEARIZABLE;
}

/** A value for a message, as quoteKey shows keys (JSON text, or hex for binary; truncated). */
export function quoteValue(value: Uint8Array): string {
  return value.length === 0 ? '""' : quoteKey(value);
}
