// The nemeses: each injects one fault at a time into the real processes, holds it, and heals it.
//   kill          SIGKILL a node (a shard leader more often than not), restart it from its files
//   pause         SIGSTOP a node (a leader more often) for 1.5 to 3 election timeouts, then SIGCONT;
//                 half the time it is also cut off from the others until an election timeout after it woke
//   partition     cut the network (through each node's --test-faults file): a random minority, the
//                 busiest leader alone, or a bridge (two sides that only one node hears both of)
//   clock         every node's clock (tick and wall) off by up to ±2.5% (within the lease's drift
//                 bound), every node's wall clock stepped back by up to 3 s (offsets of seconds between
//                 nodes), while the busiest leader is cut off now and then so that leases change hands
//   clock-beyond  as clock, but the leader's tick clock at half speed and its wall clock at triple, the
//                 others' ticks at double and their wall clocks stepped forward 1 to 4 s: beyond the
//                 bound, where stale lease reads and leases expiring while kept alive are possible
//                 (not in "all", not in CI)
//   restart-all   SIGKILL every node at once and restart them all
// What a nemesis did is logged as one line per fault, with its time.

import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as sk from "../../proto/shardkv_types.js";
import type { ProcessCluster, ProcessNode } from "../support/process_cluster.js";
import { call, type NodeClients, now, sleep } from "./clients.js";

export const NEMESES = ["kill", "pause", "partition", "clock", "restart-all", "clock-beyond"] as const;
export type NemesisName = (typeof NEMESES)[number];
/** What `--nemesis all` runs: every nemesis whose faults stay within the store's stated assumptions. */
export const SAFE_NEMESES: readonly NemesisName[] = ["kill", "pause", "partition", "clock", "restart-all"];

export interface FaultSpec {
  dropTo?: number[];
  dropFrom?: number[];
  tickRate?: number;
  /** The node's wall clock offset (ms): a change steps its clock by the difference (cli/test_faults.ts). */
  clockOffsetMs?: number;
  clockRate?: number;
}

/**
 * How far the `clock` nemesis runs clocks off real time (both ways): inside the lease's drift bound
 * (clockDriftTicks 2 of 10, about 5.8%). A lease renewed at real time r then lives at least until
 * r + TTL / (1 + CLOCK_SKEW_MAX) of real time on any leader: what keep_alive.ts counts on.
 */
export const CLOCK_SKEW_MAX = 0.025;
/** The `clock` nemesis steps wall clocks back by up to this much per fault. */
const CLOCK_STEP_BACK_MS_MAX = 3_000;

export interface NemesisContext {
  readonly cluster: ProcessCluster;
  readonly clients: readonly NodeClients[];
  readonly random: () => number;
  /** One Raft tick of the nodes, in ms (the election timeout is 10 to 20 ticks). */
  readonly tickMs: number;
  /** Each fault injected: when (performance.now() ms) and what. */
  readonly faults: { atMs: number; what: string }[];
  /**
   * Each node's wall clock offset (ms), kept through every other fault and heal until `healClocks`:
   * setting it back to 0 while the workloads run would step clocks forward, and a leader whose clock
   * jumps forward expires its leases early (the store measures them on its wall clock).
   */
  readonly clockOffsetsMs: Map<ProcessNode, number>;
}

/** The --test-faults file of a node (in the cluster's dir). */
export function faultsFile(dir: string, name: string): string {
  return join(dir, `faults-${name}.json`);
}

export function setFaults(ctx: NemesisContext, node: ProcessNode, spec: FaultSpec): void {
  const path = faultsFile(ctx.cluster.dir, node.name);
  writeFileSync(`${path}.tmp`, JSON.stringify(spec));
  renameSync(`${path}.tmp`, path);
}

/** The nodes poll their files every 50 ms: wait a little more for a change to be seen by all. */
const FAULT_FILE_SEEN_MS = 120;

