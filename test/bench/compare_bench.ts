// `npm run bench:compare`: shardkv against a real etcd on this machine, in the same run. It starts a
// 3-member etcd (Debian's etcd-server; nothing is installed here) and a 3-node shardkv, each with fresh
// data dirs on the same disk, and runs the same `kvctl bench` load (etcd's KV API) against both,
// alternating cell by cell, over put, linearizable get, serializable get and mixed, with 1, 64 and 256
// clients. Before the cells it runs the single-client load against a server that does nothing
// (noop_kv_server.ts): the machine's floor, which the single-client figures can only be read against.
// It prints one table (throughput, p50/p99, ratio) and, for the cells that write, what the
// members' /metrics counted (fsyncs, and shardkv's Readies and Raft messages, per operation); writes
// both as Markdown to test/bench/results/ with the date and machine, and puts them in the README
// between its markers.
//
//   npm run bench:compare -- --rounds 3 --duration 10 --keys 10000 --clients 1,64,256 --ops put,get,sget,mixed
//
// Every cell runs --rounds times, a round being one pass over all cells: the table shows each
// system's medians and the range of the rounds' ratios, since one 10 s sample on a shared VM can be
// 25% off the next.
//
// shardkv runs as the Procfile runs it, its leaders packed on one node (--leader-placement pack: the
// members share this machine's cores); --leader-placement spread measures the multi-machine default.
//
// The servers and kvctl run from dist/ (the script builds first): published figures come from the
// code as it ships, not through a TypeScript loader.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { diskDir } from "../support/disk_dir.js";
import { etcdBinary, etcdVersion, launchNoopKvServer, projectRoot, type ServerCluster, startEtcd, startShardkv } from "./bench_processes.js";
import {
  type BenchFigures,
  batchingTable,
  type Cell,
  type CellFigures,
  cellOfRounds,
  countersGained,
  type Machine,
  markdownReport,
  markdownTable,
  ratio,
  type ServerCounters,
  serverCounters,
  type Settings,
  targetVerdicts,
  withLatestTable,
} from "./compare_table.js";
import type { LeaderPlacement } from "../../router/leader_balance.js";

const { values: flags } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    keys: { type: "string", default: "10000" },
    clients: { type: "string", default: "1,64,256" },
    ops: { type: "string", default: "put,get,sget,mixed" },
    "value-size": { type: "string", default: "256" },
    conns: { type: "string", default: "8" },
    shards: { type: "string", default: "8" },
    "leader-placement": { type: "string", default: "pack" },
    "no-readme": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});

const ROOT = projectRoot();
const DIST_CLI = join(ROOT, "dist", "cli");
const STARTUP_TIMEOUT_MS = 60_000;
const WARM_UP_S = 3;

function placement(text: string): LeaderPlacement {
  if (text !== "spread" && text !== "pack") throw new Error(`--leader-placement ${text}: expected spread or pack`);
  return text;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} ${text}: expected a positive whole number`);
  return value;
}

/** Every member's /metrics, summed: the fsyncs and (shardkv's) Raft batching counted so far. */
async function scrapeCounters(cluster: ServerCluster): Promise<ServerCounters> {
  const texts = await Promise.all(
    cluster.members.map(async (member) => {
      const response = await fetch(`http://${member.httpAddress}/metrics`, { signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) throw new Error(`${cluster.system} member ${member.name}: GET /metrics answered ${response.status}`);
      return response.text();
    }),
  );
  return serverCounters(texts);
}

