// One fault run: the three workloads against a running cluster while a nemesis hurts it, then the
// faults healed and every checker run. A run that finds a violation writes its history (JSON lines,
// test/lin's format), the lock holders, the leases, the faults and every node's log to a folder under
// test/fault/failures/ and prints its path.

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type * as t from "../../proto/etcd_types.js";
import type * as sk from "../../proto/shardkv_types.js";
import { checkHistory, describeVerdict, type Verdict } from "../lin/index.js";
import { type ProcessCluster, startProcessCluster } from "../support/process_cluster.js";
import { call, connect, disconnect, type NodeClients, now, seededRandom, sleep } from "./clients.js";
import { checkLeasesGone, LeaseWorkload } from "./leases.js";
import { checkLocks, staleGrants } from "./lock_check.js";
import { LockWorkload } from "./locks.js";
import { faultsFile, healAll, healClocks, injectOnce, type NemesisContext, type NemesisName } from "./nemesis.js";
import { RecipeLockWorkload } from "./recipe_locks.js";
import { RegisterWorkload } from "./registers.js";

export const FAILURES_DIR = resolve(import.meta.dirname, "failures");

export interface FaultCluster {
  readonly cluster: ProcessCluster;
  readonly clients: NodeClients[];
  readonly tickMs: number;
  readonly shards: number;
  stop(): Promise<void>;
}

/** Real processes, each with a --test-faults file in the cluster's dir (absent until a nemesis writes it). */
export async function startFaultCluster(nodes: number, shards: number, tickMs: number): Promise<FaultCluster> {
  const cluster = await startProcessCluster(nodes, {
    initialShards: shards,
    replicas: 3,
    tickMs,
    extraArgs: (name, dir) => [`--test-faults=${faultsFile(dir, name)}`],
  });
  const clients = connect(cluster.nodes);
  return {
    cluster,
    clients,
    tickMs,
    shards,
    async stop() {
      for (const node of cluster.nodes) cluster.resume(node);
      disconnect(clients);
      await cluster.stop();
    },
  };
}

export interface RunOptions {
  readonly nemesis: NemesisName;
  readonly durationMs: number;
  readonly seed: number;
  /** Prints progress lines. */
  readonly log?: (line: string) => void;
  /** Write the history and the logs even when the run passed. */
  readonly keep?: boolean;
}

export interface RunSummary {
  readonly nemesis: NemesisName;
  readonly seed: number;
  readonly durationMs: number;
  readonly ops: { ok: number; fail: number; unknown: number };
  /** Holders of etcd's v3lock Lock service (locks.ts). */
  readonly locks: LockWorkload["counts"] & { refusedByFence: number; staleGrants: number };
  /** Holders of the etcd3 npm client's lock recipe (recipe_locks.ts). */
  readonly recipeLocks: RecipeLockWorkload["counts"] & { refusedByFence: number; staleGrants: number };
  readonly leases: LeaseWorkload["counts"] & { leases: number };
  readonly faults: number;
  /** The most frequent failed calls of the registers workload, "count× status: message". */
  readonly errors: string[];
  readonly linearizability: string;
  readonly checkMs: number;
  readonly violations: string[];
  /** Where the history and logs went, when the run failed. */
  readonly failureDir: string | undefined;
}