/** Writes every node's faults; a node's wall clock offset stays as `ctx.clockOffsetsMs` has it. */
async function setAllFaults(ctx: NemesisContext, specs: ReadonlyMap<ProcessNode, FaultSpec>): Promise<void> {
  for (const node of ctx.cluster.nodes) {
    const offsetMs = ctx.clockOffsetsMs.get(node) ?? 0;
    setFaults(ctx, node, { ...specs.get(node), ...(offsetMs === 0 ? {} : { clockOffsetMs: offsetMs }) });
  }
  await sleep(FAULT_FILE_SEEN_MS);
}

/**
 * Heals everything but the wall clocks' offsets: no network fault, clocks at real rate, paused nodes
 * resumed, dead nodes restarted. `healClocks` sets the offsets back once the workloads stopped.
 */
export async function healAll(ctx: NemesisContext): Promise<void> {
  await setAllFaults(ctx, new Map());
  for (const node of ctx.cluster.nodes) ctx.cluster.resume(node);
  await Promise.all(ctx.cluster.nodes.filter((n) => n.process === undefined).map((n) => ctx.cluster.start(n)));
}

/** Every wall clock back to real time: a step forward for those the `clock` nemesis set back. */
export async function healClocks(ctx: NemesisContext): Promise<void> {
  if (ctx.clockOffsetsMs.size === 0) return;
  ctx.clockOffsetsMs.clear();
  await setAllFaults(ctx, new Map());
}

/** Shard leaders by node id, as the live nodes report them (the highest term's leader per shard). */
export async function leaderCounts(ctx: NemesisContext): Promise<Map<number, number>> {
  const best = new Map<number, { term: number; leader: number }>();
  await Promise.all(
    ctx.clients
      .filter((c) => c.node.process !== undefined)
      .map(async (c) => {
        const map = await call<sk.ShardMapResponse>((m, o, cb) => c.admin.ShardMap({}, m, o, cb), 1_000).catch(() => undefined);
        for (const shard of map?.shards ?? []) {
          const term = Number(shard.term);
          const leader = Number(shard.leader);
          if (leader === 0) continue;
          const seen = best.get(shard.id);
          if (seen === undefined || term > seen.term) best.set(shard.id, { term, leader });
        }
      }),
  );
  const counts = new Map<number, number>();
  for (const { leader } of best.values()) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  return counts;
}

/** A node to hurt: with probability 0.7 the one leading most shards, else any live node. */
async function victim(ctx: NemesisContext): Promise<ProcessNode | undefined> {
  const alive = ctx.cluster.nodes.filter((n) => n.process !== undefined);
  if (ctx.random() < 0.7) {
    const counts = [...(await leaderCounts(ctx)).entries()].sort((a, b) => b[1] - a[1]);
    const busiest = ctx.cluster.nodes[(counts[0]?.[0] ?? 0) - 1];
    if (busiest?.process !== undefined) return busiest;
  }
  return alive[Math.floor(ctx.random() * alive.length)];
}

const between = (ctx: NemesisContext, low: number, high: number): number => low + ctx.random() * (high - low);
const electionMs = (ctx: NemesisContext): number => 20 * ctx.tickMs;

function record(ctx: NemesisContext, what: string): void {
  ctx.faults.push({ atMs: now(), what });
}

/** One fault of the nemesis: injected, held, healed. */
export async function injectOnce(name: NemesisName, ctx: NemesisContext): Promise<void> {
  switch (name) {
    case "kill":
      return await killOnce(ctx);
    case "pause":
      return await pauseOnce(ctx);
    case "partition":
      return await partitionOnce(ctx);
    case "clock":
      return await clockOnce(ctx, false);
    case "clock-beyond":
      return await clockOnce(ctx, true);
    case "restart-all":
      return await restartAllOnce(ctx);
    default: {
      const never: never = name;
      throw new Error(`unknown nemesis ${String(never)}`);
    }
  }
}

