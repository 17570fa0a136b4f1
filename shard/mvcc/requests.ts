// etcd v3's KV and watch messages as plain TypeScript (etcdserverpb / mvccpb, camelCase): bytes are
// Uint8Array, revisions are numbers (Raft indexes stay below 2^53), lease ids are int64 bigints.
// The router maps these to and from protobuf; nothing here knows the wire.

export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  /** 1 on create, +1 per put; a delete resets it (the next put creates the key again). */
  readonly version: number;
  /** 0n when the key has no lease. */
  readonly lease: bigint;
  /** Our own per-key TTL: the absolute wall-clock time (ms) at which the key stops existing. */
  readonly expiresAtMs?: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease?: bigint;
  readonly prevKv?: boolean;
  readonly ignoreValue?: boolean;
  readonly ignoreLease?: boolean;
  /** Redis EXPIRE semantics: expiresAtMs = header.nowMs + ttlMs; a put without it clears any TTL. */
  readonly ttlMs?: number;
}

export interface PutResponse {
  readonly prevKv?: KeyValue;
}

export type SortOrder = "none" | "ascend" | "descend";
export type SortTarget = "key" | "version" | "create" | "mod" | "value";

export interface RangeRequest {
  readonly key: Uint8Array;
  /** Absent or empty: the single key. "\0": every key >= key. Otherwise [key, rangeEnd). */
  readonly rangeEnd?: Uint8Array;
  /** 0 or absent: no limit. */
  readonly limit?: number;
  /** 0 or absent: the current revision. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface RangeResponse {
  readonly kvs: KeyValue[];
  /** The limit cut the answer short. */
  readonly more: boolean;
  /** Keys in the range before limit and before the min/max revision filters (as etcd counts). */
  readonly count: number;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prevKv?: boolean;
}

export interface DeleteRangeResponse {
  readonly deleted: number;
  /** Filled only when the request asked for prevKv. */
  readonly prevKvs: KeyValue[];
}

export type CompareTarget = "version" | "create" | "mod" | "value" | "lease";
export type CompareResult = "equal" | "notEqual" | "less" | "greater";

export interface Compare {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  /** A number for version/create/mod, a bigint for lease, bytes for value. */
  readonly value: number | bigint | Uint8Array;
}

export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest };

export type ResponseOp =
  | { readonly range: RangeResponse }
  | { readonly put: PutResponse }
  | { readonly deleteRange: DeleteRangeResponse }
  | { readonly txn: TxnResponse };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly succeeded: boolean;
  readonly responses: ResponseOp[];
}

export type CompactResponse = Record<string, never>;

export interface LeaseGrantResponse {
  readonly id: bigint;
  /** The TTL granted: the asked one raised to leaseTtlMinSeconds. */
  readonly ttlSeconds: number;
}

export interface LeaseRevokeResponse {
  /** Keys of this shard deleted with the lease. */
  readonly deleted: number;
}

export interface ExpireKeysResponse {
  /** Keys whose TTL had passed and that are now deleted (a key re-put meanwhile is not). */
  readonly deleted: number;
}

export interface PurgeTombstonesResponse {
  readonly purged: number;
}

export interface WatchEvent {
  readonly type: "put" | "delete";
  /** For a delete: the key and the deletion revision as modRevision, every other field zero. */
  readonly kv: KeyValue;
  /** The key as it was just before, when it existed. */
  readonly prevKv?: KeyValue;
}
