// What `kvctl bench` prints at the end: throughput, latency percentiles from the HDR histogram, and
// errors by gRPC status, in the three output formats. Kept apart from the load so the numbers can be
// checked without a cluster, and so that scripts (bench:compare) get fields named with their units.

import type { Histogram } from "hdr-histogram-js";
import type { Views } from "./output.js";

/** What the run did, as the load loop measured it. */
export interface BenchResult {
  readonly op: string;
  readonly api: string;
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly conns: number;
  readonly keys: number;
  readonly valueSize: number;
  /** The --rate cap, if any. */
  readonly rateLimit: number | undefined;
  readonly prefilledKeys: number;
  readonly prefillMs: number;
  /** From the first request opened to the last one answered. */
  readonly elapsedMs: number;
  readonly interrupted: boolean;
  /** Latencies of the requests that succeeded, in microseconds. */
  readonly latencyUs: Histogram;
  /** Failed requests by gRPC status name (or the error's message when it had no status). */
  readonly errors: ReadonlyMap<string, number>;
}

/** The summary every format shows; JSON prints it as it is. */
export interface BenchSummary {
  readonly op: string;
  readonly api: string;
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly conns: number;
  readonly keys: number;
  readonly value_size_bytes: number;
  readonly rate_limit_per_s: number | null;
  readonly prefilled_keys: number;
  readonly prefill_s: number;
  readonly duration_s: number;
  readonly interrupted: boolean;
  readonly ops: number;
  readonly errors: number;
  readonly errors_by_status: Readonly<Record<string, number>>;
  readonly ops_per_s: number;
  readonly mean_ms: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly max_ms: number;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
/** Microseconds to milliseconds, to the microsecond. */
const ms = (us: number): number => round(us / 1000, 3);

export function summarize(result: BenchResult): BenchSummary {
  const h = result.latencyUs;
  const ops = h.totalCount;
  const empty = ops === 0;
  // A percentile is its bucket's highest value, which can pass the largest value recorded: cap it there.
  const at = (percentile: number): number => (empty ? 0 : ms(Math.min(h.getValueAtPercentile(percentile), h.maxValue)));
  const errorsByStatus = Object.fromEntries([...result.errors.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return {
    op: result.op,
    api: result.api,
    endpoints: result.endpoints,
    clients: result.clients,
    conns: result.conns,
    keys: result.keys,
    value_size_bytes: result.valueSize,
    rate_limit_per_s: result.rateLimit ?? null,
    prefilled_keys: result.prefilledKeys,
    prefill_s: round(result.prefillMs / 1000, 3),
    duration_s: round(result.elapsedMs / 1000, 3),
    interrupted: result.interrupted,
    ops,
    errors: [...result.errors.values()].reduce((sum, n) => sum + n, 0),
    errors_by_status: errorsByStatus,
    ops_per_s: result.elapsedMs > 0 ? round((ops * 1000) / result.elapsedMs, 1) : 0,
    mean_ms: empty ? 0 : ms(h.mean),
    p50_ms: at(50),
    p90_ms: at(90),
    p99_ms: at(99),
    p999_ms: at(99.9),
    max_ms: empty ? 0 : ms(h.maxValue),
  };
}

/** The summary in each format: JSON as it is, a two-column table for people, `name value` lines for scripts. */
export function benchViews(summary: BenchSummary): Views {
  const rows = (): [string, string][] => {
    const rate = summary.rate_limit_per_s === null ? "" : `, capped at ${summary.rate_limit_per_s}/s`;
    const errors = Object.entries(summary.errors_by_status).map(([status, n]): [string, string] => [`errors ${status}`, String(n)]);
    return [
      ["op", `${summary.op} (${summary.api} API)`],
      ["load", `${summary.clients} clients on ${summary.conns} connections${rate}`],
      ["keys", `${summary.keys} keys, ${summary.value_size_bytes}-byte values${summary.prefilled_keys > 0 ? `, ${summary.prefilled_keys} prefilled in ${summary.prefill_s} s` : ""}`],
      ["duration", `${summary.duration_s} s${summary.interrupted ? " (interrupted)" : ""}`],
      ["ops", String(summary.ops)],
      ["throughput", `${summary.ops_per_s} ops/s`],
      ["latency p50", `${summary.p50_ms} ms`],
      ["latency p90", `${summary.p90_ms} ms`],
      ["latency p99", `${summary.p99_ms} ms`],
      ["latency p99.9", `${summary.p999_ms} ms`],
      ["latency max", `${summary.max_ms} ms`],
      ["errors", String(summary.errors)],
      ...errors,
    ];
  };
  return {
    table: () => ({ header: ["METRIC", "VALUE"], rows: rows() }),
    json: () => summary,
    simple: () => {
      const { endpoints, errors_by_status, ...scalars } = summary;
      return [
        ...Object.entries(scalars).map(([name, value]) => `${name} ${String(value)}`),
        `endpoints ${endpoints.join(",")}`,
        ...Object.entries(errors_by_status).map(([status, n]) => `errors_${status} ${n}`),
      ];
    },
  };
}
