// `npm run bench:idle`: what a cluster with many shards and no traffic costs. Three real `shardkv`
// processes on loopback (data dirs on a real disk), each with every one of BENCH_SHARDS shards
// (default 1,000) and --replicas 3; once every node's /health says every shard knows its leader and a
// settling period passed, each process's CPU time (utime + stime from /proc/<pid>/stat) is read over
// BENCH_SECONDS (default 20) of idleness. The goal: under 5% of one core per node.
// Ends with one JSON line: {"idle_cpu_percent_max":N,"shards":N}.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { diskDir } from "../support/disk_dir.js";
import { freePort } from "../support/node_cluster.js";

const SHARDS = Number(process.env["BENCH_SHARDS"] ?? 1000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 20);
/** After the last leader is known: the new leaders' first entries commit and idle groups go quiet. */
const SETTLE_SECONDS = Number(process.env["BENCH_SETTLE_SECONDS"] ?? 5);
const TICK_MS = Number(process.env["BENCH_TICK_MS"] ?? 100);
/** Bootstrapping and electing every shard must finish within this, or the run fails. */
const STARTUP_TIMEOUT_MS = Number(process.env["BENCH_STARTUP_TIMEOUT_MS"] ?? 300_000);
const NODES = 3;
const CLI = join(import.meta.dirname, "..", "..", "cli", "shardkv.ts");

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly httpAddress: string;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU seconds (user + system) that a process has used, from /proc (Linux). */
function cpuSeconds(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

async function healthy(child: Child): Promise<boolean> {
  try {
    return (await fetch(`http://${child.httpAddress}/health`)).status === 200;
  } catch {
    return false;
  }
}

async function metric(child: Child, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${child.httpAddress}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match === null ? undefined : Number(match[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dir = diskDir("shardkv-bench-idle-");
  const ports = await Promise.all(Array.from({ length: NODES * 3 }, () => freePort()));
  const initialCluster = Array.from({ length: NODES }, (_, i) => `n${i + 1}=127.0.0.1:${ports[i * 3 + 1]}`).join(",");
  const ticksPerSecond = clockTicksPerSecond();
  console.log(`idle bench: ${NODES} nodes, ${SHARDS} shards x 3 replicas, tick ${TICK_MS} ms, data in ${dir}`);
  const started = performance.now();
  const children: Child[] = [];
  let stopping = false;
  for (let i = 0; i < NODES; i++) {
    const name = `n${i + 1}`;
    const httpAddress = `127.0.0.1:${ports[i * 3 + 2]}`;
    const args = [
      "--import", "tsx", CLI,
      "--name", name,
      "--data-dir", join(dir, name),
      "--listen-client", `127.0.0.1:${ports[i * 3]}`,
      "--listen-peer", `127.0.0.1:${ports[i * 3 + 1]}`,
      "--listen-http", httpAddress,
      "--initial-cluster", initialCluster,
      "--initial-shards", String(SHARDS),
      "--replicas", "3",
      "--tick-ms", String(TICK_MS),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.pipe(createWriteStream(join(dir, `${name}.log`)));
    child.on("exit", (code, signal) => {
      if (!stopping) console.error(`${name} exited early (code ${code}, signal ${signal}); see ${join(dir, `${name}.log`)}`);
    });
    children.push({ name, process: child, httpAddress });
  }
  const stop = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
            child.process.once("exit", () => resolve());
            child.process.kill("SIGTERM");
          }),
      ),
    );
  };

  let failed = true;
  try {
    const deadline = performance.now() + STARTUP_TIMEOUT_MS;
    let lastReport = performance.now();
    for (;;) {
      const states = await Promise.all(children.map(healthy));
      if (states.every(Boolean)) break;
      if (children.some((c) => c.process.exitCode !== null)) throw new Error("a node exited during startup");
      if (performance.now() > deadline) throw new Error(`not every shard had a leader on every node after ${STARTUP_TIMEOUT_MS} ms`);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        const leaderless = await Promise.all(children.map((c) => metric(c, "shardkv_shards_without_leader").catch(() => undefined)));
        console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: shards without a leader per node: ${leaderless.map((n) => n ?? "not up").join(", ")}`);
      }
      await sleep(200);
    }
    const startupMs = performance.now() - started;
    console.log(`startup: every shard has a leader on every node after ${(startupMs / 1000).toFixed(1)} s`);
    await sleep(SETTLE_SECONDS * 1000);

    const before = children.map((c) => cpuSeconds(c.process.pid!, ticksPerSecond));
    const windowStarted = performance.now();
    await sleep(SECONDS * 1000);
    const wallSeconds = (performance.now() - windowStarted) / 1000;
    const percents = children.map((c, i) => ((cpuSeconds(c.process.pid!, ticksPerSecond) - before[i]!) / wallSeconds) * 100);
    for (const [i, child] of children.entries()) {
      const leads = await metric(child, "shardkv_shard_leaders");
      const quiesced = await metric(child, "shardkv_shards_quiesced");
      const rss = await metric(child, "process_resident_memory_bytes");
      console.log(
        `${child.name}: ${percents[i]!.toFixed(2)}% of one core over ${wallSeconds.toFixed(1)} s idle; leads ${leads} shards` +
          `${quiesced === undefined ? "" : `, ${quiesced} quiesced`}; RSS ${rss === undefined ? "?" : Math.round(rss / 2 ** 20)} MiB`,
      );
    }
    const max = Math.max(...percents);
    console.log(JSON.stringify({ idle_cpu_percent_max: Number(max.toFixed(2)), shards: SHARDS }));
    failed = false;
  } finally {
    await stop();
    // A failed run keeps the nodes' logs and data to look at.
    if (failed || process.env["BENCH_KEEP_DIR"] !== undefined) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
