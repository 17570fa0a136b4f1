// Our own API (shardkv.v1) on three in-process nodes, every shard on every node: a bounded-staleness
// read on a follower is served from the follower's own replica once a read-index round proved it
// fresh enough, and falls back to a linearizable read (seeing the latest write) when the bound is
// tighter than that proof; Admin.ShardMap answers on every node with the same leader and term.

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShardkvApi, type shardkvAdminSpec, type shardkvKvSpec, type TypedClient, type Writable } from "../../proto/index.js";
import { shardkv as t } from "../../proto/index.js";
import { ask, until } from "../../router/test_fixtures.js";
import { eventually, NodeCluster } from "../support/node_cluster.js";

const b = (s: string): Buffer => Buffer.from(s);
const KEY = "bounded/key";

let cluster: NodeCluster;
const kv: TypedClient<typeof shardkvKvSpec.methods>[] = [];
const admin: TypedClient<typeof shardkvAdminSpec.methods>[] = [];

const get = (node: number, req: Writable<t.GetRequest>) => ask<t.GetResponse>((cb) => kv[node]!.Get(req, new grpc.Metadata(), {}, cb));
const put = (node: number, key: string, value: string) =>
  ask<t.PutResponse>((cb) => kv[node]!.Put({ key: b(key), value: b(value) }, new grpc.Metadata(), {}, cb));
const shardMap = (node: number) => ask<t.ShardMapResponse>((cb) => admin[node]!.ShardMap({}, new grpc.Metadata(), {}, cb));

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 2, "shardkv-api", 3);
  const api = loadShardkvApi();
  for (const node of cluster.nodes) {
    kv.push(new api.KV.Client(node.clientAddress, grpc.credentials.createInsecure()));
    admin.push(new api.Admin.Client(node.clientAddress, grpc.credentials.createInsecure()));
  }
  await eventually("a first write", () => put(0, KEY, "v1"));
}, 30_000);

afterAll(async () => {
  for (const client of [...kv, ...admin]) client.close();
  await cluster?.stop();
});

describe("shardkv.v1 on three nodes", () => {
  it("serves a bounded-staleness read from a follower's own replica, and falls back when the bound is tiny", async () => {
    const shard = cluster.map().shardFor(b(KEY)).id;
    const leader = cluster.leaderOf(shard)!;
    const follower = (leader + 1) % 3;
    const store = cluster.nodes[follower]!.store;
    const replica = store.replica(shard);
    expect(replica.isLeader).toBe(false);

    // A linearizable read on the follower asks the leader for a read index: that round is the proof.
    expect((await get(follower, { key: b(KEY) })).kv!.value).toEqual(b("v1"));
    const rounds = store.counts.linearizableReads;
    const local = await get(follower, { key: b(KEY), consistency: t.Consistency.BOUNDED_STALENESS, max_staleness_ms: "60000" });
    expect(local.served_consistency).toBe(t.Consistency.BOUNDED_STALENESS);
    expect(local.kv!.value).toEqual(b("v1"));
    expect(local.header!.member_id).toBe(String(cluster.nodes[follower]!.member.memberId));
    expect(store.counts.linearizableReads).toBe(rounds);

    // A newer write through the leader; a bound tighter than the proof's age must see it.
    await put(leader, KEY, "v2");
    const provedAt = replica.freshness.freshAsOfMs(replica.state.applied.index)!;
    await until("the follower's proof is older than 5 ms", () => replica.freshness.nowMs() - provedAt > 5);
    const fallback = await get(follower, { key: b(KEY), consistency: t.Consistency.BOUNDED_STALENESS, max_staleness_ms: "5" });
    expect(fallback.served_consistency).toBe(t.Consistency.LINEARIZABLE);
    expect(fallback.kv!.value).toEqual(b("v2"));
    expect(store.counts.linearizableReads).toBe(rounds + 1);
  });

  it("answers Admin.ShardMap on every node, each naming the same leader and term for each shard", async () => {
    const shards = cluster.map().shards;
    for (const { id } of shards) await until(`every node knows shard ${id}'s leader`, () => cluster.nodes.every((node) => node.store.replica(id).raw.raft.lead !== 0));
    const answers = await Promise.all(cluster.nodes.map((_, node) => shardMap(node)));
    answers.forEach((answer, node) => {
      expect(answer.member_id).toBe(String(cluster.nodes[node]!.member.memberId));
      expect(answer.shards.map((s) => s.id)).toEqual(shards.map((s) => s.id));
      for (const status of answer.shards) {
        expect(status.held_here).toBe(true);
        expect([...status.replicas].sort()).toEqual(["1", "2", "3"]);
        expect(Number(status.applied_index)).toBeGreaterThan(0);
        expect(Number(status.size_bytes)).toBeGreaterThanOrEqual(0);
      }
    });
    for (const [i, { id }] of shards.entries()) {
      const leaders = new Set(answers.map((answer) => answer.shards[i]!.leader));
      const terms = new Set(answers.map((answer) => answer.shards[i]!.term));
      expect(leaders).toEqual(new Set([String(cluster.nodes[cluster.leaderOf(id)!]!.member.id)]));
      expect(terms.size).toBe(1);
    }
  });
});