export async function runFaults(fc: FaultCluster, options: RunOptions): Promise<RunSummary> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const prefix = `${options.nemesis}-${options.seed}-${Date.now().toString(36)}`;
  const { clients, cluster } = fc;
  const ctx: NemesisContext = { cluster, clients, random, tickMs: fc.tickMs, faults: [], clockOffsetsMs: new Map() };
  await ready(clients);
  const registers = new RegisterWorkload(clients, { prefix: `${prefix}/reg`, shards: fc.shards, keysPerShard: 2, clients: 2 * clients.length, opTimeoutMs: 5_000, random });
  const locks = new LockWorkload(clients, { name: `${prefix}/lock`, clients: 3, ttlSeconds: 3, lockTimeoutMs: 8_000, holdMsMax: 150, random });
  // Another lock (another key, another hash tag): the recipe's key is not one of v3lock's waiters and
  // the recipe does not look at them, so the two kinds exclude only their own kind (see README.md).
  const recipeLocks = new RecipeLockWorkload(clients, { name: `{${prefix}/recipe-lock}`, clients: 3, ttlSeconds: 3, callTimeoutMs: 5_000, holdMsMax: 150, random });
  const leases = new LeaseWorkload(clients, { prefix: `${prefix}/lease`, clients: 2, keysPerLease: 3, ttlSeconds: 2, keepMsMax: 3_000, random });
  const startedMs = now();
  registers.start();
  locks.start();
  recipeLocks.start();
  leases.start();
  // Faults one after another, with a quiet spell between them so that the cluster recovers.
  while (now() - startedMs < options.durationMs) {
    await injectOnce(options.nemesis, ctx);
    await sleep(500 + random() * 1_000);
  }
  await healAll(ctx);
  log(`${options.nemesis}: ${ctx.faults.length} fault events in ${Math.round(now() - startedMs)} ms; healing`);
  await Promise.all([registers.stop(), locks.stop(), recipeLocks.stop(), leases.stop()]);
  // Wall clocks set back by the clock nemesis go forward only now, when no lease is kept alive.
  await healClocks(ctx);
  await ready(clients);
  const violations: string[] = [];
  const unreadable = await registers.finalReads(5_000);
  if (unreadable > 0) violations.push(`${unreadable} final reads failed after the faults healed`);

  const checkStartMs = now();
  const verdict: Verdict = checkHistory(registers.history);
  const checkMs = now() - checkStartMs;
  if (verdict.kind !== "ok") violations.push(`registers: ${describeVerdict(verdict)}`);
  violations.push(...checkLocks(locks.holdings, locks.resource.accepted).map((v) => `locks (v3lock): ${v}`));
  violations.push(...[...recipeLocks.violations, ...checkLocks(recipeLocks.holdings, recipeLocks.resource.accepted)].map((v) => `locks (etcd3 recipe): ${v}`));
  violations.push(...leases.violations.map((v) => `leases: ${v}`));
  // Grace: the TTL, extended by a whole TTL at a change of leader, plus elections and housekeeping.
  const leftovers = await checkLeasesGone(clients, leases.leases, now() + 2 * 2_000 + 40 * fc.tickMs + 3_000);
  violations.push(...leftovers.map((v) => `leases: ${v}`));
  const divergence = await converged(clients, 20_000);
  if (divergence !== undefined) violations.push(`replicas: ${divergence}`);

  const ops = { ok: 0, fail: 0, unknown: 0 };
  for (const op of registers.history) ops[op.status]++;
  const summary: RunSummary = {
    nemesis: options.nemesis,
    seed: options.seed,
    durationMs: Math.round(now() - startedMs),
    ops,
    locks: { ...locks.counts, refusedByFence: locks.resource.refused.length, staleGrants: staleGrants(locks.holdings) },
    recipeLocks: { ...recipeLocks.counts, refusedByFence: recipeLocks.resource.refused.length, staleGrants: staleGrants(recipeLocks.holdings) },
    leases: { ...leases.counts, leases: leases.leases.length },
    faults: ctx.faults.length,
    errors: [...registers.errors].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([kind, n]) => `${n}× ${kind}`),
    linearizability: verdict.kind === "ok" ? `linearizable (${verdict.operations} ops over ${verdict.keys} keys)` : describeVerdict(verdict),
    checkMs: Math.round(checkMs),
    violations,
    failureDir: undefined,
  };
  if (violations.length === 0 && options.keep !== true) return summary;
  const dir = join(FAILURES_DIR, `${new Date().toISOString().replace(/[:.]/g, "-")}-${options.nemesis}-${options.seed}${violations.length === 0 ? "-passed" : ""}`);
  mkdirSync(dir, { recursive: true });
  // The checker's format (npm run lin -- history.jsonl), plus the node each call went to.
  writeFileSync(join(dir, "history.jsonl"), registers.history.map((op) => `${JSON.stringify(op)}\n`).join(""));
  const lockEvidence = (w: LockWorkload | RecipeLockWorkload) => ({ holdings: w.holdings, accepted: w.resource.accepted, refused: w.resource.refused });
  writeFileSync(join(dir, "locks.json"), JSON.stringify({ v3lock: lockEvidence(locks), recipe: lockEvidence(recipeLocks) }, null, 1));
  writeFileSync(join(dir, "leases.json"), JSON.stringify(leases.leases, null, 1));
  writeFileSync(join(dir, "faults.json"), JSON.stringify(ctx.faults, null, 1));
  for (const node of cluster.nodes) writeFileSync(join(dir, `${node.name}.log`), node.log);
  const failed = { ...summary, failureDir: dir };
  writeFileSync(join(dir, "summary.json"), JSON.stringify(failed, null, 1));
  log(`${options.nemesis}: ${violations.length} violations; history and logs in ${dir}`);
  for (const node of cluster.nodes) node.log = ""; // the next run's folder gets its own logs
  return failed;
}

