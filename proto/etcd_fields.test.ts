// Our etcd .proto files against ETCD-API.md: tables "1. Services" and "2. Field numbers",
// transcribed below as data, checked by walking the descriptors proto-loader hands out.
// A wrong field number, name, enum value, RPC name or streaming kind fails here.

import { describe, expect, it } from "vitest";
import { etcdServiceSpecs } from "./etcd_services.js";
import { loadEtcdApi } from "./load.js";
import type { MethodKind } from "./service_types.js";

const api = loadEtcdApi();
const pkg = api.packageDefinition;

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}
interface EnumDescriptor {
  readonly name: string;
  readonly value: readonly { readonly name: string; readonly number: number }[];
}
interface MessageDescriptor {
  readonly field: readonly FieldDescriptor[];
  readonly enumType: readonly EnumDescriptor[];
}

function descriptorOf(fullName: string): unknown {
  const definition = pkg[fullName];
  if (definition === undefined || !("format" in definition)) throw new Error(`No message or enum ${fullName}`);
  return definition.type;
}

function messageDescriptor(fullName: string): MessageDescriptor {
  return descriptorOf(fullName) as MessageDescriptor;
}

function exists(fullName: string): boolean {
  if (pkg[fullName] !== undefined) return true;
  const parts = fullName.split(".");
  const name = parts.pop() ?? "";
  const parent = pkg[parts.join(".")];
  return parent !== undefined && "format" in parent && messageDescriptor(parts.join(".")).enumType.some((e) => e.name === name);
}

/**
 * The full name a field's type refers to. Descriptors keep the name as written in the .proto file,
 * so resolve it as protoc does: innermost scope first (the message, then its package), then root.
 */
function resolvedTypeName(message: string, field: string): string | undefined {
  const typeName = messageDescriptor(message).field.find((f) => f.name === field)?.typeName;
  if (typeName === undefined || typeName === "") return undefined;
  const scopes = message.split(".");
  for (let depth = scopes.length; depth >= 0; depth--) {
    const candidate = [...scopes.slice(0, depth), typeName].join(".");
    if (exists(candidate)) return candidate;
  }
  return undefined;
}

function fieldNumbers(fullName: string): Record<string, number> {
  return Object.fromEntries(messageDescriptor(fullName).field.map((f) => [f.name, f.number]));
}

function enumValues(fullName: string): Record<string, number> {
  const parts = fullName.split(".");
  const enumName = parts.pop() ?? "";
  const parent = parts.join(".");
  // A nested enum lives in its message's descriptor; a top-level one is a definition of its own.
  const descriptor: EnumDescriptor | undefined =
    pkg[fullName] !== undefined
      ? (descriptorOf(fullName) as EnumDescriptor)
      : messageDescriptor(parent).enumType.find((e) => e.name === enumName);
  if (descriptor === undefined) throw new Error(`No enum ${fullName}`);
  return Object.fromEntries(descriptor.value.map((v) => [v.name, v.number]));
}

