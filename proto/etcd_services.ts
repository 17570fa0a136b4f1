// The etcd v3 services as data: each RPC's kind and message types (proto/service_types.ts).
// Mirrors the `service` blocks of proto/etcd/api/**; the loader checks every loaded service against
// these specs, and proto/etcd_fields.test.ts checks them against ETCD-API.md.

import { bidiStream, serverStream, serviceSpec, unary } from "./service_types.js";
import type * as t from "./etcd_types.js";

export const kvSpec = serviceSpec("etcdserverpb.KV", {
  Range: unary<t.RangeRequest, t.RangeResponse>(),
  Put: unary<t.PutRequest, t.PutResponse>(),
  DeleteRange: unary<t.DeleteRangeRequest, t.DeleteRangeResponse>(),
  Txn: unary<t.TxnRequest, t.TxnResponse>(),
  Compact: unary<t.CompactionRequest, t.CompactionResponse>(),
});

export const watchSpec = serviceSpec("etcdserverpb.Watch", {
  Watch: bidiStream<t.WatchRequest, t.WatchResponse>(),
});

export const leaseSpec = serviceSpec("etcdserverpb.Lease", {
  LeaseGrant: unary<t.LeaseGrantRequest, t.LeaseGrantResponse>(),
  LeaseRevoke: unary<t.LeaseRevokeRequest, t.LeaseRevokeResponse>(),
  LeaseKeepAlive: bidiStream<t.LeaseKeepAliveRequest, t.LeaseKeepAliveResponse>(),
  LeaseTimeToLive: unary<t.LeaseTimeToLiveRequest, t.LeaseTimeToLiveResponse>(),
  LeaseLeases: unary<t.LeaseLeasesRequest, t.LeaseLeasesResponse>(),
});

export const clusterSpec = serviceSpec("etcdserverpb.Cluster", {
  MemberAdd: unary<t.MemberAddRequest, t.MemberAddResponse>(),
  MemberRemove: unary<t.MemberRemoveRequest, t.MemberRemoveResponse>(),
  MemberUpdate: unary<t.MemberUpdateRequest, t.MemberUpdateResponse>(),
  MemberList: unary<t.MemberListRequest, t.MemberListResponse>(),
  MemberPromote: unary<t.MemberPromoteRequest, t.MemberPromoteResponse>(),
});

export const maintenanceSpec = serviceSpec("etcdserverpb.Maintenance", {
  Alarm: unary<t.AlarmRequest, t.AlarmResponse>(),
  Status: unary<t.StatusRequest, t.StatusResponse>(),
  Defragment: unary<t.DefragmentRequest, t.DefragmentResponse>(),
  Hash: unary<t.HashRequest, t.HashResponse>(),
  HashKV: unary<t.HashKVRequest, t.HashKVResponse>(),
  Snapshot: serverStream<t.SnapshotRequest, t.SnapshotResponse>(),
  MoveLeader: unary<t.MoveLeaderRequest, t.MoveLeaderResponse>(),
  Downgrade: unary<t.DowngradeRequest, t.DowngradeResponse>(),
});

export const authSpec = serviceSpec("etcdserverpb.Auth", {
  AuthEnable: unary<t.AuthEmptyRequest, t.AuthHeaderResponse>(),
  AuthDisable: unary<t.AuthEmptyRequest, t.AuthHeaderResponse>(),
  AuthStatus: unary<t.AuthEmptyRequest, t.AuthStatusResponse>(),
  Authenticate: unary<t.AuthenticateRequest, t.AuthenticateResponse>(),
  UserAdd: unary<t.AuthUserAddRequest, t.AuthHeaderResponse>(),
  UserGet: unary<t.AuthUserNameRequest, t.AuthUserGetResponse>(),
  UserList: unary<t.AuthEmptyRequest, t.AuthUserListResponse>(),
  UserDelete: unary<t.AuthUserNameRequest, t.AuthHeaderResponse>(),
  UserChangePassword: unary<t.AuthUserChangePasswordRequest, t.AuthHeaderResponse>(),
  UserGrantRole: unary<t.AuthUserGrantRoleRequest, t.AuthHeaderResponse>(),
  UserRevokeRole: unary<t.AuthUserRevokeRoleRequest, t.AuthHeaderResponse>(),
  RoleAdd: unary<t.AuthRoleAddRequest, t.AuthHeaderResponse>(),
  RoleGet: unary<t.AuthRoleNameRequest, t.AuthRoleGetResponse>(),
  RoleList: unary<t.AuthEmptyRequest, t.AuthRoleListResponse>(),
  RoleDelete: unary<t.AuthRoleNameRequest, t.AuthHeaderResponse>(),
  RoleGrantPermission: unary<t.AuthRoleGrantPermissionRequest, t.AuthHeaderResponse>(),
  RoleRevokePermission: unary<t.AuthRoleRevokePermissionRequest, t.AuthHeaderResponse>(),
});

export const lockSpec = serviceSpec("v3lockpb.Lock", {
  Lock: unary<t.LockRequest, t.LockResponse>(),
  Unlock: unary<t.UnlockRequest, t.UnlockResponse>(),
});

export const electionSpec = serviceSpec("v3electionpb.Election", {
  Campaign: unary<t.CampaignRequest, t.CampaignResponse>(),
  Proclaim: unary<t.ProclaimRequest, t.ProclaimResponse>(),
  Leader: unary<t.LeaderRequest, t.LeaderResponse>(),
  Observe: serverStream<t.LeaderRequest, t.LeaderResponse>(),
  Resign: unary<t.ResignRequest, t.ResignResponse>(),
});

/** Every etcd service, by the short name clients know. */
export const etcdServiceSpecs = {
  KV: kvSpec,
  Watch: watchSpec,
  Lease: leaseSpec,
  Cluster: clusterSpec,
  Maintenance: maintenanceSpec,
  Auth: authSpec,
  Lock: lockSpec,
  Election: electionSpec,
} as const;

export type EtcdServiceSpecs = typeof etcdServiceSpecs;
