// A one-node shardkv cluster and a one-member etcd 3.4 (Debian's etcd-server, as CI installs it),
// fresh and side by side: what the tests that compare the two start from.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { etcdBinary, type ServerCluster, startEtcd } from "../bench/bench_processes.js";
import { NodeCluster } from "./node_cluster.js";

export interface BesideEtcd {
  readonly cluster: NodeCluster;
  readonly etcd: ServerCluster;
  /** The node's client address, and etcd's. */
  readonly shardkvEndpoint: string;
  readonly etcdEndpoint: string;
  stop(): Promise<void>;
}

/** Starts both; a node with `shards` data shards. Fails, saying what to install, without etcd. */
export async function startBesideEtcd(name: string, shards = 2): Promise<BesideEtcd> {
  const binary = etcdBinary();
  if (binary === undefined) throw new Error("these tests compare with etcd 3.4: apt-get install etcd-server (as .ci/run does), or set ETCD_BIN");
  const etcdDir = mkdtempSync(join(tmpdir(), `shardkv-${name}-etcd-`));
  const [cluster, etcd] = await Promise.all([NodeCluster.start(1, shards, name), startEtcd(etcdDir, binary, 1)]);
  await etcd.healthy(20_000);
  return {
    cluster,
    etcd,
    shardkvEndpoint: cluster.nodes[0]!.clientAddress,
    etcdEndpoint: etcd.endpoints[0]!,
    async stop() {
      await Promise.all([cluster.stop(), etcd.stop()]);
      rmSync(etcdDir, { recursive: true, force: true });
    },
  };
}
