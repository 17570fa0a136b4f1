// The hand-written interfaces of etcd_types.ts against what proto-loader really decodes: the same
// field names (each list below must name every key of its interface, or it does not compile), and
// the value kinds our options promise (int64 as string, bytes as Buffer, enums as numbers, ...).
// Then one real call through grpc-js, typed end to end.

import * as grpc from "@grpc/grpc-js";
import type * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as t from "./etcd_types.js";
import { loadEtcdApi } from "./load.js";
import type { ServiceHandlers, TypedClient } from "./service_types.js";
import type { kvSpec } from "./etcd_services.js";

const api = loadEtcdApi();
const pkg = api.packageDefinition;

/** The keys of T, spelled out: the object literal must list each key once, and no other. */
function keysOf<T>(keys: Readonly<Record<keyof T, true>>): string[] {
  return Object.keys(keys).sort();
}

function decodeEmpty(fullName: string): Readonly<Record<string, unknown>> {
  const definition = pkg[fullName];
  if (definition === undefined || definition.format !== "Protocol Buffer 3 DescriptorProto") {
    throw new Error(`No message ${fullName}`);
  }
  const message = definition as protoLoader.MessageTypeDefinition<object, object>;
  return message.deserialize(Buffer.alloc(0)) as Readonly<Record<string, unknown>>;
}