// ETCD-API.md, "2. Field numbers": every row, every field (all rows list complete messages).
const FIELD_NUMBERS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "etcdserverpb.ResponseHeader": { cluster_id: 1, member_id: 2, revision: 3, raft_term: 4 },
  "mvccpb.KeyValue": { key: 1, create_revision: 2, mod_revision: 3, version: 4, value: 5, lease: 6 },
  "mvccpb.Event": { type: 1, kv: 2, prev_kv: 3 },
  "etcdserverpb.RangeRequest": {
    key: 1, range_end: 2, limit: 3, revision: 4, sort_order: 5, sort_target: 6, serializable: 7,
    keys_only: 8, count_only: 9, min_mod_revision: 10, max_mod_revision: 11,
    min_create_revision: 12, max_create_revision: 13,
  },
  "etcdserverpb.RangeResponse": { header: 1, kvs: 2, more: 3, count: 4 },
  "etcdserverpb.PutRequest": { key: 1, value: 2, lease: 3, prev_kv: 4, ignore_value: 5, ignore_lease: 6 },
  "etcdserverpb.PutResponse": { header: 1, prev_kv: 2 },
  "etcdserverpb.DeleteRangeRequest": { key: 1, range_end: 2, prev_kv: 3 },
  "etcdserverpb.DeleteRangeResponse": { header: 1, deleted: 2, prev_kvs: 3 },
  "etcdserverpb.RequestOp": { request_range: 1, request_put: 2, request_delete_range: 3, request_txn: 4 },
  "etcdserverpb.ResponseOp": { response_range: 1, response_put: 2, response_delete_range: 3, response_txn: 4 },
  "etcdserverpb.Compare": {
    result: 1, target: 2, key: 3, version: 4, create_revision: 5, mod_revision: 6, value: 7, lease: 8,
    range_end: 64,
  },
  "etcdserverpb.TxnRequest": { compare: 1, success: 2, failure: 3 },
  "etcdserverpb.TxnResponse": { header: 1, succeeded: 2, responses: 3 },
  "etcdserverpb.CompactionRequest": { revision: 1, physical: 2 },
  "etcdserverpb.CompactionResponse": { header: 1 },
  "etcdserverpb.WatchRequest": { create_request: 1, cancel_request: 2, progress_request: 3 },
  "etcdserverpb.WatchCreateRequest": {
    key: 1, range_end: 2, start_revision: 3, progress_notify: 4, filters: 5, prev_kv: 6, watch_id: 7,
    fragment: 8,
  },
  "etcdserverpb.WatchCancelRequest": { watch_id: 1 },
  "etcdserverpb.WatchProgressRequest": {},
  "etcdserverpb.WatchResponse": {
    header: 1, watch_id: 2, created: 3, canceled: 4, compact_revision: 5, cancel_reason: 6, fragment: 7,
    events: 11,
  },
  "etcdserverpb.LeaseGrantRequest": { TTL: 1, ID: 2 },
  "etcdserverpb.LeaseGrantResponse": { header: 1, ID: 2, TTL: 3, error: 4 },
  "etcdserverpb.LeaseRevokeRequest": { ID: 1 },
  "etcdserverpb.LeaseRevokeResponse": { header: 1 },
  "etcdserverpb.LeaseKeepAliveRequest": { ID: 1 },
  "etcdserverpb.LeaseKeepAliveResponse": { header: 1, ID: 2, TTL: 3 },
  "etcdserverpb.LeaseTimeToLiveRequest": { ID: 1, keys: 2 },
  "etcdserverpb.LeaseTimeToLiveResponse": { header: 1, ID: 2, TTL: 3, grantedTTL: 4, keys: 5 },
  "etcdserverpb.LeaseLeasesRequest": {},
  "etcdserverpb.LeaseStatus": { ID: 1 },
  "etcdserverpb.LeaseLeasesResponse": { header: 1, leases: 2 },
  "etcdserverpb.Member": { ID: 1, name: 2, peerURLs: 3, clientURLs: 4, isLearner: 5 },
  "etcdserverpb.MemberAddRequest": { peerURLs: 1, isLearner: 2 },
  "etcdserverpb.MemberAddResponse": { header: 1, member: 2, members: 3 },
  "etcdserverpb.MemberRemoveRequest": { ID: 1 },
  "etcdserverpb.MemberRemoveResponse": { header: 1, members: 2 },
  "etcdserverpb.MemberPromoteRequest": { ID: 1 },
  "etcdserverpb.MemberPromoteResponse": { header: 1, members: 2 },
  "etcdserverpb.MemberUpdateRequest": { ID: 1, peerURLs: 2 },
  "etcdserverpb.MemberUpdateResponse": { header: 1, members: 2 },
  "etcdserverpb.MemberListRequest": { linearizable: 1 },
  "etcdserverpb.MemberListResponse": { header: 1, members: 2 },
  "etcdserverpb.StatusResponse": {
    header: 1, version: 2, dbSize: 3, leader: 4, raftIndex: 5, raftTerm: 6, raftAppliedIndex: 7,
    errors: 8, dbSizeInUse: 9, isLearner: 10, storageVersion: 11, dbSizeQuota: 12, downgradeInfo: 13,
  },
  "etcdserverpb.AlarmRequest": { action: 1, memberID: 2, alarm: 3 },
  "etcdserverpb.AlarmMember": { memberID: 1, alarm: 2 },
  "etcdserverpb.AlarmResponse": { header: 1, alarms: 2 },
  "etcdserverpb.HashResponse": { header: 1, hash: 2 },
  "etcdserverpb.HashKVRequest": { revision: 1 },
  "etcdserverpb.HashKVResponse": { header: 1, hash: 2, compact_revision: 3, hash_revision: 4 },
  "etcdserverpb.SnapshotResponse": { header: 1, remaining_bytes: 2, blob: 3, version: 4 },
  "etcdserverpb.MoveLeaderRequest": { targetID: 1 },
  "etcdserverpb.DowngradeRequest": { action: 1, version: 2 },
  "etcdserverpb.AuthenticateRequest": { name: 1, password: 2 },
  "etcdserverpb.AuthenticateResponse": { header: 1, token: 2 },
  "authpb.Permission": { permType: 1, key: 2, range_end: 3 },
  "v3lockpb.LockRequest": { name: 1, lease: 2 },
  "v3lockpb.LockResponse": { header: 1, key: 2 },
  "v3lockpb.UnlockRequest": { key: 1 },
  "v3lockpb.UnlockResponse": { header: 1 },
  "v3electionpb.CampaignRequest": { name: 1, lease: 2, value: 3 },
  "v3electionpb.CampaignResponse": { header: 1, leader: 2 },
  "v3electionpb.LeaderKey": { name: 1, key: 2, rev: 3, lease: 4 },
  "v3electionpb.LeaderRequest": { name: 1 },
  "v3electionpb.LeaderResponse": { header: 1, kv: 2 },
  "v3electionpb.ResignRequest": { leader: 1 },
  "v3electionpb.ProclaimRequest": { leader: 1, value: 2 },
  "v3electionpb.ResignResponse": { header: 1 },
  "v3electionpb.ProclaimResponse": { header: 1 },
};

