// `kvctl bench`: a closed-loop load generator, so shardkv can be measured with its own client against
// itself or against etcd (the etcd API needs nothing but endpoints). This file reads the flags, picks
// the endpoints that answer, prefills, runs the load (bench_load.ts) with a progress bar, and prints
// the report (bench_report.ts). Exit 0 once the run completes, errors or not (they are in the report).

import type { Argv } from "yargs";
import { prefill, BENCH_OPS, type BenchOp, benchKeys, MIXED_GET_SHARE, runLoad } from "./bench_load.js";
import { progressBar } from "./bench_progress.js";
import { TokenBucket } from "./bench_rate.js";
import { benchViews, summarize } from "./bench_report.js";
import { BENCH_APIS, type BenchApi, openTarget, type Target } from "./bench_target.js";
import type { ClusterClient, Connection } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { KvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { parseDurationMs } from "./flag_values.js";

interface BenchArgs extends GlobalArgs {
  readonly op: BenchOp;
  readonly api: BenchApi;
  readonly clients: number;
  readonly conns: number;
  readonly keys: number;
  readonly "value-size": number;
  readonly duration: string;
  readonly rate: number | undefined;
  readonly prefill: boolean;
  readonly "key-prefix": string;
}

export function benchCommand(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y.command(
    "bench",
    "Load the cluster (or any etcd) and report throughput and latency",
    (c) =>
      c
        .option("op", {
          choices: BENCH_OPS,
          default: "put" as BenchOp,
          describe: `put; get (linearizable); sget (serializable); mixed (${MIXED_GET_SHARE * 100}% linearizable get, ${100 - MIXED_GET_SHARE * 100}% put)`,
        })
        .option("api", { choices: BENCH_APIS, default: "etcd" as BenchApi, describe: "etcd (etcd's KV service: works against etcd too) or native (shardkv.v1.KV)" })
        .option("clients", { type: "number", default: 64, describe: "workers, each with one request in flight" })
        .option("conns", { type: "number", default: 8, describe: "gRPC connections the workers share round-robin, spread over the endpoints" })
        .option("keys", { type: "number", default: 100_000, describe: "key space; each request picks a key uniformly" })
        .option("value-size", { type: "number", default: 256, describe: "bytes per value" })
        .option("duration", { type: "string", default: "20s", describe: "how long to load (20s, 1m)" })
        .option("rate", { type: "number", describe: "cap on the total requests per second (default: as fast as the workers go)" })
        .option("prefill", { type: "boolean", default: true, describe: "write every key first for get, sget and mixed (--no-prefill to skip)" })
        .option("key-prefix", { type: "string", default: "bench/", describe: "the keys are PREFIX0000..PREFIXn" })
        .example("$0 bench --op put --duration 10s", "64 clients writing 256-byte values for 10 s")
        .example("$0 bench --op get --clients 1 -o json", "one client's linearizable-read latency, as JSON")
        .example("$0 bench --op mixed --rate 5000", "a read-mostly load held at 5000 requests/s")
        .example("$0 bench --op sget --api native", "serializable reads through shardkv.v1.KV")
        .example("$0 bench --endpoints 127.0.0.1:2379 --op put", "the same load against an etcd"),
    (args) => action<BenchArgs>("run the benchmark", bench)(args),
  );
}

async function bench(args: BenchArgs, { client, out, signal }: Context): Promise<ExitCode> {
  const clients = positiveInt(args.clients, "--clients");
  const conns = positiveInt(args.conns, "--conns");
  const keyCount = positiveInt(args.keys, "--keys");
  const valueSize = wholeNumber(args["value-size"], "--value-size");
  const durationMs = parseDurationMs(args.duration, "--duration");
  if (args.rate !== undefined && !(args.rate > 0)) throw KvctlError.usage(`Invalid --rate ${args.rate}: expected a positive number of requests per second`);

  const live = await answering(client, signal);
  const targets = Array.from({ length: conns }, (_, i) => live[i % live.length]!).map((connection) =>
    openTarget(connection.address, {
      api: args.api,
      requestTimeoutMs: client.options.commandTimeoutMs,
      etcd: () => connection.etcd(),
      shardkv: () => connection.shardkv(),
    }),
  );
  try {
    const keys = benchKeys(args["key-prefix"], keyCount);
    // Random bytes: a value of zeros would flatter any layer that compresses.
    const value = Buffer.alloc(valueSize);
    for (let i = 0; i < valueSize; i++) value[i] = 0x21 + Math.floor(Math.random() * 94);

    const prefillStart = performance.now();
    const prefilled = args.op !== "put" && args.prefill ? await prefillWithBar(keys, value, targets, signal) : 0;
    const prefillMs = prefilled > 0 ? performance.now() - prefillStart : 0;

    // Names of our own: cli-progress fills {duration} and {value} itself.
    const bar = progressBar("{elapsed_s}/{duration_s} s | {ops} ops | {rate} ops/s | {errors} errors", durationMs, {
      elapsed_s: "0.0",
      duration_s: (durationMs / 1000).toFixed(1),
      ops: 0,
      rate: 0,
      errors: 0,
    });
    const bucket = args.rate === undefined ? undefined : new TokenBucket(args.rate, Math.max(1, Math.ceil(args.rate / 50)), performance.now());
    const outcome = await runLoad({ op: args.op, clients, durationMs, keys, value, bucket, signal }, targets, (p) =>
      bar.update(Math.min(p.elapsedMs, durationMs), {
        elapsed_s: (p.elapsedMs / 1000).toFixed(1),
        ops: p.ops,
        rate: p.elapsedMs > 0 ? Math.round((p.ops * 1000) / p.elapsedMs) : 0,
        errors: p.errors,
      }),
    ).finally(() => bar.stop());

    out.print(
      benchViews(
        summarize({
          op: args.op,
          api: args.api,
          endpoints: live.map((c) => c.address),
          clients,
          conns,
          keys: keyCount,
          valueSize,
          rateLimit: args.rate,
          prefilledKeys: prefilled,
          prefillMs,
          ...outcome,
        }),
      ),
    );
    return ExitCode.ok;
  } finally {
    for (const target of targets) target.close();
  }
}

/** Prefill with its own bar; a failure is the cluster's answer, reported as any failed command's. */
async function prefillWithBar(keys: readonly Buffer[], value: Buffer, targets: readonly Target[], signal: AbortSignal): Promise<number> {
  const bar = progressBar("prefill {value}/{total} keys", keys.length, {});
  try {
    return await prefill(keys, value, targets, signal, (written) => bar.update(written, {}));
  } finally {
    bar.stop();
  }
}

/**
 * The endpoints that connect, asked all at once. The load goes only to these, so a dead endpoint in
 * the list costs nothing but a note; none at all is exit 3, as for any command.
 */
async function answering(client: ClusterClient, signal: AbortSignal): Promise<Connection[]> {
  const all = client.all();
  const results = await Promise.allSettled(all.map((c) => c.ready(client.options.dialTimeoutMs)));
  if (signal.aborted) throw new KvctlError(ExitCode.unavailable, "Interrupted before the benchmark started");
  const failures = results.flatMap((r, i) => (r.status === "rejected" ? [`${all[i]!.address}: ${(r.reason as Error).message}`] : []));
  const live = all.filter((_, i) => results[i]!.status === "fulfilled");
  if (live.length === 0) {
    throw new KvctlError(
      ExitCode.unavailable,
      `Cannot run the benchmark: no endpoint answered (${failures.join("; ")})`,
      "check that the nodes are running (`npm start`) and that --endpoints or SHARDKV_ENDPOINTS lists their client addresses",
    );
  }
  if (failures.length > 0) process.stderr.write(`kvctl: skipping endpoints that did not answer: ${failures.join("; ")}\n`);
  return live;
}

function positiveInt(value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 1) throw KvctlError.usage(`Invalid ${flag} ${value}: expected a positive whole number`);
  return value;
}

function wholeNumber(value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 0) throw KvctlError.usage(`Invalid ${flag} ${value}: expected 0 or a positive whole number`);
  return value;
}
