// The table `npm run bench:compare` prints and publishes: one row per cell (load and clients), each
// system's throughput and p50/p99, and the ratio shardkv / etcd. Kept apart from the runs so the
// figures and the verdicts on the targets can be checked without a cluster.

import type { LeaderPlacement } from "../../router/leader_balance.js";

/** What one `kvctl bench -o json` run reported (the fields used here; bench_report.ts has them all). */
export interface BenchFigures {
  readonly ops: number;
  readonly errors: number;
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

/**
 * What the servers' /metrics counted during a run, all members together: etcd's WAL fsyncs, and
 * shardkv's fsyncs and Raft batching (router/metrics.ts). A field is absent where no member counts it.
 */
export type ServerCounters = Partial<Record<"fsyncs" | "readies" | "entriesWritten" | "raftMessages", number>>;

const COUNTER_METRICS: Readonly<Record<keyof ServerCounters, readonly string[]>> = {
  fsyncs: ["etcd_disk_wal_fsync_duration_seconds_count", "shardkv_wal_fsync_duration_seconds_count"],
  readies: ["shardkv_raft_readies_total"],
  entriesWritten: ["shardkv_raft_entries_written_total"],
  raftMessages: ["shardkv_raft_messages_sent_total"],
};
const COUNTER_FIELDS = Object.keys(COUNTER_METRICS) as (keyof ServerCounters)[];

/**
 * A run's figures and the servers' CPU time per operation (all members together): throughput on a
 * shared 2-core machine says who wins, CPU per operation says why, and is steadier from run to run.
 */
export interface CellFigures extends BenchFigures {
  readonly cpu_ms_per_op: number;
  readonly counters?: ServerCounters;
}

export interface Cell {
  readonly op: string;
  readonly clients: number;
  /** Over several rounds: each system's rounds combined (combineRounds). */
  readonly etcd: CellFigures;
  readonly shardkv: CellFigures;
  /** shardkv / etcd in each round, in the order run; absent or one long for a single round. */
  readonly roundRatios?: readonly number[];
}

export interface Machine {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly etcd: string;
  readonly commit: string;
  /** What shardkv's nodes ran on (cli/malloc.ts): figures on the C library's malloc are not comparable. */
  readonly shardkvMalloc: string;
}

export interface Settings {
  readonly durationS: number;
  /** Times every cell ran, for each system. */
  readonly rounds: number;
  readonly keys: number;
  readonly valueSize: number;
  readonly shards: number;
  readonly conns: number;
  /** shardkv's --leader-placement. */
  readonly leaderPlacement: LeaderPlacement;
}

export const LOAD_NAMES: Readonly<Record<string, string>> = {
  put: "put",
  get: "get (linearizable)",
  sget: "get (serializable)",
  mixed: "mixed (80% get, 20% put)",
};

/** The loads that write: the batching table covers these. */
const WRITE_LOADS = new Set(["put", "mixed"]);

/** shardkv's throughput over etcd's; Infinity when etcd did nothing at all. */
export function ratio(cell: Pick<Cell, "etcd" | "shardkv">): number {
  return cell.etcd.ops_per_s === 0 ? Infinity : cell.shardkv.ops_per_s / cell.etcd.ops_per_s;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * One system's rounds of a cell as one: the median of each rate, latency and CPU figure (one slow
 * round of a noisy VM moves none of them), and the sums of the counts, so that counters per
 * operation stay exact.
 */
export function combineRounds(runs: readonly CellFigures[]): CellFigures {
  if (runs.length === 0) throw new RangeError("combineRounds needs at least one run");
  if (runs.length === 1) return runs[0]!;
  const sum = (pick: (run: CellFigures) => number): number => runs.reduce((total, run) => total + pick(run), 0);
  const counters: ServerCounters = {};
  for (const field of COUNTER_FIELDS) {
    if (runs.every((run) => run.counters?.[field] !== undefined)) counters[field] = sum((run) => run.counters![field]!);
  }
  return {
    ops: sum((run) => run.ops),
    errors: sum((run) => run.errors),
    ops_per_s: median(runs.map((run) => run.ops_per_s)),
    p50_ms: median(runs.map((run) => run.p50_ms)),
    p99_ms: median(runs.map((run) => run.p99_ms)),
    cpu_ms_per_op: median(runs.map((run) => run.cpu_ms_per_op)),
    ...(runs.some((run) => run.counters !== undefined) ? { counters } : {}),
  };
}

/** A cell from both systems' rounds, paired in the order run. */
export function cellOfRounds(op: string, clients: number, etcd: readonly CellFigures[], shardkv: readonly CellFigures[]): Cell {
  if (etcd.length !== shardkv.length) throw new RangeError(`${op}×${clients}: ${etcd.length} etcd rounds against ${shardkv.length} shardkv rounds`);
  return {
    op,
    clients,
    etcd: combineRounds(etcd),
    shardkv: combineRounds(shardkv),
    roundRatios: etcd.map((run, round) => ratio({ etcd: run, shardkv: shardkv[round]! })),
  };
}

const severalRounds = (cells: readonly Cell[]): boolean => cells.some((cell) => (cell.roundRatios?.length ?? 0) > 1);
const ratioRange = (cell: Cell): string => {
  const ratios = cell.roundRatios ?? [];
  return ratios.length === 0 ? "" : `${fixed(Math.min(...ratios), 2)}–${fixed(Math.max(...ratios), 2)}`;
};

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "∞");
const opsPerS = (figures: BenchFigures): string => Math.round(figures.ops_per_s).toLocaleString("en-US");
const latency = (figures: CellFigures): string => `${fixed(figures.p50_ms, 2)} / ${fixed(figures.p99_ms, 2)}`;
const cpu = (figures: CellFigures): string => fixed(figures.cpu_ms_per_op, 2);
const errors = (figures: CellFigures): string => (figures.errors === 0 ? "" : ` (${figures.errors} errors)`);

