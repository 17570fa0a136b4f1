// The hand-written interfaces of shardkv_types.ts against what proto-loader decodes from our own
// .proto files: the same field names (each list must name every key of its interface, or it does not
// compile), a oneof's members absent unless set, and the two services checked against their specs.

import type * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import { loadShardkvApi } from "./load.js";
import type * as t from "./shardkv_types.js";

const api = loadShardkvApi();

function keysOf<T>(keys: Readonly<Record<keyof T, true>>): string[] {
  return Object.keys(keys).sort();
}

function messageType(fullName: string): protoLoader.MessageTypeDefinition<object, object> {
  const definition = api.packageDefinition[fullName];
  if (definition === undefined || definition.format !== "Protocol Buffer 3 DescriptorProto") throw new Error(`No message ${fullName}`);
  return definition as protoLoader.MessageTypeDefinition<object, object>;
}

const decodeEmpty = (fullName: string): Readonly<Record<string, unknown>> =>
  messageType(fullName).deserialize(Buffer.alloc(0)) as Readonly<Record<string, unknown>>;

const INTERFACE_KEYS: Readonly<Record<string, readonly string[]>> = {
  "shardkv.v1.ResponseHeader": keysOf<t.ResponseHeader>({ cluster_id: true, member_id: true, shard_id: true, revision: true, raft_term: true }),
  "shardkv.v1.KeyValue": keysOf<t.KeyValue>({
    key: true, value: true, create_revision: true, mod_revision: true, version: true, expires_at_ms: true, shard_id: true,
  }),
  "shardkv.v1.GetRequest": keysOf<t.GetRequest>({ key: true, consistency: true, max_staleness_ms: true }),
  "shardkv.v1.GetResponse": keysOf<t.GetResponse>({ header: true, found: true, kv: true, served_consistency: true }),
  "shardkv.v1.PutRequest": keysOf<Omit<t.PutRequest, "expected">>({ key: true, value: true, ttl_ms: true }),
  "shardkv.v1.PutResponse": keysOf<t.PutResponse>({ header: true, succeeded: true, kv: true }),
  "shardkv.v1.DeleteRequest": keysOf<Omit<t.DeleteRequest, "expected">>({ key: true }),
  "shardkv.v1.DeleteResponse": keysOf<t.DeleteResponse>({ header: true, succeeded: true, deleted: true, kv: true }),
  "shardkv.v1.MultiGetRequest": keysOf<t.MultiGetRequest>({ keys: true, consistency: true, max_staleness_ms: true }),
  "shardkv.v1.GetResult": keysOf<t.GetResult>({ found: true, kv: true, shard_id: true }),
  "shardkv.v1.MultiGetResponse": keysOf<t.MultiGetResponse>({ headers: true, results: true, served_consistency: true }),
  "shardkv.v1.PutEntry": keysOf<t.PutEntry>({ key: true, value: true, ttl_ms: true }),
  "shardkv.v1.MultiPutRequest": keysOf<t.MultiPutRequest>({ entries: true, allow_partial: true }),
  "shardkv.v1.MultiPutPart": keysOf<t.MultiPutPart>({ header: true, entry_indexes: true, code: true, message: true }),
  "shardkv.v1.MultiPutResponse": keysOf<t.MultiPutResponse>({ parts: true }),
  "shardkv.v1.IncrementRequest": keysOf<t.IncrementRequest>({ key: true, delta: true, ttl_ms: true }),
  "shardkv.v1.IncrementResponse": keysOf<t.IncrementResponse>({ header: true, value: true, kv: true }),
  "shardkv.v1.ShardMapRequest": keysOf<t.ShardMapRequest>({ shard_ids: true }),
  "shardkv.v1.ShardStatus": keysOf<t.ShardStatus>({
    id: true, hash_start: true, hash_end: true, replicas: true, epoch: true, held_here: true, leader: true, term: true,
    committed_index: true, applied_index: true, size_bytes: true,
  }),
  "shardkv.v1.ShardMapResponse": keysOf<t.ShardMapResponse>({ cluster_id: true, member_id: true, map_epoch: true, shards: true }),
};

describe("shardkv.v1 messages as decoded", () => {
  for (const [name, keys] of Object.entries(INTERFACE_KEYS)) {
    it(`${name} decodes with exactly the interface's fields`, () => {
      expect(Object.keys(decodeEmpty(name)).sort()).toEqual(keys);
    });
  }

  it("names the set member of a compare-and-set oneof, and leaves it out when unset", () => {
    const put = messageType("shardkv.v1.PutRequest");
    const withVersion = put.deserialize(put.serialize({ key: Buffer.from("k"), expected_version: "0" })) as t.PutRequest;
    expect(withVersion).toMatchObject({ expected: "expected_version", expected_version: "0" });
    const withValue = put.deserialize(put.serialize({ key: Buffer.from("k"), expected_value: Buffer.from("v") })) as t.PutRequest;
    expect(withValue.expected).toBe("expected_value");
    expect(put.deserialize(put.serialize({ key: Buffer.from("k") }))).not.toHaveProperty("expected");
  });

  it("keeps 64-bit integers exact as decimal strings", () => {
    const status = messageType("shardkv.v1.ShardStatus");
    const decoded = status.deserialize(status.serialize({ hash_end: String(2 ** 32), size_bytes: "9007199254740993" })) as t.ShardStatus;
    expect(decoded.hash_end).toBe("4294967296");
    expect(decoded.size_bytes).toBe("9007199254740993");
  });

  it("loads both services as their specs say", () => {
    expect(Object.keys(api.KV.definition).sort()).toEqual(["Delete", "Get", "Increment", "MultiGet", "MultiPut", "Put"]);
    expect(Object.keys(api.Admin.definition)).toEqual(["ShardMap"]);
  });
});