const INTERFACE_KEYS: Readonly<Record<string, readonly string[]>> = {
  "mvccpb.KeyValue": keysOf<t.KeyValue>({
    key: true, create_revision: true, mod_revision: true, version: true, value: true, lease: true,
  }),
  "mvccpb.Event": keysOf<t.Event>({ type: true, kv: true, prev_kv: true }),
  "etcdserverpb.ResponseHeader": keysOf<t.ResponseHeader>({
    cluster_id: true, member_id: true, revision: true, raft_term: true,
  }),
  "etcdserverpb.RangeRequest": keysOf<t.RangeRequest>({
    key: true, range_end: true, limit: true, revision: true, sort_order: true, sort_target: true,
    serializable: true, keys_only: true, count_only: true, min_mod_revision: true, max_mod_revision: true,
    min_create_revision: true, max_create_revision: true,
  }),
  "etcdserverpb.RangeResponse": keysOf<t.RangeResponse>({ header: true, kvs: true, more: true, count: true }),
  "etcdserverpb.PutRequest": keysOf<t.PutRequest>({
    key: true, value: true, lease: true, prev_kv: true, ignore_value: true, ignore_lease: true,
  }),
  "etcdserverpb.PutResponse": keysOf<t.PutResponse>({ header: true, prev_kv: true }),
  "etcdserverpb.DeleteRangeRequest": keysOf<t.DeleteRangeRequest>({ key: true, range_end: true, prev_kv: true }),
  "etcdserverpb.DeleteRangeResponse": keysOf<t.DeleteRangeResponse>({ header: true, deleted: true, prev_kvs: true }),
  // Oneof members appear only when set: an empty Compare shows the common fields alone.
  "etcdserverpb.Compare": keysOf<t.CompareFields>({ result: true, target: true, key: true, range_end: true }),
  "etcdserverpb.TxnRequest": keysOf<t.TxnRequest>({ compare: true, success: true, failure: true }),
  "etcdserverpb.TxnResponse": keysOf<t.TxnResponse>({ header: true, succeeded: true, responses: true }),
  "etcdserverpb.CompactionRequest": keysOf<t.CompactionRequest>({ revision: true, physical: true }),
  "etcdserverpb.CompactionResponse": keysOf<t.CompactionResponse>({ header: true }),
  "etcdserverpb.WatchCreateRequest": keysOf<t.WatchCreateRequest>({
    key: true, range_end: true, start_revision: true, progress_notify: true, filters: true, prev_kv: true,
    watch_id: true, fragment: true,
  }),
  "etcdserverpb.WatchCancelRequest": keysOf<t.WatchCancelRequest>({ watch_id: true }),
  "etcdserverpb.WatchProgressRequest": keysOf<t.WatchProgressRequest>({}),
  "etcdserverpb.WatchResponse": keysOf<t.WatchResponse>({
    header: true, watch_id: true, created: true, canceled: true, compact_revision: true, cancel_reason: true,
    fragment: true, events: true,
  }),
  "etcdserverpb.LeaseGrantRequest": keysOf<t.LeaseGrantRequest>({ TTL: true, ID: true }),
  "etcdserverpb.LeaseGrantResponse": keysOf<t.LeaseGrantResponse>({ header: true, ID: true, TTL: true, error: true }),
  "etcdserverpb.LeaseRevokeRequest": keysOf<t.LeaseRevokeRequest>({ ID: true }),
  "etcdserverpb.LeaseRevokeResponse": keysOf<t.LeaseRevokeResponse>({ header: true }),
  "etcdserverpb.LeaseKeepAliveRequest": keysOf<t.LeaseKeepAliveRequest>({ ID: true }),
  "etcdserverpb.LeaseKeepAliveResponse": keysOf<t.LeaseKeepAliveResponse>({ header: true, ID: true, TTL: true }),
  "etcdserverpb.LeaseTimeToLiveRequest": keysOf<t.LeaseTimeToLiveRequest>({ ID: true, keys: true }),
  "etcdserverpb.LeaseTimeToLiveResponse": keysOf<t.LeaseTimeToLiveResponse>({
    header: true, ID: true, TTL: true, grantedTTL: true, keys: true,
  }),
  "etcdserverpb.LeaseLeasesRequest": keysOf<t.LeaseLeasesRequest>({}),
  "etcdserverpb.LeaseStatus": keysOf<t.LeaseStatus>({ ID: true }),
  "etcdserverpb.LeaseLeasesResponse": keysOf<t.LeaseLeasesResponse>({ header: true, leases: true }),
  "etcdserverpb.Member": keysOf<t.Member>({ ID: true, name: true, peerURLs: true, clientURLs: true, isLearner: true }),
  "etcdserverpb.MemberAddRequest": keysOf<t.MemberAddRequest>({ peerURLs: true, isLearner: true }),
  "etcdserverpb.MemberAddResponse": keysOf<t.MemberAddResponse>({ header: true, member: true, members: true }),
  "etcdserverpb.MemberRemoveRequest": keysOf<t.MemberRemoveRequest>({ ID: true }),
  "etcdserverpb.MemberRemoveResponse": keysOf<t.MemberRemoveResponse>({ header: true, members: true }),
  "etcdserverpb.MemberUpdateRequest": keysOf<t.MemberUpdateRequest>({ ID: true, peerURLs: true }),
  "etcdserverpb.MemberUpdateResponse": keysOf<t.MemberUpdateResponse>({ header: true, members: true }),
  "etcdserverpb.MemberListRequest": keysOf<t.MemberListRequest>({ linearizable: true }),
  "etcdserverpb.MemberListResponse": keysOf<t.MemberListResponse>({ header: true, members: true }),
  "etcdserverpb.MemberPromoteRequest": keysOf<t.MemberPromoteRequest>({ ID: true }),
  "etcdserverpb.MemberPromoteResponse": keysOf<t.MemberPromoteResponse>({ header: true, members: true }),
  "etcdserverpb.AlarmRequest": keysOf<t.AlarmRequest>({ action: true, memberID: true, alarm: true }),
  "etcdserverpb.AlarmMember": keysOf<t.AlarmMember>({ memberID: true, alarm: true }),
  "etcdserverpb.AlarmResponse": keysOf<t.AlarmResponse>({ header: true, alarms: true }),
  "etcdserverpb.StatusRequest": keysOf<t.StatusRequest>({}),
  "etcdserverpb.DowngradeInfo": keysOf<t.DowngradeInfo>({ enabled: true, targetVersion: true }),
  "etcdserverpb.StatusResponse": keysOf<t.StatusResponse>({
    header: true, version: true, dbSize: true, leader: true, raftIndex: true, raftTerm: true,
    raftAppliedIndex: true, errors: true, dbSizeInUse: true, isLearner: true, storageVersion: true,
    dbSizeQuota: true, downgradeInfo: true,
  }),
  "etcdserverpb.DefragmentRequest": keysOf<t.DefragmentRequest>({}),
  "etcdserverpb.DefragmentResponse": keysOf<t.DefragmentResponse>({ header: true }),
  "etcdserverpb.HashRequest": keysOf<t.HashRequest>({}),
  "etcdserverpb.HashResponse": keysOf<t.HashResponse>({ header: true, hash: true }),
  "etcdserverpb.HashKVRequest": keysOf<t.HashKVRequest>({ revision: true }),
  "etcdserverpb.HashKVResponse": keysOf<t.HashKVResponse>({
    header: true, hash: true, compact_revision: true, hash_revision: true,
  }),
  "etcdserverpb.SnapshotRequest": keysOf<t.SnapshotRequest>({}),
  "etcdserverpb.SnapshotResponse": keysOf<t.SnapshotResponse>({
    header: true, remaining_bytes: true, blob: true, version: true,
  }),
  "etcdserverpb.MoveLeaderRequest": keysOf<t.MoveLeaderRequest>({ targetID: true }),
  "etcdserverpb.MoveLeaderResponse": keysOf<t.MoveLeaderResponse>({ header: true }),
  "etcdserverpb.DowngradeRequest": keysOf<t.DowngradeRequest>({ action: true, version: true }),
  "etcdserverpb.DowngradeResponse": keysOf<t.DowngradeResponse>({ header: true, version: true }),
  "v3lockpb.LockRequest": keysOf<t.LockRequest>({ name: true, lease: true }),
  "v3lockpb.LockResponse": keysOf<t.LockResponse>({ header: true, key: true }),
  "v3lockpb.UnlockRequest": keysOf<t.UnlockRequest>({ key: true }),
  "v3lockpb.UnlockResponse": keysOf<t.UnlockResponse>({ header: true }),
  "v3electionpb.LeaderKey": keysOf<t.LeaderKey>({ name: true, key: true, rev: true, lease: true }),
  "v3electionpb.CampaignRequest": keysOf<t.CampaignRequest>({ name: true, lease: true, value: true }),
  "v3electionpb.CampaignResponse": keysOf<t.CampaignResponse>({ header: true, leader: true }),
  "v3electionpb.ProclaimRequest": keysOf<t.ProclaimRequest>({ leader: true, value: true }),
  "v3electionpb.ProclaimResponse": keysOf<t.ProclaimResponse>({ header: true }),
  "v3electionpb.LeaderRequest": keysOf<t.LeaderRequest>({ name: true }),
  "v3electionpb.LeaderResponse": keysOf<t.LeaderResponse>({ header: true, kv: true }),
  "v3electionpb.ResignRequest": keysOf<t.ResignRequest>({ leader: true }),
  "v3electionpb.ResignResponse": keysOf<t.ResignResponse>({ header: true }),
};

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
}

