// Leaders spread evenly: three nodes, six shards of three replicas. Elections alone pick leaders at
// random; each shard's preferred leader (the first replica in the map, rotated by the bootstrap
// split) takes over, so each node ends up leading two data shards, and the first node the meta group.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, NodeCluster } from "../support/node_cluster.js";

let cluster: NodeCluster;

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 6, "balance");
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("leader balance", () => {
  it("moves every shard's leadership to its preferred replica, so that each node leads as many", async () => {
    const shards = cluster.map().shards;
    const leaders = await eventually(
      "every shard led by its preferred replica",
      async () => {
        const seen = shards.map((shard) => cluster.leaderOf(shard.id));
        const preferred = shards.map((shard) => cluster.nodes.findIndex((node) => node.member.id === shard.replicas[0]));
        if (JSON.stringify(seen) !== JSON.stringify(preferred)) throw new Error(`leaders ${JSON.stringify(seen)}, preferred ${JSON.stringify(preferred)}`);
        return seen;
      },
      20_000,
    );
    expect([0, 1, 2].map((node) => leaders.filter((leader) => leader === node).length)).toEqual([2, 2, 2]);
    await eventually("the meta group led by the first member", async () => {
      if (cluster.leaderOf(0) !== 0) throw new Error(`led by node ${String(cluster.leaderOf(0))}`);
    });
  }, 30_000);
});
