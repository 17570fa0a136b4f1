#!/usr/bin/env node
// `shardkv`: starts one node. Flags are etcd's where etcd has one; each can also come from the
// environment as SHARDKV_<FLAG> (SHARDKV_DATA_DIR for --data-dir). A data dir that already holds a
// node starts it again and ignores the bootstrap flags (--initial-cluster, --initial-shards, --replicas).

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { CLIENT_LIMIT_DEFAULTS } from "../router/client_limits.js";
import { ClusterConfigError } from "../router/cluster_config.js";
import { ShardkvNode } from "../router/node.js";
import { keepHelperThreadsOnBatch } from "./helper_threads.js";
import { ownMalloc } from "./malloc.js";
import { FileFaultInjector } from "./test_faults.js";

const argv = await yargs(hideBin(process.argv))
  .scriptName("shardkv")
  .usage("$0 [flags]: run one shardkv node (etcd v3 API on --listen-client)")
  .env("SHARDKV")
  .option("name", { type: "string", default: "n1", describe: "this member's name in --initial-cluster" })
  .option("data-dir", { type: "string", default: "./data/n1", describe: "where the node keeps its write-ahead log and LevelDB" })
  .option("listen-client", { type: "string", default: "127.0.0.1:2379", describe: "host:port for clients (etcd's v3 gRPC API)" })
  .option("listen-peer", { type: "string", default: "127.0.0.1:2380", describe: "host:port for the other nodes" })
  .option("listen-http", { type: "string", describe: "host:port for GET /health and GET /metrics (off when not given)" })
  .option("initial-cluster", {
    type: "string",
    default: "n1=127.0.0.1:2380",
    describe: "every first member as name=host:port, comma-separated (bootstrap only)",
  })
  .option("initial-shards", { type: "number", default: 8, describe: "data shards splitting the 32-bit hash space evenly (bootstrap only)" })
  .option("replicas", { type: "number", describe: "replicas per shard, at most the number of members; default 3, or every member when fewer (bootstrap only)" })
  .option("max-key-bytes", { type: "number", default: CLIENT_LIMIT_DEFAULTS.keyBytesMax, describe: "the longest key a client may write" })
  .option("max-value-bytes", { type: "number", default: CLIENT_LIMIT_DEFAULTS.valueBytesMax, describe: "the longest value a client may write" })
  .option("max-request-bytes", { type: "number", default: CLIENT_LIMIT_DEFAULTS.requestBytesMax, describe: "the largest gRPC request a client may send" })
  .option("max-txn-ops", { type: "number", default: CLIENT_LIMIT_DEFAULTS.txnOpsMax, describe: "compares, and operations per branch, in one txn level" })
  .option("max-requests-per-connection", {
    type: "number",
    default: CLIENT_LIMIT_DEFAULTS.requestsPerConnectionMax,
    describe: "unary calls in flight on one client connection; more are refused with RESOURCE_EXHAUSTED",
  })
  .option("helper-threads", {
    choices: ["batch", "normal"] as const,
    default: "batch" as const,
    describe: "Linux scheduling class of the node's helper threads (libuv's pool, LevelDB, V8's workers); the event loop stays normal (cli/helper_threads.ts says why)",
  })
  .option("leader-placement", {
    choices: ["spread", "pack"] as const,
    default: "spread" as const,
    describe: "which replica leads each shard: spread (the first in the map: as many shards led on each node) or pack (the lowest member id: one node leads all, for members sharing one machine's cores; cli/README.md has the figures)",
  })
  .option("tick-ms", { type: "number", default: 100, describe: "one Raft tick: heartbeats every tick, elections after 10 to 20" })
  // Hidden: the fault tests' injector (test/fault/), never for a real cluster.
  .option("test-faults", { type: "string", hidden: true, describe: "a JSON file polled for test faults (dropped peers, tick rate, wall clock offset and rate)" })
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
    ...(argv["listen-http"] === undefined ? {} : { listenHttp: argv["listen-http"] }),
    initialCluster: argv["initial-cluster"],
    initialShards: argv["initial-shards"],
    ...(argv.replicas === undefined ? {} : { replicas: argv.replicas }),
    tickMs: argv["tick-ms"],
    leaderBalance: { placement: argv["leader-placement"] },
    limits: {
      keyBytesMax: argv["max-key-bytes"],
      valueBytesMax: argv["max-value-bytes"],
      requestBytesMax: argv["max-request-bytes"],
      txnOpsMax: argv["max-txn-ops"],
      requestsPerConnectionMax: argv["max-requests-per-connection"],
    },
    log,
    ...(argv["test-faults"] === undefined ? {} : { faults: new FileFaultInjector(argv["test-faults"], log) }),
  });
  const malloc = ownMalloc();
  if (malloc === "libc") log("malloc: the C library's; point reads run ~25% faster on jemalloc (apt-get install libjemalloc2, and start through cli/with_jemalloc.sh as the Procfile does)");
  else log(`malloc: ${malloc}`);
  if (argv["helper-threads"] === "batch") {
    const { first } = keepHelperThreadsOnBatch();
    if (first.problem !== undefined) log(`helper threads: left on the default scheduling class: ${first.problem}`);
    else log(`helper threads: ${first.demoted} on SCHED_BATCH, the event loop on SCHED_NORMAL`);
  }
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