export function markdownTable(cells: readonly Cell[]): string {
  const rounds = severalRounds(cells);
  const lines = [
    "| load | clients | etcd ops/s | etcd p50 / p99 ms | etcd CPU ms/op | shardkv ops/s | shardkv p50 / p99 ms | shardkv CPU ms/op | shardkv / etcd |" +
      (rounds ? " per round |" : ""),
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + (rounds ? "---:|" : ""),
  ];
  for (const cell of cells) {
    lines.push(
      `| ${LOAD_NAMES[cell.op] ?? cell.op} | ${cell.clients} | ${opsPerS(cell.etcd)}${errors(cell.etcd)} | ${latency(cell.etcd)} | ${cpu(cell.etcd)} | ` +
        `${opsPerS(cell.shardkv)}${errors(cell.shardkv)} | ${latency(cell.shardkv)} | ${cpu(cell.shardkv)} | ${fixed(ratio(cell), 2)} |` +
        (rounds ? ` ${ratioRange(cell)} |` : ""),
    );
  }
  return lines.join("\n");
}

/** The sum of every sample of `name` (any labels) in a Prometheus text exposition; undefined when none. */
export function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum = (sum ?? 0) + Number(match[1]);
  return sum;
}

/** Counters read from each member's /metrics text, summed over the members. */
export function serverCounters(texts: readonly string[]): ServerCounters {
  const counters: ServerCounters = {};
  for (const field of COUNTER_FIELDS) {
    for (const text of texts) {
      for (const name of COUNTER_METRICS[field]) {
        const value = metricSum(text, name);
        if (value !== undefined) counters[field] = (counters[field] ?? 0) + value;
      }
    }
  }
  return counters;
}

/** What the counters gained between two readings; fields missing from either are left out. */
export function countersGained(before: ServerCounters, after: ServerCounters): ServerCounters {
  const gained: ServerCounters = {};
  for (const field of COUNTER_FIELDS) {
    const [from, to] = [before[field], after[field]];
    if (from !== undefined && to !== undefined) gained[field] = to - from;
  }
  return gained;
}

/**
 * Where the writes' fixed costs go, per cell with writes: fsyncs per operation on both systems, and
 * shardkv's Readies, WAL entries per Ready and Raft messages per operation (all members together).
 */