/** One `kvctl bench` run against `endpoints`, its JSON report read from stdout. */
async function kvctl(endpoints: readonly string[], what: string, op: string, clients: number, durationS: number, settings: Settings, prefill: boolean): Promise<BenchFigures> {
  const args = [
    join(DIST_CLI, "kvctl.js"),
    "bench",
    "--endpoints", endpoints.join(","),
    "--op", op,
    "--clients", String(clients),
    "--conns", String(Math.min(clients, settings.conns)),
    "--keys", String(settings.keys),
    "--value-size", String(settings.valueSize),
    "--duration", `${durationS}s`,
    "--command-timeout", "10s",
    "-o", "json",
    ...(prefill ? [] : ["--no-prefill"]),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  if (code !== 0) throw new Error(`kvctl bench --op ${op} --clients ${clients} against ${what} exited ${code}:\n${stderr}${stdout}`);
  return JSON.parse(stdout.slice(stdout.indexOf("{"))) as BenchFigures;
}

/** One `kvctl bench` run against `cluster`, with the servers' CPU time and counters over it. */
async function kvctlBench(cluster: ServerCluster, op: string, clients: number, durationS: number, settings: Settings, prefill: boolean): Promise<CellFigures> {
  // Scraped outside the CPU window: a scrape costs the servers CPU that no operation asked for.
  const countersBefore = await scrapeCounters(cluster);
  const cpuBefore = cluster.cpuSeconds();
  const figures = await kvctl(cluster.endpoints, cluster.system, op, clients, durationS, settings, prefill);
  const cpuMs = (cluster.cpuSeconds() - cpuBefore) * 1000;
  const counters = countersGained(countersBefore, await scrapeCounters(cluster));
  return { ...figures, cpu_ms_per_op: cpuMs / Math.max(1, figures.ops + figures.errors), counters };
}

/**
 * The machine's floor for one client: the same single-client load against a server that answers at
 * once (noop_kv_server.ts), run as the nodes are, while both systems idle.
 */
async function floorForOneClient(dir: string, settings: Settings): Promise<BenchFigures> {
  const server = await launchNoopKvServer(dir, join(ROOT, "dist", "test", "bench", "noop_kv_server.js"), settings.valueSize, STARTUP_TIMEOUT_MS);
  try {
    return await kvctl([server.address], "the no-op server", "get", 1, settings.durationS, settings, false);
  } finally {
    await server.stop();
  }
}

function machine(etcd: string, shardkvMalloc: string): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim() !== "") commit += " with local changes";
  } catch {
    // not a git checkout: the figures still stand, without a commit to name
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    etcd,
    commit,
    shardkvMalloc,
  };
}

const line = (figures: CellFigures): string =>
  `${Math.round(figures.ops_per_s)} ops/s, p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms, ${figures.cpu_ms_per_op.toFixed(2)} CPU ms/op${figures.errors > 0 ? `, ${figures.errors} errors` : ""}`;