/** What a decoded default looks like for each descriptor type, under our loader options. */
function expectedDefault(field: FieldDescriptor): (value: unknown) => boolean {
  if (field.label === "LABEL_REPEATED") return (v) => Array.isArray(v) && v.length === 0;
  switch (field.type) {
    case "TYPE_INT64":
    case "TYPE_UINT64":
      return (v) => v === "0";
    case "TYPE_BYTES":
      return (v) => Buffer.isBuffer(v) && v.length === 0;
    case "TYPE_ENUM":
    case "TYPE_UINT32":
      return (v) => v === 0;
    case "TYPE_BOOL":
      return (v) => v === false;
    case "TYPE_STRING":
      return (v) => v === "";
    case "TYPE_MESSAGE":
      return (v) => v === null;
    default:
      return () => false;
  }
}

describe("etcd_types.ts describes what proto-loader decodes", () => {
  it.each(Object.entries(INTERFACE_KEYS))("%s decodes with the interface's fields", (message, keys) => {
    expect(Object.keys(decodeEmpty(message)).sort()).toEqual(keys);
  });

  it.each(Object.keys(INTERFACE_KEYS))("%s decodes its defaults as the options promise", (message) => {
    const definition = pkg[message];
    if (definition === undefined || !("format" in definition)) throw new Error(`No message ${message}`);
    const descriptor = definition.type as { readonly field: readonly FieldDescriptor[] };
    const decoded = decodeEmpty(message);
    for (const field of descriptor.field) {
      if (!(field.name in decoded)) continue; // a oneof member, absent when not set
      expect(expectedDefault(field)(decoded[field.name]), `${message}.${field.name} (${field.type})`).toBe(true);
    }
  });

  it("gives the oneofs of RequestOp, ResponseOp, Compare and WatchRequest no member when empty", () => {
    expect(decodeEmpty("etcdserverpb.RequestOp")).toEqual({});
    expect(decodeEmpty("etcdserverpb.ResponseOp")).toEqual({});
    expect(decodeEmpty("etcdserverpb.WatchRequest")).toEqual({});
    expect(decodeEmpty("etcdserverpb.Compare")["target_union"]).toBeUndefined();
  });
});

describe("a typed KV service over grpc-js", () => {
  let server: grpc.Server;
  let client: TypedClient<typeof kvSpec.methods>;
  const puts: t.PutRequest[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    const handlers: ServiceHandlers<typeof kvSpec.methods> = {
      Put: (call, callback) => {
        puts.push(call.request);
        callback(null, { header: { revision: "2", member_id: "18446744073709551615" } });
      },
    };
    server.addService(api.KV.definition, handlers);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error === null) resolve(boundPort);
        else reject(error);
      });
    });
    client = new api.KV.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it("answers a Put with the decoded request and a typed response", async () => {
    const response = await new Promise<t.PutResponse>((resolve, reject) => {
      client.Put({ key: Buffer.from("a"), value: Buffer.from("b"), lease: "7587862110034735136" }, new grpc.Metadata(), {}, (error, value) => {
        if (error !== null) reject(error);
        else if (value === undefined) reject(new Error("no response"));
        else resolve(value);
      });
    });
    expect(puts[0]?.lease).toBe("7587862110034735136");
    expect(puts[0]?.key.toString()).toBe("a");
    expect(response.header?.revision).toBe("2");
    expect(response.header?.member_id).toBe("18446744073709551615");
    expect(response.prev_kv).toBeNull();
  });

  it("answers UNIMPLEMENTED for a method the handlers leave out", async () => {
    const code = await new Promise<grpc.status | undefined>((resolve) => {
      client.Compact({ revision: "1" }, new grpc.Metadata(), {}, (error) => resolve(error?.code));
    });
    expect(code).toBe(grpc.status.UNIMPLEMENTED);
  });
});