async function killOnce(ctx: NemesisContext): Promise<void> {
  const node = await victim(ctx);
  if (node === undefined) return;
  record(ctx, `kill ${node.name}`);
  ctx.cluster.kill(node);
  await sleep(between(ctx, 300, 2 * electionMs(ctx)));
  await ctx.cluster.start(node);
  record(ctx, `restarted ${node.name}`);
}

async function pauseOnce(ctx: NemesisContext): Promise<void> {
  const node = await victim(ctx);
  if (node === undefined) return;
  const holdMs = between(ctx, 1.5, 3) * electionMs(ctx);
  // Half the time the frozen node is also cut off, and stays cut off for a while after it wakes: it
  // then hears of no newer leader, and only its own clock can tell it that its lease ran out.
  const isolate = ctx.random() < 0.5;
  record(ctx, `pause ${node.name} for ${Math.round(holdMs)} ms${isolate ? ", cut off" : ""}`);
  ctx.cluster.pause(node);
  if (isolate) await setAllFaults(ctx, cutSpecs(crossPairs([node], ctx.cluster.nodes.filter((n) => n !== node))));
  await sleep(holdMs);
  ctx.cluster.resume(node);
  record(ctx, `resumed ${node.name}`);
  if (isolate) {
    await sleep(electionMs(ctx));
    await setAllFaults(ctx, new Map());
    record(ctx, "healed the network");
  }
}

/** Symmetric cuts: every pair across `cuts` loses its messages both ways. */
function cutSpecs(pairs: readonly (readonly [ProcessNode, ProcessNode])[]): Map<ProcessNode, FaultSpec> {
  const specs = new Map<ProcessNode, { dropTo: number[]; dropFrom: number[] }>();
  const idOf = (node: ProcessNode): number => Number(node.name.slice(1));
  const of = (node: ProcessNode) => {
    let spec = specs.get(node);
    if (spec === undefined) specs.set(node, (spec = { dropTo: [], dropFrom: [] }));
    return spec;
  };
  for (const [a, b] of pairs) {
    of(a).dropTo.push(idOf(b));
    of(a).dropFrom.push(idOf(b));
    of(b).dropTo.push(idOf(a));
    of(b).dropFrom.push(idOf(a));
  }
  return specs;
}

function crossPairs(left: readonly ProcessNode[], right: readonly ProcessNode[]): [ProcessNode, ProcessNode][] {
  return left.flatMap((a) => right.map((b): [ProcessNode, ProcessNode] => [a, b]));
}