// The enums of the same table.
const ENUM_VALUES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "mvccpb.Event.EventType": { PUT: 0, DELETE: 1 },
  "etcdserverpb.RangeRequest.SortOrder": { NONE: 0, ASCEND: 1, DESCEND: 2 },
  "etcdserverpb.RangeRequest.SortTarget": { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 },
  "etcdserverpb.Compare.CompareResult": { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 },
  "etcdserverpb.Compare.CompareTarget": { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 },
  "etcdserverpb.WatchCreateRequest.FilterType": { NOPUT: 0, NODELETE: 1 },
  "etcdserverpb.AlarmRequest.AlarmAction": { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 },
  "etcdserverpb.AlarmType": { NONE: 0, NOSPACE: 1, CORRUPT: 2 },
  "etcdserverpb.DowngradeRequest.DowngradeAction": { VALIDATE: 0, ENABLE: 1, CANCEL: 2 },
  "authpb.Permission.Type": { READ: 0, WRITE: 1, READWRITE: 2 },
};

// Which field carries which enum or message, where the table says so.
const FIELD_TYPES: readonly (readonly [message: string, field: string, typeName: string])[] = [
  ["mvccpb.Event", "type", "mvccpb.Event.EventType"],
  ["mvccpb.Event", "kv", "mvccpb.KeyValue"],
  ["etcdserverpb.RangeRequest", "sort_order", "etcdserverpb.RangeRequest.SortOrder"],
  ["etcdserverpb.RangeRequest", "sort_target", "etcdserverpb.RangeRequest.SortTarget"],
  ["etcdserverpb.RangeResponse", "kvs", "mvccpb.KeyValue"],
  ["etcdserverpb.Compare", "result", "etcdserverpb.Compare.CompareResult"],
  ["etcdserverpb.Compare", "target", "etcdserverpb.Compare.CompareTarget"],
  ["etcdserverpb.WatchCreateRequest", "filters", "etcdserverpb.WatchCreateRequest.FilterType"],
  ["etcdserverpb.WatchResponse", "events", "mvccpb.Event"],
  ["etcdserverpb.AlarmRequest", "action", "etcdserverpb.AlarmRequest.AlarmAction"],
  ["etcdserverpb.AlarmRequest", "alarm", "etcdserverpb.AlarmType"],
  ["etcdserverpb.DowngradeRequest", "action", "etcdserverpb.DowngradeRequest.DowngradeAction"],
  ["authpb.Permission", "permType", "authpb.Permission.Type"],
];

