// Leaders spread evenly: three nodes, six shards of three replicas. Elections alone pick leaders at
// random; each shard's preferred leader (the first replica in the map, rotated by the bootstrap
// split) takes over, so each node ends up leading two data shards, and the first node the meta group.
// Packed (--leader-placement pack), the lowest member id leads every shard it holds instead.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preferredLeader } from "../../router/leader_balance.js";
import { eventually, NodeCluster } from "../support/node_cluster.js";

describe("the preferred leader", () => {
  it("is the first replica in the map when spread, the lowest member id when packed", () => {
    expect(preferredLeader("spread", [3, 1, 2])).toBe(3);
    expect(preferredLeader("pack", [3, 1, 2])).toBe(1);
    expect(preferredLeader("pack", [])).toBeUndefined();
  });
});

describe("leader balance, spread", () => {
  let cluster: NodeCluster;

  beforeAll(async () => {
    cluster = await NodeCluster.start(3, 6, "balance");
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

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

describe("leader balance, packed", () => {
  let cluster: NodeCluster;

  beforeAll(async () => {
    cluster = await NodeCluster.start(3, 6, "balance-pack", 3, "pack");
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("moves every shard's leadership, the meta group's too, to the node with the lowest member id", async () => {
    const shards = cluster.map().shards;
    const lowest = cluster.nodes.reduce((best, node, i) => (node.member.id < cluster.nodes[best]!.member.id ? i : best), 0);
    // The map rotates the replica lists: most shards' first replica is another node.
    expect(shards.filter((shard) => shard.replicas[0] !== cluster.nodes[lowest]!.member.id).length).toBeGreaterThan(0);
    await eventually(
      "every shard led by the lowest member id",
      async () => {
        const seen = [0, ...shards.map((shard) => shard.id)].map((id) => cluster.leaderOf(id));
        if (seen.some((leader) => leader !== lowest)) throw new Error(`leaders ${JSON.stringify(seen)}, wanted node ${lowest} for all`);
      },
      20_000,
    );
  }, 30_000);
});
