#!/usr/bin/env node
// `shardkv`: starts one node. Flags are etcd's where etcd has one; each can also come from the
// environment as SHARDKV_<FLAG> (SHARDKV_DATA_DIR for --data-dir). A data dir that already holds a
// node starts it again and ignores the bootstrap flags (--initial-cluster, --initial-shards, --replicas).

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ClusterConfigError } from "../router/cluster_config.js";
import { ShardkvNode } from "../router/node.js";

const argv = await yargs(hideBin(process.argv))
  .scriptName("shardkv")
  .usage("$0 [flags]: run one shardkv node (etcd v3 API on --listen-client)")
  .env("SHARDKV")
  .option("name", { type: "string", default: "n1", describe: "this member's name in --initial-cluster" })
  .option("data-dir", { type: "string", default: "./data/n1", describe: "where the node keeps its write-ahead log and LevelDB" })
  .option("listen-client", { type: "string", default: "127.0.0.1:2379", describe: "host:port for clients (etcd's v3 gRPC API)" })
  .option("listen-peer", { type: "string", default: "127.0.0.1:2380", describe: "host:port for the other nodes" })
  .option("initial-cluster", {
    type: "string",
    default: "n1=127.0.0.1:2380",
    describe: "every first member as name=host:port, comma-separated (bootstrap only)",
  })
  .option("initial-shards", { type: "number", default: 8, describe: "data shards splitting the 32-bit hash space evenly (bootstrap only)" })
  .option("replicas", { type: "number", default: 1, describe: "replicas per shard; for now, equal to the number of members (bootstrap only)" })
  .option("tick-ms", { type: "number", default: 100, describe: "one Raft tick: heartbeats every tick, elections after 10 to 20" })
  .example("$0 --name n1 --data-dir ./data/n1", "a single-node cluster on etcd's ports")
  .example(
    "$0 --name n2 --data-dir ./data/n2 --listen-client 127.0.0.1:22379 --listen-peer 127.0.0.1:22380 --initial-cluster n1=127.0.0.1:2380,n2=127.0.0.1:22380,n3=127.0.0.1:32380 --replicas 3",
    "the second of three nodes",
  )
  .strict()
  .help()
  .parse();

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${argv.name}: ${line}\n`);
};

try {
  const node = await ShardkvNode.start({
    name: argv.name,
    dataDir: argv["data-dir"],
    listenClient: argv["listen-client"],
    listenPeer: argv["listen-peer"],
    initialCluster: argv["initial-cluster"],
    initialShards: argv["initial-shards"],
    replicas: argv.replicas,
    tickMs: argv["tick-ms"],
    log,
  });
  process.stdout.write(`ready ${node.clientAddress}\n`);
  const stop = (signal: string): void => {
    log(`${signal}: stopping`);
    node.stop().then(
      () => process.exit(process.exitCode ?? 0),
      (error: unknown) => {
        log(`stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  if (error instanceof ClusterConfigError) {
    process.stderr.write(`shardkv: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