// The scalar types the table states (ResponseHeader), and the 64-bit fields whose type decides
// their bytes on the wire (int64 and uint64 encode alike when positive, but not sint64 or fixed64).
const SCALAR_TYPES: readonly (readonly [message: string, field: string, type: string])[] = [
  ["etcdserverpb.ResponseHeader", "cluster_id", "TYPE_UINT64"],
  ["etcdserverpb.ResponseHeader", "member_id", "TYPE_UINT64"],
  ["etcdserverpb.ResponseHeader", "revision", "TYPE_INT64"],
  ["etcdserverpb.ResponseHeader", "raft_term", "TYPE_UINT64"],
  ["mvccpb.KeyValue", "key", "TYPE_BYTES"],
  ["mvccpb.KeyValue", "create_revision", "TYPE_INT64"],
  ["mvccpb.KeyValue", "lease", "TYPE_INT64"],
  ["etcdserverpb.PutRequest", "lease", "TYPE_INT64"],
  ["etcdserverpb.LeaseGrantRequest", "ID", "TYPE_INT64"],
  ["etcdserverpb.Member", "ID", "TYPE_UINT64"],
  ["etcdserverpb.HashKVResponse", "hash", "TYPE_UINT32"],
];

// ETCD-API.md, "1. Services". RangeStream (etcd 3.7 only) is left out on purpose: see README.md.
const SERVICES: Readonly<Record<string, Readonly<Record<string, MethodKind>>>> = {
  "etcdserverpb.KV": { Range: "unary", Put: "unary", DeleteRange: "unary", Txn: "unary", Compact: "unary" },
  "etcdserverpb.Watch": { Watch: "bidiStream" },
  "etcdserverpb.Lease": {
    LeaseGrant: "unary", LeaseRevoke: "unary", LeaseKeepAlive: "bidiStream", LeaseTimeToLive: "unary",
    LeaseLeases: "unary",
  },
  "etcdserverpb.Cluster": {
    MemberAdd: "unary", MemberRemove: "unary", MemberUpdate: "unary", MemberList: "unary", MemberPromote: "unary",
  },
  "etcdserverpb.Maintenance": {
    Alarm: "unary", Status: "unary", Defragment: "unary", Hash: "unary", HashKV: "unary",
    Snapshot: "serverStream", MoveLeader: "unary", Downgrade: "unary",
  },
  "etcdserverpb.Auth": {
    AuthEnable: "unary", AuthDisable: "unary", AuthStatus: "unary", Authenticate: "unary",
    UserAdd: "unary", UserGet: "unary", UserList: "unary", UserDelete: "unary", UserChangePassword: "unary",
    UserGrantRole: "unary", UserRevokeRole: "unary",
    RoleAdd: "unary", RoleGet: "unary", RoleList: "unary", RoleDelete: "unary", RoleGrantPermission: "unary",
    RoleRevokePermission: "unary",
  },
  "v3lockpb.Lock": { Lock: "unary", Unlock: "unary" },
  "v3electionpb.Election": {
    Campaign: "unary", Proclaim: "unary", Leader: "unary", Observe: "serverStream", Resign: "unary",
  },
};

const STREAM_FLAGS: Readonly<Record<MethodKind, readonly [boolean, boolean]>> = {
  unary: [false, false],
  serverStream: [false, true],
  clientStream: [true, false],
  bidiStream: [true, true],
};

