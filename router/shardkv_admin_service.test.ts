// shardkv.v1.Admin over one in-memory store leading three of four shards, through a real gRPC
// server: the map with each shard's Raft state, a shard held elsewhere, and the NOT_FOUND filter.

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShardkvApi, type shardkvAdminSpec, type TypedClient, type Writable } from "../proto/index.js";
import type { shardkv as t } from "../proto/index.js";
import type { Store } from "../shard/store.js";
import { LocalShardAccess } from "./shard_access.js";
import { HASH_SPACE, ShardMap } from "./shard_map.js";
import { ShardkvAdminService } from "./shardkv_admin_service.js";
import { ask, openLeadingStore, serve } from "./test_fixtures.js";

let store: Store;
let map: ShardMap;
let server: grpc.Server;
let client: TypedClient<typeof shardkvAdminSpec.methods>;

const shardMap = (req: Writable<t.ShardMapRequest>) => ask<t.ShardMapResponse>((cb) => client.ShardMap(req, new grpc.Metadata(), {}, cb));

beforeAll(async () => {
  const opened = await openLeadingStore(3);
  store = opened.store;
  // A fourth shard that node 1 does not hold: its half of the hash space lives on nodes 2 and 3.
  const held = opened.map.shards.map((shard) => ({ ...shard, start: shard.start / 2, end: shard.end / 2 }));
  map = new ShardMap(3, [...held, { id: 9, start: HASH_SPACE / 2, end: HASH_SPACE, replicas: [2, 3], epoch: 2 }]);
  const access = new LocalShardAccess(store, map, 77n, 42n, { prefixSizeBytes: async () => 1234 });
  await access.propose(1, { op: "put", put: { key: Buffer.from("k"), value: Buffer.from("v") } });
  const api = loadShardkvApi();
  const served = await serve((s) => s.addService(api.Admin.definition, new ShardkvAdminService(access, 1).handlers()));
  server = served.server;
  client = new api.Admin.Client(served.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("Admin.ShardMap", () => {
  it("lists every shard with its range, replicas, epoch, and this node's view of its leader, term, indexes and size", async () => {
    const answer = await shardMap({});
    expect(answer).toMatchObject({ cluster_id: "42", member_id: "77", map_epoch: "3" });
    expect(answer.shards.map((s) => s.id)).toEqual([1, 2, 3, 9]);
    const first = answer.shards[0]!;
    const replica = store.replica(1);
    expect(first).toMatchObject({
      hash_start: 0,
      replicas: ["1"],
      epoch: "1",
      held_here: true,
      leader: "1",
      term: String(replica.raw.raft.term),
      committed_index: String(replica.raw.raft.log.committed),
      applied_index: String(replica.state.applied.index),
      size_bytes: "1234",
    });
    expect(Number(first.applied_index)).toBeGreaterThan(1);
    expect(answer.shards.at(-1)).toMatchObject({ hash_start: HASH_SPACE / 2, hash_end: String(HASH_SPACE), replicas: ["2", "3"], epoch: "2" });
  });

  it("says what it cannot know of a shard held elsewhere as zeros", async () => {
    const [elsewhere] = (await shardMap({ shard_ids: [9] })).shards;
    expect(elsewhere).toMatchObject({ id: 9, held_here: false, leader: "0", term: "0", applied_index: "0", size_bytes: "0" });
  });

  it("answers only the shards asked for, and NOT_FOUND for one not in the map", async () => {
    expect((await shardMap({ shard_ids: [2, 1] })).shards.map((s) => s.id)).toEqual([1, 2]);
    const refused = await shardMap({ shard_ids: [1, 40] }).then(
      () => undefined,
      (error: unknown) => error as grpc.ServiceError,
    );
    expect(refused?.code).toBe(grpc.status.NOT_FOUND);
    expect(refused?.details).toBe("Cannot show shard 40: not in the shard map (epoch 3, shards 1, 2, 3, 9)");
  });
});
