#!/usr/bin/env node
// `kvctl`: shardkv's command line. Talks gRPC to any node (etcd's v3 API, and shardkv.v1 where etcd's
// cannot say what is asked) and fails over between --endpoints. Each command family lives in its own
// file under cli/kvctl/; this file holds the global flags, the help and the exit on bad usage.
// The global flags can also come from the environment (SHARDKV_ENDPOINTS, SHARDKV_OUTPUT,
// SHARDKV_DIAL_TIMEOUT, SHARDKV_COMMAND_TIMEOUT). Only these: yargs' .env("SHARDKV") would also read the
// server's variables (SHARDKV_DATA_DIR), which kvctl's strict parsing would refuse as unknown flags.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { benchCommand } from "./kvctl/bench.js";
import { clusterCommands } from "./kvctl/cluster.js";
import { DEFAULT_ENDPOINTS } from "./kvctl/command.js";
import { electCommand } from "./kvctl/elect.js";
import { EXIT_CODES_HELP, ExitCode } from "./kvctl/exit_codes.js";
import { keyCommands } from "./kvctl/keys.js";
import { leaseCommands } from "./kvctl/lease.js";
import { lockCommand } from "./kvctl/lock.js";
import { FORMATS, type Format } from "./kvctl/output.js";
import { txnCommand } from "./kvctl/txn.js";
import { watchCommand } from "./kvctl/watch.js";

const base = yargs(hideBin(process.argv))
  .scriptName("kvctl")
  .usage("$0 <command> [flags]: read, write, watch and coordinate through a shardkv cluster")
  .option("endpoints", {
    type: "string",
    default: process.env["SHARDKV_ENDPOINTS"] ?? DEFAULT_ENDPOINTS,
    global: true,
    describe: "client addresses of the nodes, comma-separated; requests fail over between them",
  })
  .option("output", { alias: "o", choices: FORMATS, global: true, default: outputFromEnv(), describe: "table (default on a terminal), simple (default in a pipe) or json" })
  .option("dial-timeout", { type: "string", default: process.env["SHARDKV_DIAL_TIMEOUT"] ?? "2s", global: true, describe: "how long to wait for one endpoint to connect before trying the next" })
  .option("command-timeout", { type: "string", default: process.env["SHARDKV_COMMAND_TIMEOUT"] ?? "5s", global: true, describe: "the deadline of each request (lock and elect wait as long as needed)" });

const parser = [keyCommands, watchCommand, txnCommand, leaseCommands, lockCommand, electCommand, clusterCommands, benchCommand]
  .reduce((y, register) => register(y), base)
  .completion("completion", "Print a shell completion script: kvctl completion >> ~/.bashrc")
  .demandCommand(1, "Name a command: kvctl --help lists them")
  .recommendCommands()
  // A flag given twice keeps its last value, as etcdctl's do; repeatable flags say array: true.
  .parserConfiguration({ "duplicate-arguments-array": false })
  .strict()
  .example("$0 put greeting hello", "write a key")
  .example("$0 get greeting", "read it back (exit 1 when missing)")
  .example("$0 watch greeting", "print every change until Ctrl-C")
  .example("$0 lock deploy -- ./deploy.sh", "run a command while holding a cluster-wide lock")
  .example("SHARDKV_ENDPOINTS=10.0.0.1:2379 $0 shard list", "the shards of another cluster")
  .example("$0 bench --op get --duration 10s", "linearizable-read throughput and latency for 10 s")
  .epilogue(EXIT_CODES_HELP)
  .help()
  .alias("help", "h")
  .version(false)
  .wrap(Math.min(120, process.stdout.columns ?? 120))
  .fail((message, error) => {
    // A handler's own failures never come here (command.ts exits with their codes): this is yargs
    // refusing the command line itself, before anything was sent.
    if (error !== undefined && error !== null) throw error;
    process.stderr.write(`kvctl: ${message}\nhint: run \`kvctl --help\` or \`kvctl <command> --help\` for usage and examples\n`);
    process.exit(ExitCode.usage);
  });

await parser.parseAsync();

/** SHARDKV_OUTPUT when it names a format (yargs' `choices` then checks nothing else slips in). */
function outputFromEnv(): Format | undefined {
  const value = process.env["SHARDKV_OUTPUT"];
  return FORMATS.find((format) => format === value);
}
