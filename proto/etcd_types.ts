// The etcd v3 messages as TypeScript sees them once proto-loader has decoded them with our options
// (proto/load.ts): proto field names kept, 64-bit integers as decimal strings, bytes as Buffer,
// enums as numbers, every field present (defaults on; a missing sub-message is null), and for each
// oneof a virtual property naming the member that is set (absent when none is).
// Written by hand from proto/etcd/api/**; proto/etcd_types.test.ts checks the field lists match.
// To send a message, build a `Writable<T>` (every field optional); see its comment.

import type {
  EnumOf,
  Int64,
  Uint64,
} from "./wire_types.js";

// --- mvccpb -----------------------------------------------------------------------------------

export interface KeyValue {
  readonly key: Buffer;
  readonly create_revision: Int64;
  readonly mod_revision: Int64;
  readonly version: Int64;
  readonly value: Buffer;
  readonly lease: Int64;
}

export const EventType = { PUT: 0, DELETE: 1 } as const;
export type EventType = EnumOf<typeof EventType>;

export interface Event {
  readonly type: EventType;
  readonly kv: KeyValue | null;
  readonly prev_kv: KeyValue | null;
}

// --- etcdserverpb: common ---------------------------------------------------------------------

export interface ResponseHeader {
  readonly cluster_id: Uint64;
  readonly member_id: Uint64;
  readonly revision: Int64;
  readonly raft_term: Uint64;
}

// --- etcdserverpb: KV -------------------------------------------------------------------------

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export type SortOrder = EnumOf<typeof SortOrder>;

export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
export type SortTarget = EnumOf<typeof SortTarget>;

export interface RangeRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly limit: Int64;
  readonly revision: Int64;
  readonly sort_order: SortOrder;
  readonly sort_target: SortTarget;
  readonly serializable: boolean;
  readonly keys_only: boolean;
  readonly count_only: boolean;
  readonly min_mod_revision: Int64;
  readonly max_mod_revision: Int64;
  readonly min_create_revision: Int64;
  readonly max_create_revision: Int64;
}

export interface RangeResponse {
  readonly header: ResponseHeader | null;
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
  readonly count: Int64;
}

export interface PutRequest {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly lease: Int64;
  readonly prev_kv: boolean;
  readonly ignore_value: boolean;
  readonly ignore_lease: boolean;
}

export interface PutResponse {
  readonly header: ResponseHeader | null;
  readonly prev_kv: KeyValue | null;
}

export interface DeleteRangeRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly prev_kv: boolean;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader | null;
  readonly deleted: Int64;
  readonly prev_kvs: readonly KeyValue[];
}

/** `request` names the member that is set; an op with none set (a client bug) has no `request`. */
export type RequestOp =
  | { readonly request: "request_range"; readonly request_range: RangeRequest }
  | { readonly request: "request_put"; readonly request_put: PutRequest }
  | { readonly request: "request_delete_range"; readonly request_delete_range: DeleteRangeRequest }
  | { readonly request: "request_txn"; readonly request_txn: TxnRequest }
  | { readonly request?: undefined };

export type ResponseOp =
  | { readonly response: "response_range"; readonly response_range: RangeResponse }
  | { readonly response: "response_put"; readonly response_put: PutResponse }
  | { readonly response: "response_delete_range"; readonly response_delete_range: DeleteRangeResponse }
  | { readonly response: "response_txn"; readonly response_txn: TxnResponse }
  | { readonly response?: undefined };

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export type CompareResult = EnumOf<typeof CompareResult>;

export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;
export type CompareTarget = EnumOf<typeof CompareTarget>;

export interface CompareFields {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: Buffer;
  readonly range_end: Buffer;
}

/**
 * `target_union` names the member that is set. It need not agree with `target`: etcd reads the
 * member that `target` names, so a client that sets another one compares against its default.
 */
export type CompareTargetUnion =
  | { readonly target_union: "version"; readonly version: Int64 }
  | { readonly target_union: "create_revision"; readonly create_revision: Int64 }
  | { readonly target_union: "mod_revision"; readonly mod_revision: Int64 }
  | { readonly target_union: "value"; readonly value: Buffer }
  | { readonly target_union: "lease"; readonly lease: Int64 }
  | { readonly target_union?: undefined };

export type Compare = CompareFields & CompareTargetUnion;

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly header: ResponseHeader | null;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionRequest {
  readonly revision: Int64;
  readonly physical: boolean;
}

export interface CompactionResponse {
  readonly header: ResponseHeader | null;
}

// --- etcdserverpb: Watch ----------------------------------------------------------------------

export const FilterType = { NOPUT: 0, NODELETE: 1 } as const;
export type FilterType = EnumOf<typeof FilterType>;

export interface WatchCreateRequest {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly start_revision: Int64;
  readonly progress_notify: boolean;
  readonly filters: readonly FilterType[];
  readonly prev_kv: boolean;
  readonly watch_id: Int64;
  readonly fragment: boolean;
}