describe("the etcd .proto files match ETCD-API.md", () => {
  it.each(Object.entries(FIELD_NUMBERS))("%s has the fact sheet's fields and numbers", (message, expected) => {
    expect(fieldNumbers(message)).toEqual(expected);
  });

  it.each(Object.entries(ENUM_VALUES))("%s has the fact sheet's values", (enumName, expected) => {
    expect(enumValues(enumName)).toEqual(expected);
  });

  it.each(FIELD_TYPES)("%s.%s is of type %s", (message, field, typeName) => {
    expect(resolvedTypeName(message, field)).toBe(typeName);
  });

  it.each(SCALAR_TYPES)("%s.%s is a %s", (message, field, type) => {
    expect(messageDescriptor(message).field.find((f) => f.name === field)?.type).toBe(type);
  });

  it("uses no zigzag or fixed-width integers, as etcd does not", () => {
    const odd = ["TYPE_SINT32", "TYPE_SINT64", "TYPE_FIXED32", "TYPE_FIXED64", "TYPE_SFIXED32", "TYPE_SFIXED64"];
    for (const [name, definition] of Object.entries(pkg)) {
      if (!("format" in definition) || definition.format !== "Protocol Buffer 3 DescriptorProto") continue;
      for (const field of messageDescriptor(name).field) {
        expect(odd, `${name}.${field.name}`).not.toContain(field.type);
      }
    }
  });

  it("marks as repeated the lists of the fact sheet", () => {
    const repeated: readonly (readonly [string, string])[] = [
      ["etcdserverpb.RangeResponse", "kvs"],
      ["etcdserverpb.DeleteRangeResponse", "prev_kvs"],
      ["etcdserverpb.TxnRequest", "compare"],
      ["etcdserverpb.TxnRequest", "success"],
      ["etcdserverpb.TxnRequest", "failure"],
      ["etcdserverpb.TxnResponse", "responses"],
      ["etcdserverpb.WatchCreateRequest", "filters"],
      ["etcdserverpb.WatchResponse", "events"],
      ["etcdserverpb.LeaseTimeToLiveResponse", "keys"],
      ["etcdserverpb.LeaseLeasesResponse", "leases"],
      ["etcdserverpb.Member", "peerURLs"],
      ["etcdserverpb.Member", "clientURLs"],
      ["etcdserverpb.MemberListResponse", "members"],
      ["etcdserverpb.StatusResponse", "errors"],
      ["etcdserverpb.AlarmResponse", "alarms"],
    ];
    for (const [message, field] of repeated) {
      expect(messageDescriptor(message).field.find((f) => f.name === field)?.label, `${message}.${field}`).toBe(
        "LABEL_REPEATED",
      );
    }
  });

  it.each(Object.entries(SERVICES))("%s has the fact sheet's RPCs, paths and stream kinds", (fullName, methods) => {
    const short = fullName.split(".")[1] ?? "";
    const loaded = api[short as keyof typeof etcdServiceSpecs];
    expect(loaded.spec.name).toBe(fullName);
    const definition: Readonly<Record<string, { path: string; requestStream: boolean; responseStream: boolean }>> =
      loaded.definition;
    expect(Object.keys(definition).sort()).toEqual(Object.keys(methods).sort());
    for (const [method, kind] of Object.entries(methods)) {
      const [requestStream, responseStream] = STREAM_FLAGS[kind];
      expect(definition[method]).toMatchObject({ path: `/${fullName}/${method}`, requestStream, responseStream });
    }
  });

  it("serves every service of the fact sheet and no other", () => {
    const loaded = Object.values(etcdServiceSpecs).map((spec) => spec.name);
    expect(loaded.sort()).toEqual(Object.keys(SERVICES).sort());
  });

  it("leaves out etcd 3.7's RangeStream on purpose", () => {
    expect(Object.keys(api.KV.definition)).not.toContain("RangeStream");
    expect(pkg["etcdserverpb.RangeStreamResponse"]).toBeUndefined();
  });
});
