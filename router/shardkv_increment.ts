// Atomic increment of a decimal int64 value, as optimistic concurrency over the state machine's txn:
// read the key, then put value + delta only if the key's mod revision is still the one read (a
// missing key has mod revision 0). When another writer got there first, the failed txn's own range
// hands back the key as it now is, so each retry is one proposal and no extra read. Retries are
// bounded: a key that many writers fight over fails with ABORTED rather than spinning.
//
// Why not a new state-machine op: this needs none of the command codec, apply and snapshot format
// to change, and under little contention (the common case) it costs one read and one proposal.

import * as grpc from "@grpc/grpc-js";
import type * as mvcc from "../shard/mvcc/index.js";
import { quoteKey, RouterError } from "./errors.js";
import type { ShardAccess } from "./shard_access.js";
import { quoteValue } from "./shardkv_convert.js";

/** Txns tried before giving up on a contended key. */
export const INCREMENT_ATTEMPTS_MAX = 16;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export interface IncrementOutcome {
  readonly value: bigint;
  /** The key as written. */
  readonly kv: mvcc.KeyValue;
  readonly revision: number;
}

export interface IncrementArgs {
  readonly shard: number;
  readonly key: Uint8Array;
  readonly delta: bigint;
  /** A new TTL; undefined keeps the key's expiry (as the time it has left). */
  readonly ttlMs: number | undefined;
}

export async function increment(access: ShardAccess, args: IncrementArgs): Promise<IncrementOutcome> {
  const { shard, key } = args;
  let current = (await access.range(shard, { key }, "linearizable")).kvs[0];
  for (let attempt = 0; attempt < INCREMENT_ATTEMPTS_MAX; attempt++) {
    const value = addChecked(counterOf(key, current), args.delta, key);
    const ttl = ttlFor(args.ttlMs, current, access.nowMs());
    const txn: mvcc.TxnRequest = {
      compare: [{ key, target: "mod", result: "equal", value: current?.modRevision ?? 0 }],
      success: [{ put: { key, value: Buffer.from(value.toString()), ...ttl } }, { range: { key } }],
      failure: [{ range: { key } }],
    };
    const result = await access.propose(shard, { op: "txn", txn });
    if (!result.ok) throw result.error;
    const response = result.response as mvcc.TxnResponse;
    const read = response.responses.at(-1);
    const kv = read !== undefined && "range" in read ? read.range.kvs[0] : undefined;
    if (response.succeeded) {
      if (kv === undefined) throw new Error(`the increment of key ${quoteKey(key)} applied but its txn read no key back`);
      return { value, kv, revision: result.revision };
    }
    current = kv;
  }
  throw new RouterError(
    grpc.status.ABORTED,
    `Cannot increment key ${quoteKey(key)}: other writers changed it first ${INCREMENT_ATTEMPTS_MAX} times in a row`,
    "retry after a pause; a counter this contended is better spread over several keys that are summed on read",
  );
}

/** The key's value as an int64; a missing key counts as 0. */
export function counterOf(key: Uint8Array, kv: mvcc.KeyValue | undefined): bigint {
  if (kv === undefined) return 0n;
  const text = Buffer.from(kv.value).toString("latin1");
  const parsed = /^-?\d{1,19}$/.test(text) ? BigInt(text) : undefined;
  if (parsed === undefined || parsed < INT64_MIN || parsed > INT64_MAX) {
    throw RouterError.failedPrecondition(
      `Cannot increment key ${quoteKey(key)}: its value ${quoteValue(kv.value)} is not a decimal int64`,
      "put an integer value (like \"0\") first, or delete the key so that it counts from 0",
    );
  }
  return parsed;
}

function addChecked(value: bigint, delta: bigint, key: Uint8Array): bigint {
  const sum = value + delta;
  if (sum < INT64_MIN || sum > INT64_MAX) {
    throw new RouterError(grpc.status.OUT_OF_RANGE, `Cannot increment key ${quoteKey(key)} by ${delta}: ${value} + ${delta} is outside int64`);
  }
  return sum;
}

/**
 * A put clears a TTL it does not name, so keeping the key's expiry means naming the time it has left.
 * That time is counted on this node's clock and re-applied from the leader's: it may move by the
 * clock difference between the two (ms on synchronised clocks). A key past its expiry here gets 1 ms.
 */
function ttlFor(ttlMs: number | undefined, current: mvcc.KeyValue | undefined, nowMs: number): { ttlMs?: number } {
  if (ttlMs !== undefined) return { ttlMs };
  if (current?.expiresAtMs === undefined) return {};
  return { ttlMs: Math.max(1, current.expiresAtMs - nowMs) };
}