/** Waits until a write and a linearizable read succeed through every node (each shard led again). */
async function ready(clients: readonly NodeClients[]): Promise<void> {
  const deadline = now() + 30_000;
  for (const c of clients) {
    for (;;) {
      try {
        await call((m, o, cb) => c.kv.Put({ key: Buffer.from(`ready/${c.id}`), value: Buffer.from("1") }, m, o, cb), 2_000);
        await call((m, o, cb) => c.kv.Range({ key: Buffer.from(`ready/${c.id}`) }, m, o, cb), 2_000);
        break;
      } catch (error) {
        if (now() > deadline) throw new Error(`node ${c.node.name} does not answer after the faults healed: ${String(error)}`);
        await sleep(200);
      }
    }
  }
}

/**
 * Every node's replicas reach the same state: the same Maintenance Hash (each node hashes its own
 * replicas) and, per shard, the same applied index on every node that holds it. Polls until
 * `waitMs`; returns what still differs then.
 */
async function converged(clients: readonly NodeClients[], waitMs: number): Promise<string | undefined> {
  const deadline = now() + waitMs;
  let last = "";
  for (;;) {
    try {
      const hashes = await Promise.all(clients.map((c) => call<t.HashResponse>((m, o, cb) => c.maintenance.Hash({}, m, o, cb), 3_000)));
      const maps = await Promise.all(clients.map((c) => call<sk.ShardMapResponse>((m, o, cb) => c.admin.ShardMap({}, m, o, cb), 3_000)));
      const applied = new Map<number, Set<string>>();
      for (const map of maps) for (const s of map.shards) if (s.held_here) (applied.get(s.id) ?? applied.set(s.id, new Set()).get(s.id)!).add(s.applied_index);
      const apart = [...applied].filter(([, set]) => set.size > 1).map(([id, set]) => `shard ${id} applied ${[...set].join("/")}`);
      const hashSet = new Set(hashes.map((h) => h.hash));
      if (hashSet.size === 1 && apart.length === 0) return undefined;
      last = `hashes ${hashes.map((h, i) => `${clients[i]!.node.name}=${h.hash}`).join(" ")}; ${apart.join(", ") || "applied indexes agree"}`;
    } catch (error) {
      last = `cannot ask every node: ${String(error)}`;
    }
    if (now() > deadline) return `not converged within ${waitMs} ms: ${last}`;
    await sleep(300);
  }
}

/** A run's summary in a few lines: operations, faults, the checkers' verdicts, and where the evidence went. */
export function formatSummary(s: RunSummary): string {
  const lines = [
    `== ${s.nemesis} (seed ${s.seed}): ${(s.durationMs / 1000).toFixed(1)} s, ${s.faults} fault events`,
    `   registers: ${s.ops.ok} ok, ${s.ops.fail} failed, ${s.ops.unknown} unknown; ${s.linearizability}; checked in ${s.checkMs} ms`,
    ...(s.errors.length === 0 ? [] : [`   register errors: ${s.errors.join("; ")}`]),
    `   v3lock locks: ${s.locks.acquired} acquired, ${s.locks.lockFailed} Lock calls failed, ${s.locks.refusedByFence} writes fenced off, ${s.locks.staleGrants} stale grants`,
    `   etcd3 recipe locks: ${s.recipeLocks.acquired} acquired, ${s.recipeLocks.busy} found held (try-lock), ${s.recipeLocks.acquireFailed} acquires failed, ` +
      `${s.recipeLocks.lostBeforeReadBack} lost before the read-back, ${s.recipeLocks.refusedByFence} writes fenced off, ${s.recipeLocks.staleGrants} stale grants`,
    `   leases: ${s.leases.leases} granted, ${s.leases.putsOk} keys put (${s.leases.putsUnknown} unknown), ${s.leases.revoked} revoked, ${s.leases.keptReads} reads while kept alive`,
    s.violations.length === 0 ? "   verdict: OK" : `   verdict: ${s.violations.length} VIOLATIONS (${s.failureDir}):\n${s.violations.map((v) => `   - ${v}`).join("\n")}`,
  ];
  return lines.join("\n");
}