export function batchingTable(cells: readonly Cell[]): string | undefined {
  const rows = cells.filter((c) => WRITE_LOADS.has(c.op) && c.etcd.counters !== undefined && c.shardkv.counters !== undefined);
  if (rows.length === 0) return undefined;
  const perOp = (figures: CellFigures, count: number | undefined): string => (count === undefined ? "" : fixed(count / Math.max(1, figures.ops + figures.errors), 2));
  const lines = [
    "| load | clients | etcd fsyncs/op | shardkv fsyncs/op | shardkv Readies/op | shardkv WAL entries/Ready | shardkv Raft messages/op |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const cell of rows) {
    const counted = cell.shardkv.counters!;
    const { readies, entriesWritten } = counted;
    const entriesPerReady = readies === undefined || entriesWritten === undefined || readies === 0 ? "" : fixed(entriesWritten / readies, 2);
    lines.push(
      `| ${LOAD_NAMES[cell.op] ?? cell.op} | ${cell.clients} | ${perOp(cell.etcd, cell.etcd.counters?.fsyncs)} | ${perOp(cell.shardkv, counted.fsyncs)} | ` +
        `${perOp(cell.shardkv, readies)} | ${entriesPerReady} | ${perOp(cell.shardkv, counted.raftMessages)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The targets, each a line that says met or not: throughput at least etcd's in every cell of
 * 64 or more clients, p99 no worse there, and one client's linearizable-read p99 under 1 ms, set
 * beside the machine's floor for one client when it was measured.
 */
export function targetVerdicts(cells: readonly Cell[], floor?: BenchFigures): string[] {
  const loaded = cells.filter((c) => c.clients >= 64);
  const slower = loaded.filter((c) => ratio(c) < 1);
  const laterP99 = loaded.filter((c) => c.shardkv.p99_ms > c.etcd.p99_ms);
  const name = (c: Cell): string => `${c.op}×${c.clients}`;
  // Over several rounds, which shortfalls held in every round, and which only in the median.
  const always = severalRounds(cells) ? slower.filter((c) => (c.roundRatios ?? []).every((r) => r < 1)) : slower;
  const steadiness = always.length === slower.length ? "" : `; below in every round: ${always.length === 0 ? "none" : always.map(name).join(", ")}`;
  const lines = [
    slower.length === 0
      ? `met: throughput ≥ etcd's in all ${loaded.length} cells of 64+ clients`
      : `not met: throughput below etcd's in ${slower.length} of ${loaded.length} cells of 64+ clients (${slower.map(name).join(", ")}${steadiness})`,
    laterP99.length === 0
      ? `met: p99 no worse than etcd's in all ${loaded.length} cells of 64+ clients`
      : `not met: p99 worse than etcd's in ${laterP99.length} of ${loaded.length} cells of 64+ clients (${laterP99.map(name).join(", ")})`,
  ];
  const single = cells.find((c) => c.op === "get" && c.clients === 1);
  if (single !== undefined) {
    const beside = floor === undefined ? "" : `; a server that does nothing: ${fixed(floor.p99_ms, 3)} ms`;
    lines.push(`${single.shardkv.p99_ms < 1 ? "met" : "not met"}: one client's linearizable-read p99 is ${fixed(single.shardkv.p99_ms, 3)} ms (target < 1 ms${beside})`);
  }
  return lines;
}

/**
 * What one client's round trip costs on this machine before any server work: the same load against
 * noop_kv_server.ts, which answers every request at once.
 */
function floorLine(floor: BenchFigures): string {
  return (
    `Floor: one client against a server that does nothing (\`test/bench/noop_kv_server.ts\`: etcd's KV API, every Range answered at once, ` +
    `one process) gets ${opsPerS(floor)} ops/s at p50 / p99 ${fixed(floor.p50_ms, 2)} / ${fixed(floor.p99_ms, 2)} ms. ` +
    "That is the cost of one gRPC round trip between two processes on this machine, mostly waking an idle one: no server's single-client figures can be below it."
  );
}

export function markdownReport(cells: readonly Cell[], machine: Machine, settings: Settings, floor?: BenchFigures): string {
  return [
    `### shardkv vs etcd ${machine.etcd}, ${machine.date}`,
    "",
    `${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, shardkv ${machine.commit} on ${machine.shardkvMalloc === "libc" ? "the C library's malloc" : machine.shardkvMalloc}. ` +
      `Both systems: 3 members on loopback, fresh data dirs on the same disk. shardkv: ${settings.shards} shards × 3 replicas, ${placementText(settings.leaderPlacement)}. ` +
      `Load: \`kvctl bench\` through etcd's KV API, ${settings.durationS} s a cell, ${settings.keys.toLocaleString("en-US")} keys, ` +
      `${settings.valueSize}-byte values, up to ${settings.conns} connections over the 3 endpoints; the systems alternate cell by cell. ` +
      (settings.rounds > 1
        ? `${settings.rounds} rounds of every cell: each figure is the median over the rounds, and "per round" is the range of the rounds' own ratios. `
        : "") +
      "CPU ms/op: the servers' CPU time (all 3 members, user + system) over the operations done; the load generator shares the same cores.",
    "",
    markdownTable(cells),
    "",
    ...targetVerdicts(cells, floor).map((line) => `- ${line}`),
    "",
    ...(floor === undefined ? [] : [floorLine(floor), ""]),
    ...batchingLines(cells),
  ].join("\n");
}

function batchingLines(cells: readonly Cell[]): string[] {
  const table = batchingTable(cells);
  if (table === undefined) return [];
  return [
    "Batching in the cells with writes, from the members' /metrics (all 3 together, per operation): every member " +
      "writes and syncs each entry, so a Ready that carries few entries, and the Raft messages it sends, are fixed costs " +
      "spread over few operations.",
    "",
    table,
    "",
  ];
}

function placementText(placement: LeaderPlacement): string {
  return placement === "pack"
    ? "their leaders packed on one node (`--leader-placement pack`, as in the Procfile: the members share the machine's cores)"
    : "their leaders spread over the nodes (`--leader-placement spread`)";
}

export const README_START = "<!-- bench:compare:start -->";
export const README_END = "<!-- bench:compare:end -->";

/** The README with the text between the markers replaced; unchanged when the markers are missing. */
export function withLatestTable(readme: string, report: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return readme;
  return `${readme.slice(0, start + README_START.length)}\n${report}${readme.slice(end)}`;
}
