// `npm run bench:idle`: what a cluster with many shards and no traffic costs. Three real `shardkv`
// processes on loopback (data dirs on a real disk), each with every one of BENCH_SHARDS shards
// (default 1,000) and --replicas 3; once every node's /health says every shard knows its leader and a
// settling period passed, each process's CPU time (utime + stime from /proc/<pid>/stat) is read over
// BENCH_SECONDS (default 20) of idleness. The goal: under 5% of one core per node.
// Ends with one JSON line: {"idle_cpu_percent_max":N,"shards":N}.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { diskDir } from "../support/disk_dir.js";
import { processCpuSeconds, type ServerProcess, startShardkv } from "./bench_processes.js";

const SHARDS = Number(process.env["BENCH_SHARDS"] ?? 1000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 20);
/** After the last leader is known: the new leaders' first entries commit and idle groups go quiet. */
const SETTLE_SECONDS = Number(process.env["BENCH_SETTLE_SECONDS"] ?? 5);
const TICK_MS = Number(process.env["BENCH_TICK_MS"] ?? 100);
/** Bootstrapping and electing every shard must finish within this, or the run fails. */
const STARTUP_TIMEOUT_MS = Number(process.env["BENCH_STARTUP_TIMEOUT_MS"] ?? 300_000);
const NODES = 3;
const CLI = join(import.meta.dirname, "..", "..", "cli", "shardkv.ts");

async function metric(member: ServerProcess, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${member.httpAddress}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match === null ? undefined : Number(match[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dir = diskDir("shardkv-bench-idle-");
  console.log(`idle bench: ${NODES} nodes, ${SHARDS} shards x 3 replicas, tick ${TICK_MS} ms, data in ${dir}`);
  const started = performance.now();
  const cluster = await startShardkv(dir, { nodes: NODES, shards: SHARDS, replicas: 3, tickMs: TICK_MS, cli: CLI, nodeArgs: ["--import", "tsx"] });
  const members = cluster.members;
  let failed = true;
  try {
    await cluster.healthy(STARTUP_TIMEOUT_MS, async (waitedMs) => {
      const leaderless = await Promise.all(members.map((m) => metric(m, "shardkv_shards_without_leader").catch(() => undefined)));
      console.log(`  ${(waitedMs / 1000).toFixed(0)} s: shards without a leader per node: ${leaderless.map((n) => n ?? "not up").join(", ")}`);
    });
    const startupMs = performance.now() - started;
    console.log(`startup: every shard has a leader on every node after ${(startupMs / 1000).toFixed(1)} s`);
    await sleep(SETTLE_SECONDS * 1000);

    const before = members.map((m) => processCpuSeconds(m.process.pid));
    const windowStarted = performance.now();
    await sleep(SECONDS * 1000);
    const wallSeconds = (performance.now() - windowStarted) / 1000;
    const percents = members.map((m, i) => ((processCpuSeconds(m.process.pid) - before[i]!) / wallSeconds) * 100);
    for (const [i, member] of members.entries()) {
      const leads = await metric(member, "shardkv_shard_leaders");
      const quiesced = await metric(member, "shardkv_shards_quiesced");
      const rss = await metric(member, "process_resident_memory_bytes");
      console.log(
        `${member.name}: ${percents[i]!.toFixed(2)}% of one core over ${wallSeconds.toFixed(1)} s idle; leads ${leads} shards` +
          `${quiesced === undefined ? "" : `, ${quiesced} quiesced`}; RSS ${rss === undefined ? "?" : Math.round(rss / 2 ** 20)} MiB`,
      );
    }
    const max = Math.max(...percents);
    console.log(JSON.stringify({ idle_cpu_percent_max: Number(max.toFixed(2)), shards: SHARDS }));
    failed = false;
  } finally {
    await cluster.stop();
    // A failed run keeps the nodes' logs and data to look at.
    if (failed || process.env["BENCH_KEEP_DIR"] !== undefined) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
