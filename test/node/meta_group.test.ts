// The meta group (shard 0) on a four-node cluster: three members hold its replicas, the fourth
// reads it through forwarding. Every member publishes its client address there, so that every node
// lists every member's client URL (etcd's clients discover endpoints from MemberList); a new shard
// map published on one node reaches every node's routing, and survives a node's restart.

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type clusterSpec, loadEtcdApi, type TypedClient } from "../../proto/index.js";
import type * as t from "../../proto/etcd_types.js";
import { ShardkvNode } from "../../router/node.js";
import { ShardMap } from "../../router/shard_map.js";
import { ask } from "../../router/test_fixtures.js";
import { eventually, NodeCluster } from "../support/node_cluster.js";

let cluster: NodeCluster;
const clients: TypedClient<typeof clusterSpec.methods>[] = [];

beforeAll(async () => {
  cluster = await NodeCluster.start(4, 2, "meta", 2);
  const api = loadEtcdApi();
  for (const node of cluster.nodes) clients.push(new api.Cluster.Client(node.clientAddress, grpc.credentials.createInsecure()));
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
});

describe("the meta group", () => {
  it("sits on the first three members only", () => {
    expect(cluster.nodes.map((node) => node.store.hasReplica(0))).toEqual([true, true, true, false]);
  });

  it("gives every node every member's client URL", async () => {
    const expected = cluster.nodes.map((node) => [node.member.name, node.clientAddress]);
    for (let i = 0; i < cluster.nodes.length; i++) {
      await eventually(`node ${i + 1} lists every client URL`, async () => {
        const listed = await ask<t.MemberListResponse>((cb) => clients[i]!.MemberList({}, new grpc.Metadata(), {}, cb));
        const seen = listed.members.map((m) => [m.name, m.clientURLs[0]]);
        if (JSON.stringify(seen) !== JSON.stringify(expected)) throw new Error(`node ${i + 1} lists ${JSON.stringify(seen)}`);
      });
    }
  });

  it("carries a new shard map to every node's routing, the node without a meta replica included, and keeps it over a restart", async () => {
    await eventually("every node published", async () => {
      if (!cluster.nodes.every((node) => node.meta.isPublished)) throw new Error("not yet");
    });
    const current = cluster.nodes[3]!.shardMap();
    expect(current.epoch).toBe(1);
    await cluster.nodes[3]!.meta.publishMap(new ShardMap(2, current.shards.map((shard) => ({ ...shard, epoch: 2 }))), 1);
    for (const node of cluster.nodes) {
      await eventually(`${node.member.name} routes by epoch 2`, async () => {
        if (node.shardMap().epoch !== 2) throw new Error(`still at epoch ${node.shardMap().epoch}`);
      });
    }
    // A second writer from the old epoch loses: the stored map moved on.
    await expect(cluster.nodes[0]!.meta.publishMap(new ShardMap(2, current.shards), 1)).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });

    const options = cluster.options[1]!;
    await cluster.nodes[1]!.stop();
    cluster.nodes[1] = await ShardkvNode.start(options);
    expect(cluster.nodes[1].shardMap().epoch).toBe(2);
  });
});