function shuffled<T>(ctx: NemesisContext, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(ctx.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function partitionOnce(ctx: NemesisContext): Promise<void> {
  const nodes = shuffled(ctx, ctx.cluster.nodes);
  const mode = ["halves", "leader", "bridge"][Math.floor(ctx.random() * 3)]!;
  let pairs: [ProcessNode, ProcessNode][];
  let what: string;
  if (mode === "leader") {
    const counts = [...(await leaderCounts(ctx)).entries()].sort((a, b) => b[1] - a[1]);
    const leader = ctx.cluster.nodes[(counts[0]?.[0] ?? 1) - 1]!;
    const rest = ctx.cluster.nodes.filter((n) => n !== leader);
    pairs = crossPairs([leader], rest);
    what = `isolate leader ${leader.name}`;
  } else if (mode === "bridge") {
    // The bridge hears both sides; the sides do not hear each other.
    const [bridge, ...others] = nodes;
    const half = Math.floor(others.length / 2);
    const left = others.slice(0, half);
    const right = others.slice(half);
    pairs = crossPairs(left, right);
    what = `bridge ${bridge!.name} between [${left.map((n) => n.name)}] and [${right.map((n) => n.name)}]`;
  } else {
    const minority = nodes.slice(0, Math.floor((nodes.length - 1) / 2));
    const majority = nodes.slice(minority.length);
    pairs = crossPairs(minority, majority);
    what = `partition [${minority.map((n) => n.name)}] | [${majority.map((n) => n.name)}]`;
  }
  record(ctx, what);
  await setAllFaults(ctx, cutSpecs(pairs));
  await sleep(between(ctx, 2, 4) * electionMs(ctx));
  await setAllFaults(ctx, new Map());
  record(ctx, "healed the network");
}

/**
 * Within the bound: each node's tick and wall clocks at one rate within ±CLOCK_SKEW_MAX (one
 * oscillator), and its wall clock stepped back by up to 3 s (never forward: see `clockOffsetsMs`), so
 * that nodes' wall clocks stand seconds apart when leases change hands. Beyond it: the leader's ticks
 * at half speed (its read lease outlives its term) and its wall clock at triple speed (its leases
 * expire before keep-alives sent every TTL/3 arrive); the others' ticks at double speed and their wall
 * clocks stepped 1 to 4 s forward (the leases they lead expire early), then stepped back at the end.
 */
async function clockOnce(ctx: NemesisContext, beyond: boolean): Promise<void> {
  const counts = [...(await leaderCounts(ctx)).entries()].sort((a, b) => b[1] - a[1]);
  const leader = ctx.cluster.nodes[(counts[0]?.[0] ?? 1) - 1]!;
  const specs = new Map<ProcessNode, FaultSpec>();
  for (const node of ctx.cluster.nodes) {
    const offsetMs = ctx.clockOffsetsMs.get(node) ?? 0;
    if (beyond) {
      const isLeader = node === leader;
      specs.set(node, isLeader ? { tickRate: 0.5, clockRate: 3 } : { tickRate: 2 });
      if (!isLeader) ctx.clockOffsetsMs.set(node, offsetMs + Math.round(between(ctx, 1_000, 4_000)));
      continue;
    }
    const rate = Math.round((1 + between(ctx, -CLOCK_SKEW_MAX, CLOCK_SKEW_MAX)) * 1000) / 1000;
    specs.set(node, { tickRate: rate, clockRate: rate });
    ctx.clockOffsetsMs.set(node, offsetMs - Math.round(between(ctx, 0, CLOCK_STEP_BACK_MS_MAX)));
  }
  const describe = (n: ProcessNode, s: FaultSpec): string => `${n.name} ticks×${s.tickRate} wall×${s.clockRate ?? 1} ${ctx.clockOffsetsMs.get(n) ?? 0} ms`;
  record(ctx, `clocks ${[...specs].map(([n, s]) => describe(n, s)).join(", ")}`);
  await setAllFaults(ctx, specs);
  await sleep(between(ctx, 1, 2) * electionMs(ctx));
  if (ctx.random() < 0.6) {
    // The leader alone, so that its lease must run out before another leader serves reads.
    const cut = cutSpecs(crossPairs([leader], ctx.cluster.nodes.filter((n) => n !== leader)));
    for (const [node, spec] of cut) cut.set(node, { ...spec, ...specs.get(node) });
    record(ctx, `isolate leader ${leader.name} under skewed clocks`);
    await setAllFaults(ctx, cut);
    await sleep(between(ctx, 2, 4) * electionMs(ctx));
    await setAllFaults(ctx, specs);
    record(ctx, "healed the network");
  }
  await sleep(between(ctx, 1, 2) * electionMs(ctx));
  // Within the bound the offsets stay (setting them back is a step forward); beyond it they go back.
  if (beyond) ctx.clockOffsetsMs.clear();
  await setAllFaults(ctx, new Map());
  record(ctx, beyond ? "clocks back to real time" : "clocks back to real rate, wall clock offsets kept");
}

async function restartAllOnce(ctx: NemesisContext): Promise<void> {
  record(ctx, "kill every node");
  for (const node of ctx.cluster.nodes) ctx.cluster.kill(node);
  await sleep(between(ctx, 200, 1000));
  await Promise.all(ctx.cluster.nodes.map((node) => ctx.cluster.start(node)));
  record(ctx, "restarted every node");
  // Up for a while before the next one: a whole-cluster restart takes seconds, the workloads need time too.
  await sleep(between(ctx, 2, 4) * electionMs(ctx));
}
