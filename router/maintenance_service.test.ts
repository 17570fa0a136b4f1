import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlarmAction, AlarmType, loadEtcdApi, type maintenanceSpec, type TypedClient } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { ETCD_COMPATIBLE_VERSION, MaintenanceService } from "./maintenance_service.js";
import type { MemberInfo } from "./members.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap, evenShards } from "./shard_map.js";
import { ask, openLeadingStore, serve } from "./test_fixtures.js";

const MEMBER_ID = 0xfedc_ba98_7654_3210n;
const MEMBERS: readonly MemberInfo[] = [{ id: MEMBER_ID, nodeId: 1, name: "n1", peerURLs: [], clientURLs: [], isLearner: false }];

let store: Store;
let map: ShardMap;
let server: grpc.Server;
let client: TypedClient<typeof maintenanceSpec.methods>;
const md = () => new grpc.Metadata();
const status = () => ask<t.StatusResponse>((cb) => client.Status({}, md(), {}, cb));
const hash = () => ask<t.HashResponse>((cb) => client.Hash({}, md(), {}, cb));
const hashKv = (revision: string) => ask<t.HashKVResponse>((cb) => client.HashKV({ revision }, md(), {}, cb));
const write = async (shard: number) => {
  const result = await store.propose(shard, { op: "put", put: { key: Buffer.from(`k${shard}`), value: Buffer.from("v") } });
  if (!result.ok) throw result.error;
};

let compactions = 0;

beforeAll(async () => {
  ({ store, map } = await openLeadingStore(4));
  const access = new LocalShardAccess(store, map, MEMBER_ID, 42n, { dbSizeBytes: async () => 123_456, compactDb: async () => void compactions++ });
  const api = loadEtcdApi();
  const served = await serve((s) => s.addService(api.Maintenance.definition, new MaintenanceService(access, MEMBERS).handlers()));
  server = served.server;
  client = new api.Maintenance.Client(served.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd Maintenance service over four shards", () => {
  it("reports the first data shard's Raft state, this member as its leader, and an etcd 3.5 version", async () => {
    await write(map.shards[0]!.id);
    const answer = await status();
    const replica = store.replica(map.shards[0]!.id);
    expect(answer.version).toBe(ETCD_COMPATIBLE_VERSION);
    expect(answer.version).toMatch(/^3\.5\.\d+/);
    expect(answer).toMatchObject({
      leader: String(MEMBER_ID),
      raftTerm: String(replica.raw.raft.term),
      raftAppliedIndex: String(replica.state.applied.index),
      dbSize: "123456",
      isLearner: false,
      errors: [],
    });
    expect(Number(answer.raftIndex)).toBeGreaterThanOrEqual(Number(answer.raftAppliedIndex));
    expect(Number(answer.raftAppliedIndex)).toBeGreaterThan(0);
    expect(answer.header).toMatchObject({ member_id: String(MEMBER_ID), cluster_id: "42", revision: answer.raftAppliedIndex });
  });

  it("reports a database size of 0 when the database cannot say", async () => {
    const plain = new MaintenanceService(new LocalShardAccess(store, map, MEMBER_ID, 42n), MEMBERS);
    expect((await plain.status()).dbSize).toBe("0");
  });

  it("hashes the same twice without writes, and differently after a write to any shard", async () => {
    const first = await hash();
    expect((await hash()).hash).toBe(first.hash);
    expect((await hashKv("0")).hash).toBe(first.hash);
    await write(map.shards[3]!.id);
    expect((await hash()).hash).not.toBe(first.hash);
  });

  it("refuses HashKV at a revision over several shards, and follows etcd's rules with one shard", async () => {
    await expect(hashKv("5")).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    const single = new MaintenanceService(new LocalShardAccess(store, new ShardMap(1, evenShards(1, [1], 1)), MEMBER_ID, 42n), MEMBERS);
    const current = await single.hashKv({ revision: "0" });
    const again = await single.hashKv({ revision: current.hash_revision ?? "0" });
    expect(again).toMatchObject({ hash: current.hash, hash_revision: current.hash_revision });
    await expect(single.hashKv({ revision: "1000000" })).rejects.toMatchObject({ code: "OUT_OF_RANGE", message: ETCD_ERRORS.futureRevision });
  });

  it("lists no alarms, and declines to set one", async () => {
    const alarms = await ask<t.AlarmResponse>((cb) => client.Alarm({ action: AlarmAction.GET }, md(), {}, cb));
    expect(alarms.alarms).toEqual([]);
    await expect(
      ask((cb) => client.Alarm({ action: AlarmAction.ACTIVATE, memberID: String(MEMBER_ID), alarm: AlarmType.NOSPACE }, md(), {}, cb)),
    ).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });

  it("defragments by compacting the node's database, answering once it is done", async () => {
    const before = compactions;
    const answer = await ask<t.DefragmentResponse>((cb) => client.Defragment({}, md(), {}, cb));
    expect(answer.header?.member_id).toBe(String(MEMBER_ID));
    expect(compactions).toBe(before + 1);
  });

  it("answers UNIMPLEMENTED, with the reason, to what it does not serve", async () => {
    const moveLeader = ask((cb) => client.MoveLeader({ targetID: "1" }, md(), {}, cb));
    await expect(moveLeader).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED, details: expect.stringMatching(/each shard has its own/) });
    const hint = await moveLeader.catch((error: grpc.ServiceError) => error.metadata.get("shardkv-hint")[0]);
    expect(String(hint)).toMatch(/--leader-placement/);
    const snapshot = client.Snapshot({}, md(), {});
    const error = await new Promise((resolve) => {
      snapshot.on("error", resolve);
      snapshot.on("data", () => undefined);
    });
    expect(error).toMatchObject({ code: grpc.status.UNIMPLEMENTED, details: expect.stringMatching(/its own Raft group/) });
  });
});
