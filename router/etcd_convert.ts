// etcd's KV messages as proto-loader decodes them (proto/etcd_types.ts: int64 as decimal strings,
// enums as open numbers, named oneofs) to and from the state machine's types (shard/mvcc/requests.ts:
// revisions as numbers, lease ids as bigints). Pure functions, no routing. A number the decoder let
// through for an enum we do not know, or an int64 that does not fit, is INVALID_ARGUMENT here, so
// nothing past this file meets one.

import {
  type Int64,
  type Writable,
  CompareResult as WireCompareResult,
  CompareTarget as WireCompareTarget,
  SortOrder as WireSortOrder,
  SortTarget as WireSortTarget,
} from "../proto/index.js";
import type * as t from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import { RouterError } from "./errors.js";
import type { ShardAccess } from "./shard_access.js";

const EMPTY = new Uint8Array(0);

// ---- scalars -------------------------------------------------------------------------------------

/** An int64 field as a number; shardkv's revisions and counts are Raft indexes, far below 2^53. */
export function int64ToNumber(value: Int64, field: string): number {
  const big = parseInt64(value, field);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw RouterError.invalidArgument(`Invalid ${field} ${value}: shardkv takes values of magnitude below 2^53 here`);
  }
  return Number(big);
}

/** An int64 field as a bigint (lease ids are random 63-bit numbers). */
export function int64ToBigint(value: Int64, field: string): bigint {
  return parseInt64(value, field);
}

function parseInt64(value: Int64, field: string): bigint {
  // The decoder only produces decimal strings; anything else is a bug on this side, still answered.
  if (!/^-?\d+$/.test(value)) throw RouterError.invalidArgument(`Invalid ${field} ${JSON.stringify(value)}: expected a decimal int64`);
  return BigInt(value);
}

/** An enum value through a table of the known ones; proto3 enums are open, so a miss is the client's. */
function known<T>(table: Readonly<Record<number, T>>, value: number, field: string): T {
  const mapped = table[value];
  if (mapped === undefined) throw RouterError.invalidArgument(`Invalid ${field} ${value}: not a value this server knows`);
  return mapped;
}

/** Only a non-empty range_end makes a range; proto3 cannot tell an empty one from an absent one. */
function rangeEndOf(rangeEnd: Buffer): { rangeEnd?: Uint8Array } {
  return rangeEnd.length > 0 ? { rangeEnd } : {};
}

// ---- requests -----------------------------------------------------------------------------------

const SORT_ORDERS: Readonly<Record<number, mvcc.SortOrder>> = {
  [WireSortOrder.NONE]: "none",
  [WireSortOrder.ASCEND]: "ascend",
  [WireSortOrder.DESCEND]: "descend",
};

const SORT_TARGETS: Readonly<Record<number, mvcc.SortTarget>> = {
  [WireSortTarget.KEY]: "key",
  [WireSortTarget.VERSION]: "version",
  [WireSortTarget.CREATE]: "create",
  [WireSortTarget.MOD]: "mod",
  [WireSortTarget.VALUE]: "value",
};

/** `serializable` is not part of the result: the router reads at the consistency it asks for. */
export function rangeFromWire(req: t.RangeRequest): mvcc.RangeRequest {
  return {
    key: req.key,
    ...rangeEndOf(req.range_end),
    limit: int64ToNumber(req.limit, "range limit"),
    revision: int64ToNumber(req.revision, "range revision"),
    sortOrder: known(SORT_ORDERS, req.sort_order, "range sort_order"),
    sortTarget: known(SORT_TARGETS, req.sort_target, "range sort_target"),
    keysOnly: req.keys_only,
    countOnly: req.count_only,
    minModRevision: int64ToNumber(req.min_mod_revision, "range min_mod_revision"),
    maxModRevision: int64ToNumber(req.max_mod_revision, "range max_mod_revision"),
    minCreateRevision: int64ToNumber(req.min_create_revision, "range min_create_revision"),
    maxCreateRevision: int64ToNumber(req.max_create_revision, "range max_create_revision"),
  };
}

export function putFromWire(req: t.PutRequest): mvcc.PutRequest {
  return {
    key: req.key,
    value: req.value,
    lease: int64ToBigint(req.lease, "put lease"),
    prevKv: req.prev_kv,
    ignoreValue: req.ignore_value,
    ignoreLease: req.ignore_lease,
  };
}

export function deleteRangeFromWire(req: t.DeleteRangeRequest): mvcc.DeleteRangeRequest {
  return { key: req.key, ...rangeEndOf(req.range_end), prevKv: req.prev_kv };
}

const COMPARE_RESULTS: Readonly<Record<number, mvcc.CompareResult>> = {
  [WireCompareResult.EQUAL]: "equal",
  [WireCompareResult.GREATER]: "greater",
  [WireCompareResult.LESS]: "less",
  [WireCompareResult.NOT_EQUAL]: "notEqual",
};

const COMPARE_TARGETS: Readonly<Record<number, mvcc.CompareTarget>> = {
  [WireCompareTarget.VERSION]: "version",
  [WireCompareTarget.CREATE]: "create",
  [WireCompareTarget.MOD]: "mod",
  [WireCompareTarget.VALUE]: "value",
  [WireCompareTarget.LEASE]: "lease",
};

