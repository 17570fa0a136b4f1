// The table `npm run bench:compare` prints and publishes: one row per cell (load and clients), each
// system's throughput and p50/p99, and the ratio shardkv / etcd. Kept apart from the runs so the
// figures and the verdicts on the targets can be checked without a cluster.

/** What one `kvctl bench -o json` run reported (the fields used here; bench_report.ts has them all). */
export interface BenchFigures {
  readonly ops: number;
  readonly errors: number;
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

/**
 * A run's figures and the servers' CPU time per operation (all members together): throughput on a
 * shared 2-core machine says who wins, CPU per operation says why, and is steadier from run to run.
 */
export interface CellFigures extends BenchFigures {
  readonly cpu_ms_per_op: number;
}

export interface Cell {
  readonly op: string;
  readonly clients: number;
  readonly etcd: CellFigures;
  readonly shardkv: CellFigures;
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
  readonly keys: number;
  readonly valueSize: number;
  readonly shards: number;
  readonly conns: number;
}

export const LOAD_NAMES: Readonly<Record<string, string>> = {
  put: "put",
  get: "get (linearizable)",
  sget: "get (serializable)",
  mixed: "mixed (80% get, 20% put)",
};

/** shardkv's throughput over etcd's; Infinity when etcd did nothing at all. */
export function ratio(cell: Cell): number {
  return cell.etcd.ops_per_s === 0 ? Infinity : cell.shardkv.ops_per_s / cell.etcd.ops_per_s;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "∞");
const opsPerS = (figures: CellFigures): string => Math.round(figures.ops_per_s).toLocaleString("en-US");
const latency = (figures: CellFigures): string => `${fixed(figures.p50_ms, 2)} / ${fixed(figures.p99_ms, 2)}`;
const cpu = (figures: CellFigures): string => fixed(figures.cpu_ms_per_op, 2);
const errors = (figures: CellFigures): string => (figures.errors === 0 ? "" : ` (${figures.errors} errors)`);

export function markdownTable(cells: readonly Cell[]): string {
  const lines = [
    "| load | clients | etcd ops/s | etcd p50 / p99 ms | etcd CPU ms/op | shardkv ops/s | shardkv p50 / p99 ms | shardkv CPU ms/op | shardkv / etcd |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const cell of cells) {
    lines.push(
      `| ${LOAD_NAMES[cell.op] ?? cell.op} | ${cell.clients} | ${opsPerS(cell.etcd)}${errors(cell.etcd)} | ${latency(cell.etcd)} | ${cpu(cell.etcd)} | ` +
        `${opsPerS(cell.shardkv)}${errors(cell.shardkv)} | ${latency(cell.shardkv)} | ${cpu(cell.shardkv)} | ${fixed(ratio(cell), 2)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The targets, each a line that says met or not: throughput at least etcd's in every cell of
 * 64 or more clients, p99 no worse there, and one client's linearizable-read p99 under 1 ms.
 */
export function targetVerdicts(cells: readonly Cell[]): string[] {
  const loaded = cells.filter((c) => c.clients >= 64);
  const slower = loaded.filter((c) => ratio(c) < 1);
  const laterP99 = loaded.filter((c) => c.shardkv.p99_ms > c.etcd.p99_ms);
  const name = (c: Cell): string => `${c.op}×${c.clients}`;
  const lines = [
    slower.length === 0
      ? `met: throughput ≥ etcd's in all ${loaded.length} cells of 64+ clients`
      : `not met: throughput below etcd's in ${slower.length} of ${loaded.length} cells of 64+ clients (${slower.map(name).join(", ")})`,
    laterP99.length === 0
      ? `met: p99 no worse than etcd's in all ${loaded.length} cells of 64+ clients`
      : `not met: p99 worse than etcd's in ${laterP99.length} of ${loaded.length} cells of 64+ clients (${laterP99.map(name).join(", ")})`,
  ];
  const single = cells.find((c) => c.op === "get" && c.clients === 1);
  if (single !== undefined) {
    lines.push(`${single.shardkv.p99_ms < 1 ? "met" : "not met"}: one client's linearizable-read p99 is ${fixed(single.shardkv.p99_ms, 3)} ms (target < 1 ms)`);
  }
  return lines;
}

export function markdownReport(cells: readonly Cell[], machine: Machine, settings: Settings): string {
  return [
    `### shardkv vs etcd ${machine.etcd}, ${machine.date}`,
    "",
    `${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, shardkv ${machine.commit} on ${machine.shardkvMalloc === "libc" ? "the C library's malloc" : machine.shardkvMalloc}. ` +
      `Both systems: 3 members on loopback, fresh data dirs on the same disk. shardkv: ${settings.shards} shards × 3 replicas. ` +
      `Load: \`kvctl bench\` through etcd's KV API, ${settings.durationS} s a cell, ${settings.keys.toLocaleString("en-US")} keys, ` +
      `${settings.valueSize}-byte values, up to ${settings.conns} connections over the 3 endpoints; the systems alternate cell by cell. ` +
      "CPU ms/op: the servers' CPU time (all 3 members, user + system) over the operations done; the load generator shares the same cores.",
    "",
    markdownTable(cells),
    "",
    ...targetVerdicts(cells).map((line) => `- ${line}`),
    "",
  ].join("\n");
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