async function main(): Promise<number> {
  const binary = etcdBinary();
  if (binary === undefined) {
    console.error("bench:compare needs etcd: install Debian's etcd-server (apt-get install etcd-server), or set ETCD_BIN to an etcd binary.");
    return 2;
  }
  if (!existsSync(join(DIST_CLI, "kvctl.js"))) {
    console.error("bench:compare runs the built servers: run `npm run build` first (npm run bench:compare does).");
    return 2;
  }
  const settings: Settings = {
    durationS: positive("duration", flags.duration),
    rounds: positive("rounds", flags.rounds),
    keys: positive("keys", flags.keys),
    valueSize: positive("value-size", flags["value-size"]),
    conns: positive("conns", flags.conns),
    shards: positive("shards", flags.shards),
    leaderPlacement: placement(flags["leader-placement"]),
  };
  const clientCounts = flags.clients.split(",").map((c) => positive("clients", c));
  const ops = flags.ops.split(",");
  const dir = diskDir("shardkv-bench-compare-");

  const etcd = await startEtcd(join(dir, "etcd"), binary, 3);
  const shardkv = await startShardkv(join(dir, "shardkv"), {
    nodes: 3,
    shards: settings.shards,
    replicas: 3,
    tickMs: 100,
    cli: join(DIST_CLI, "shardkv.js"),
    nodeArgs: [],
    leaderPlacement: settings.leaderPlacement,
  });
  const systems = [etcd, shardkv] as const;
  let failed = true;
  try {
    await Promise.all(systems.map((s) => s.healthy(STARTUP_TIMEOUT_MS)));
    const host = machine(etcdVersion(binary), [...new Set(shardkv.mallocs())].join("/"));
    console.log(`bench:compare: etcd ${host.etcd} vs shardkv ${host.commit} (malloc: ${host.shardkvMalloc}), ${host.cores} cores, data in ${dir}`);
    for (const system of systems) {
      // Warm-up, not reported: JIT, connections, LevelDB's first files, shardkv's leader balance.
      await kvctlBench(system, "put", 64, WARM_UP_S, settings, false);
    }
    const floor = await floorForOneClient(join(dir, "noop"), settings);
    console.log(`  floor, get × 1 against a server that does nothing: ${Math.round(floor.ops_per_s)} ops/s, p50 ${floor.p50_ms} ms, p99 ${floor.p99_ms} ms`);
    const prefilled = new Set<ServerCluster>();
    // Every cell once per round, round after round: a VM whose speed drifts over minutes moves every
    // cell's rounds apart instead of one cell's figures.
    const runs = new Map<string, { op: string; clients: number; etcd: CellFigures[]; shardkv: CellFigures[] }>();
    for (let round = 1; round <= settings.rounds; round++) {
      let turn = round;
      for (const op of ops) {
        for (const clients of clientCounts) {
          // Alternate who goes first, from cell to cell and from round to round for the same cell, so
          // that neither always runs on a machine the other just warmed or tired.
          const order = turn++ % 2 === 1 ? systems : ([shardkv, etcd] as const);
          const key = `${op}×${clients}`;
          const cellRuns = runs.get(key) ?? { op, clients, etcd: [], shardkv: [] };
          runs.set(key, cellRuns);
          for (const system of order) {
            if (op !== "put" && !prefilled.has(system)) {
              // Its own run, not reported, so that no cell's time or CPU holds the prefill's writes.
              await kvctlBench(system, "sget", 1, 1, settings, true);
              prefilled.add(system);
            }
            const result = await kvctlBench(system, op, clients, settings.durationS, settings, false);
            console.log(`  round ${round}, ${op} × ${clients} ${system.system}: ${line(result)}`);
            cellRuns[system.system].push(result);
          }
          console.log(`  round ${round}, ${op} × ${clients}: shardkv / etcd = ${ratio({ etcd: cellRuns.etcd.at(-1)!, shardkv: cellRuns.shardkv.at(-1)! }).toFixed(2)}`);
        }
      }
    }
    const cells: Cell[] = [...runs.values()].map((r) => cellOfRounds(r.op, r.clients, r.etcd, r.shardkv));
    const report = markdownReport(cells, host, settings, floor);
    console.log(`\n${markdownTable(cells)}\n\n${targetVerdicts(cells, floor).join("\n")}\n\n${batchingTable(cells) ?? ""}`);
    const results = join(ROOT, "test", "bench", "results");
    mkdirSync(results, { recursive: true });
    const file = join(results, `${host.date}-compare.md`);
    writeFileSync(file, report);
    console.log(`\nwrote ${file}`);
    if (!flags["no-readme"]) {
      const readmePath = resolve(ROOT, "README.md");
      const readme = readFileSync(readmePath, "utf8");
      const updated = withLatestTable(readme, report);
      if (updated !== readme) {
        writeFileSync(readmePath, updated);
        console.log("updated the table in README.md");
      }
    }
    console.log(JSON.stringify({ cells: cells.map((c) => ({ op: c.op, clients: c.clients, etcd_ops_per_s: c.etcd.ops_per_s, shardkv_ops_per_s: c.shardkv.ops_per_s, ratio: Number(ratio(c).toFixed(3)) })) }));
    failed = false;
  } finally {
    await Promise.all(systems.map((s) => s.stop()));
    if (failed || flags.keep) console.log(`kept ${dir} (logs of every member)`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

process.exitCode = await main();
