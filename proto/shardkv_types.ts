// shardkv's own client API (proto/shardkv/v1/kv.proto and admin.proto) as proto-loader decodes it
// with the etcd files' options (proto/load.ts): proto field names, 64-bit integers as decimal
// strings, bytes as Buffer, enums as numbers, every plain field present (a missing sub-message is
// null). A oneof's members are absent unless set, and `expected` names the one that is.
// Written by hand from the .proto files; proto/shardkv_types.test.ts checks the field lists match.

import type { EnumOf, Int64, Uint64 } from "./wire_types.js";

export const Consistency = { LINEARIZABLE: 0, SERIALIZABLE: 1, BOUNDED_STALENESS: 2 } as const;
export type Consistency = EnumOf<typeof Consistency>;

export interface ResponseHeader {
  readonly cluster_id: Uint64;
  readonly member_id: Uint64;
  readonly shard_id: number;
  readonly revision: Int64;
  readonly raft_term: Uint64;
}

export interface KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly create_revision: Int64;
  readonly mod_revision: Int64;
  readonly version: Int64;
  readonly expires_at_ms: Int64;
  readonly shard_id: number;
}

export interface GetRequest {
  readonly key: Buffer;
  readonly consistency: Consistency;
  readonly max_staleness_ms: Int64;
}

export interface GetResponse {
  readonly header: ResponseHeader | null;
  readonly found: boolean;
  readonly kv: KeyValue | null;
  readonly served_consistency: Consistency;
}

/** PutRequest's and DeleteRequest's compare-and-set condition (the `expected` oneof). */
export type Expected =
  | { readonly expected: "expected_version"; readonly expected_version: Int64 }
  | { readonly expected: "expected_value"; readonly expected_value: Buffer }
  | { readonly expected?: undefined };

export type PutRequest = {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly ttl_ms: Int64;
} & Expected;

export interface PutResponse {
  readonly header: ResponseHeader | null;
  readonly succeeded: boolean;
  readonly kv: KeyValue | null;
}

export type DeleteRequest = { readonly key: Buffer } & Expected;

export interface DeleteResponse {
  readonly header: ResponseHeader | null;
  readonly succeeded: boolean;
  readonly deleted: boolean;
  readonly kv: KeyValue | null;
}

export interface MultiGetRequest {
  readonly keys: readonly Buffer[];
  readonly consistency: Consistency;
  readonly max_staleness_ms: Int64;
}

export interface GetResult {
  readonly found: boolean;
  readonly kv: KeyValue | null;
  readonly shard_id: number;
}

export interface MultiGetResponse {
  readonly headers: readonly ResponseHeader[];
  readonly results: readonly GetResult[];
  readonly served_consistency: Consistency;
}

export interface PutEntry {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly ttl_ms: Int64;
}

export interface MultiPutRequest {
  readonly entries: readonly PutEntry[];
  readonly allow_partial: boolean;
}

export interface MultiPutPart {
  readonly header: ResponseHeader | null;
  readonly entry_indexes: readonly number[];
  readonly code: number;
  readonly message: string;
}

export interface MultiPutResponse {
  readonly parts: readonly MultiPutPart[];
}

export interface IncrementRequest {
  readonly key: Buffer;
  readonly delta: Int64;
  readonly ttl_ms: Int64;
}

export interface IncrementResponse {
  readonly header: ResponseHeader | null;
  readonly value: Int64;
  readonly kv: KeyValue | null;
}

// --- Admin ------------------------------------------------------------------------------------

export interface ShardMapRequest {
  readonly shard_ids: readonly number[];
}

export interface ShardStatus {
  readonly id: number;
  readonly hash_start: number;
  readonly hash_end: Uint64;
  readonly replicas: readonly Uint64[];
  readonly epoch: Int64;
  readonly held_here: boolean;
  readonly leader: Uint64;
  readonly term: Uint64;
  readonly committed_index: Int64;
  readonly applied_index: Int64;
  readonly size_bytes: Int64;
}

export interface ShardMapResponse {
  readonly cluster_id: Uint64;
  readonly member_id: Uint64;
  readonly map_epoch: Int64;
  readonly shards: readonly ShardStatus[];
}