export interface WatchCancelRequest {
  readonly watch_id: Int64;
}

export type WatchProgressRequest = Readonly<Record<never, never>>;

export type WatchRequest =
  | { readonly request_union: "create_request"; readonly create_request: WatchCreateRequest }
  | { readonly request_union: "cancel_request"; readonly cancel_request: WatchCancelRequest }
  | { readonly request_union: "progress_request"; readonly progress_request: WatchProgressRequest }
  | { readonly request_union?: undefined };

export interface WatchResponse {
  readonly header: ResponseHeader | null;
  readonly watch_id: Int64;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compact_revision: Int64;
  readonly cancel_reason: string;
  readonly fragment: boolean;
  readonly events: readonly Event[];
}

// --- etcdserverpb: Lease ----------------------------------------------------------------------

export interface LeaseGrantRequest {
  /** Seconds. */
  readonly TTL: Int64;
  /** "0": the server chooses. */
  readonly ID: Int64;
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader | null;
  readonly ID: Int64;
  readonly TTL: Int64;
  readonly error: string;
}

export interface LeaseRevokeRequest {
  readonly ID: Int64;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader | null;
}

export interface LeaseKeepAliveRequest {
  readonly ID: Int64;
}

export interface LeaseKeepAliveResponse {
  readonly header: ResponseHeader | null;
  readonly ID: Int64;
  readonly TTL: Int64;
}

export interface LeaseTimeToLiveRequest {
  readonly ID: Int64;
  readonly keys: boolean;
}

export interface LeaseTimeToLiveResponse {
  readonly header: ResponseHeader | null;
  readonly ID: Int64;
  /** Seconds left; "-1" when the lease does not exist. */
  readonly TTL: Int64;
  readonly grantedTTL: Int64;
  readonly keys: readonly Buffer[];
}

export type LeaseLeasesRequest = Readonly<Record<never, never>>;

export interface LeaseStatus {
  readonly ID: Int64;
}

export interface LeaseLeasesResponse {
  readonly header: ResponseHeader | null;
  readonly leases: readonly LeaseStatus[];
}

// --- etcdserverpb: Cluster --------------------------------------------------------------------