export function compareFromWire(compare: t.Compare): mvcc.Compare {
  const target = known(COMPARE_TARGETS, compare.target, "compare target");
  return {
    key: compare.key,
    ...rangeEndOf(compare.range_end),
    target,
    result: known(COMPARE_RESULTS, compare.result, "compare result"),
    value: compareValue(compare, target),
  };
}

/**
 * etcd reads the target_union member that `target` names (Compare.GetVersion() and so on); when the
 * client set another member, or none, that read gives the member's default. So do we.
 */
function compareValue(compare: t.Compare, target: mvcc.CompareTarget): number | bigint | Uint8Array {
  switch (target) {
    case "version":
      return compare.target_union === "version" ? int64ToNumber(compare.version, "compare version") : 0;
    case "create":
      return compare.target_union === "create_revision" ? int64ToNumber(compare.create_revision, "compare create_revision") : 0;
    case "mod":
      return compare.target_union === "mod_revision" ? int64ToNumber(compare.mod_revision, "compare mod_revision") : 0;
    case "value":
      return compare.target_union === "value" ? compare.value : EMPTY;
    case "lease":
      return compare.target_union === "lease" ? int64ToBigint(compare.lease, "compare lease") : 0n;
  }
}

export function requestOpFromWire(op: t.RequestOp): mvcc.RequestOp {
  switch (op.request) {
    case "request_range":
      return { range: rangeFromWire(op.request_range) };
    case "request_put":
      return { put: putFromWire(op.request_put) };
    case "request_delete_range":
      return { deleteRange: deleteRangeFromWire(op.request_delete_range) };
    case "request_txn":
      return { txn: txnFromWire(op.request_txn) };
    case undefined:
      throw RouterError.invalidArgument(
        "Cannot run a txn op that sets no request: set one of request_range, request_put, request_delete_range or request_txn",
      );
  }
}

export function txnFromWire(req: t.TxnRequest): mvcc.TxnRequest {
  return {
    compare: req.compare.map(compareFromWire),
    success: req.success.map(requestOpFromWire),
    failure: req.failure.map(requestOpFromWire),
  };
}

// ---- responses ----------------------------------------------------------------------------------

/** What etcd's ResponseHeader says; revision and term are those of the shard (or shards) that answered. */
export interface HeaderFields {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly revision: number;
  readonly raftTerm: number;
}

export function headerToWire(header: HeaderFields): Writable<t.ResponseHeader> {
  return {
    cluster_id: String(header.clusterId),
    member_id: String(header.memberId),
    revision: String(header.revision),
    raft_term: String(header.raftTerm),
  };
}

/**
 * The header of an answer about the node or the cluster, not about keys: etcd's carries the store's
 * revision; the first data shard's applied index and term stand for it.
 */
export function firstShardHeader(access: ShardAccess): Writable<t.ResponseHeader> {
  const first = access.map().shards[0]!.id;
  const status = access.raftStatus(first);
  return headerToWire({ clusterId: access.clusterId, memberId: access.memberId, revision: status.appliedIndex, raftTerm: status.term });
}

/** Our per-key TTL (expiresAtMs) has no etcd field and stays behind. */
export function kvToWire(kv: mvcc.KeyValue): Writable<t.KeyValue> {
  return {
    key: kv.key,
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    value: kv.value,
    lease: String(kv.lease),
  };
}

type WireHeader = Writable<t.ResponseHeader>;

export function rangeResponseToWire(resp: mvcc.RangeResponse, header: WireHeader): Writable<t.RangeResponse> {
  return { header, kvs: resp.kvs.map(kvToWire), more: resp.more, count: String(resp.count) };
}

export function putResponseToWire(resp: mvcc.PutResponse, header: WireHeader): Writable<t.PutResponse> {
  return { header, prev_kv: resp.prevKv === undefined ? null : kvToWire(resp.prevKv) };
}

export function deleteRangeResponseToWire(resp: mvcc.DeleteRangeResponse, header: WireHeader): Writable<t.DeleteRangeResponse> {
  return { header, deleted: String(resp.deleted), prev_kvs: resp.prevKvs.map(kvToWire) };
}

/**
 * Nested responses carry a header with the revision only, as etcd's do (its apply fills in nothing
 * else): they are all answered at the transaction's one revision of one shard.
 */
export function txnResponseToWire(resp: mvcc.TxnResponse, header: WireHeader): Writable<t.TxnResponse> {
  const nested: WireHeader = { cluster_id: "0", member_id: "0", revision: header.revision ?? "0", raft_term: "0" };
  return { header, succeeded: resp.succeeded, responses: resp.responses.map((op) => responseOpToWire(op, nested)) };
}

export function responseOpToWire(op: mvcc.ResponseOp, header: WireHeader): Writable<t.ResponseOp> {
  if ("range" in op) return { response_range: rangeResponseToWire(op.range, header) };
  if ("put" in op) return { response_put: putResponseToWire(op.put, header) };
  if ("deleteRange" in op) return { response_delete_range: deleteRangeResponseToWire(op.deleteRange, header) };
  return { response_txn: txnResponseToWire(op.txn, header) };
}