export interface Member {
  readonly ID: Uint64;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberAddRequest {
  readonly peerURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberAddResponse {
  readonly header: ResponseHeader | null;
  readonly member: Member | null;
  readonly members: readonly Member[];
}

export interface MemberRemoveRequest {
  readonly ID: Uint64;
}

export interface MemberRemoveResponse {
  readonly header: ResponseHeader | null;
  readonly members: readonly Member[];
}

export interface MemberUpdateRequest {
  readonly ID: Uint64;
  readonly peerURLs: readonly string[];
}

export interface MemberUpdateResponse {
  readonly header: ResponseHeader | null;
  readonly members: readonly Member[];
}

export interface MemberListRequest {
  readonly linearizable: boolean;
}

export interface MemberListResponse {
  readonly header: ResponseHeader | null;
  readonly members: readonly Member[];
}

export interface MemberPromoteRequest {
  readonly ID: Uint64;
}

export interface MemberPromoteResponse {
  readonly header: ResponseHeader | null;
  readonly members: readonly Member[];
}

// --- etcdserverpb: Maintenance ----------------------------------------------------------------

export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const;
export type AlarmType = EnumOf<typeof AlarmType>;

export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const;
export type AlarmAction = EnumOf<typeof AlarmAction>;

export interface AlarmRequest {
  readonly action: AlarmAction;
  readonly memberID: Uint64;
  readonly alarm: AlarmType;
}

export interface AlarmMember {
  readonly memberID: Uint64;
  readonly alarm: AlarmType;
}

export interface AlarmResponse {
  readonly header: ResponseHeader | null;
  readonly alarms: readonly AlarmMember[];
}

export type StatusRequest = Readonly<Record<never, never>>;

export interface DowngradeInfo {
  readonly enabled: boolean;
  readonly targetVersion: string;
}

export interface StatusResponse {
  readonly header: ResponseHeader | null;
  readonly version: string;
  readonly dbSize: Int64;
  readonly leader: Uint64;
  readonly raftIndex: Uint64;
  readonly raftTerm: Uint64;
  readonly raftAppliedIndex: Uint64;
  readonly errors: readonly string[];
  readonly dbSizeInUse: Int64;
  readonly isLearner: boolean;
  readonly storageVersion: string;
  readonly dbSizeQuota: Int64;
  readonly downgradeInfo: DowngradeInfo | null;
}

export type DefragmentRequest = Readonly<Record<never, never>>;

export interface DefragmentResponse {
  readonly header: ResponseHeader | null;
}

export type HashRequest = Readonly<Record<never, never>>;

export interface HashResponse {
  readonly header: ResponseHeader | null;
  readonly hash: number;
}

export interface HashKVRequest {
  readonly revision: Int64;
}

export interface HashKVResponse {
  readonly header: ResponseHeader | null;
  readonly hash: number;
  readonly compact_revision: Int64;
  readonly hash_revision: Int64;
}

export type SnapshotRequest = Readonly<Record<never, never>>;

export interface SnapshotResponse {
  readonly header: ResponseHeader | null;
  readonly remaining_bytes: Uint64;
  readonly blob: Buffer;
  readonly version: string;
}

export interface MoveLeaderRequest {
  readonly targetID: Uint64;
}

export interface MoveLeaderResponse {
  readonly header: ResponseHeader | null;
}

export const DowngradeAction = { VALIDATE: 0, ENABLE: 1, CANCEL: 2 } as const;
export type DowngradeAction = EnumOf<typeof DowngradeAction>;

export interface DowngradeRequest {
  readonly action: DowngradeAction;
  readonly version: string;
}

export interface DowngradeResponse {
  readonly header: ResponseHeader | null;
  readonly version: string;
}

// --- etcdserverpb: Auth (router/auth_service.ts: answered as an etcd with authentication off) ---

/** The requests that carry nothing (AuthEnable, AuthDisable, AuthStatus, UserList, RoleList). */
export type AuthEmptyRequest = Readonly<Record<string, never>>;

/** The responses that carry only a header (the changes, all refused). */
export interface AuthHeaderResponse {
  readonly header: ResponseHeader | null;
}

export interface AuthStatusResponse {
  readonly header: ResponseHeader | null;
  readonly enabled: boolean;
  readonly authRevision: Uint64;
}

export interface AuthenticateRequest {
  readonly name: string;
  readonly password: string;
}

export interface AuthenticateResponse {
  readonly header: ResponseHeader | null;
  readonly token: string;
}

export interface AuthUserAddRequest {
  readonly name: string;
  readonly password: string;
  readonly options: { readonly no_password: boolean } | null;
  readonly hashedPassword: string;
}

/** UserGet and UserDelete. */
export interface AuthUserNameRequest {
  readonly name: string;
}

export interface AuthUserChangePasswordRequest {
  readonly name: string;
  readonly password: string;
  readonly hashedPassword: string;
}

export interface AuthUserGrantRoleRequest {
  readonly user: string;
  readonly role: string;
}

export interface AuthUserRevokeRoleRequest {
  readonly name: string;
  readonly role: string;
}

export interface AuthRoleAddRequest {
  readonly name: string;
}

/** RoleGet and RoleDelete. */
export interface AuthRoleNameRequest {
  readonly role: string;
}

export const PermissionType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;
export type PermissionType = EnumOf<typeof PermissionType>;

export interface Permission {
  readonly permType: PermissionType;
  readonly key: Buffer;
  readonly range_end: Buffer;
}

export interface AuthRoleGrantPermissionRequest {
  readonly name: string;
  readonly perm: Permission | null;
}

export interface AuthRoleRevokePermissionRequest {
  readonly role: string;
  readonly key: Buffer;
  readonly range_end: Buffer;
}

export interface AuthUserGetResponse {
  readonly header: ResponseHeader | null;
  readonly roles: readonly string[];
}

export interface AuthRoleGetResponse {
  readonly header: ResponseHeader | null;
  readonly perm: readonly Permission[];
}

export interface AuthUserListResponse {
  readonly header: ResponseHeader | null;
  readonly users: readonly string[];
}

export interface AuthRoleListResponse {
  readonly header: ResponseHeader | null;
  readonly roles: readonly string[];
}

// --- v3lockpb ---------------------------------------------------------------------------------

export interface LockRequest {
  readonly name: Buffer;
  readonly lease: Int64;
}

export interface LockResponse {
  readonly header: ResponseHeader | null;
  readonly key: Buffer;
}

export interface UnlockRequest {
  readonly key: Buffer;
}

export interface UnlockResponse {
  readonly header: ResponseHeader | null;
}

// --- v3electionpb -----------------------------------------------------------------------------

export interface LeaderKey {
  readonly name: Buffer;
  readonly key: Buffer;
  /** The create revision of `key` (a revision of the election's shard). */
  readonly rev: Int64;
  readonly lease: Int64;
}

export interface CampaignRequest {
  readonly name: Buffer;
  readonly lease: Int64;
  readonly value: Buffer;
}

export interface CampaignResponse {
  readonly header: ResponseHeader | null;
  readonly leader: LeaderKey | null;
}

export interface ProclaimRequest {
  readonly leader: LeaderKey | null;
  readonly value: Buffer;
}

export interface ProclaimResponse {
  readonly header: ResponseHeader | null;
}

export interface LeaderRequest {
  readonly name: Buffer;
}

export interface LeaderResponse {
  readonly header: ResponseHeader | null;
  readonly kv: KeyValue | null;
}

export interface ResignRequest {
  readonly leader: LeaderKey | null;
}

export interface ResignResponse {
  readonly header: ResponseHeader | null;
}
