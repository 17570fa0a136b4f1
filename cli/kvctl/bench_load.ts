// The closed loop of `kvctl bench`: --clients workers, each with one request in flight at a time,
// shared round-robin over the --conns connections, each picking a key uniformly from --keys. Closed,
// so that the latency measured is the service time under that concurrency, never a queue inside kvctl;
// --rate only delays when a worker opens its next request. Also the prefill, which get/sget/mixed
// need so that reads find values of --value-size rather than measuring misses.

import { build, type Histogram } from "hdr-histogram-js";
import type { TokenBucket } from "./bench_rate.js";
import { statusName, type Target } from "./bench_target.js";

export const BENCH_OPS = ["put", "get", "sget", "mixed"] as const;
export type BenchOp = (typeof BENCH_OPS)[number];

/** `mixed`: this share of requests are linearizable gets, the rest puts (a read-mostly cache load). */
export const MIXED_GET_SHARE = 0.8;

export interface LoadPlan {
  readonly op: BenchOp;
  readonly clients: number;
  readonly durationMs: number;
  readonly keys: readonly Buffer[];
  readonly value: Buffer;
  readonly bucket: TokenBucket | undefined;
  readonly signal: AbortSignal;
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly ops: number;
  readonly errors: number;
}

export interface LoadOutcome {
  readonly elapsedMs: number;
  readonly interrupted: boolean;
  readonly latencyUs: Histogram;
  readonly errors: Map<string, number>;
}

/** `bench/0000042`: fixed width so keys sort in index order, and a prefix that `del bench/ --prefix` clears. */
export function benchKeys(prefix: string, count: number): Buffer[] {
  const width = String(Math.max(0, count - 1)).length;
  return Array.from({ length: count }, (_, i) => Buffer.from(`${prefix}${String(i).padStart(width, "0")}`));
}

/** Runs the load until --duration passes (or Ctrl-C), then waits for the requests in flight. */
export async function runLoad(plan: LoadPlan, targets: readonly Target[], onProgress: (progress: LoadProgress) => void): Promise<LoadOutcome> {
  const latencyUs = build({ numberOfSignificantValueDigits: 3 });
  const errors = new Map<string, number>();
  let errorCount = 0;
  const start = performance.now();
  const endAt = start + plan.durationMs;
  const done = (): boolean => plan.signal.aborted || performance.now() >= endAt;
  const { keys, value } = plan;

  const worker = async (index: number): Promise<void> => {
    const target = targets[index % targets.length]!;
    while (!done()) {
      if (plan.bucket !== undefined) {
        await plan.bucket.take();
        if (done()) return;
      }
      const key = keys[Math.floor(Math.random() * keys.length)]!;
      const write = plan.op === "put" || (plan.op === "mixed" && Math.random() >= MIXED_GET_SHARE);
      const sent = performance.now();
      try {
        await (write ? target.put(key, value) : target.get(key, plan.op === "sget"));
        latencyUs.recordValue(Math.max(1, Math.round((performance.now() - sent) * 1000)));
      } catch (error) {
        const status = statusName(error);
        errors.set(status, (errors.get(status) ?? 0) + 1);
        errorCount += 1;
      }
    }
  };

  const timer = setInterval(() => onProgress({ elapsedMs: performance.now() - start, ops: latencyUs.totalCount, errors: errorCount }), 200);
  try {
    await Promise.all(Array.from({ length: plan.clients }, (_, i) => worker(i)));
  } finally {
    clearInterval(timer);
  }
  const elapsedMs = performance.now() - start;
  onProgress({ elapsedMs, ops: latencyUs.totalCount, errors: errorCount });
  return { elapsedMs, interrupted: plan.signal.aborted, latencyUs, errors };
}

/** Tries of one prefill batch: an election or a leader transfer (just after a cluster starts) is UNAVAILABLE for a moment. */
const PREFILL_TRIES = 5;
const PREFILL_RETRY_MS = 200;

/**
 * Writes every key once before reads are measured, a few batches in flight per connection (a
 * connection takes at most 1024 calls in flight by default). A batch that fails UNAVAILABLE or
 * DEADLINE_EXCEEDED is written again (the same value: writing it twice changes nothing a read
 * measures); any other failure, or one that lasts, stops the run (rejects): reads of a half-written
 * keyspace would measure something else than was asked.
 */
export async function prefill(
  keys: readonly Buffer[],
  value: Buffer,
  targets: readonly Target[],
  signal: AbortSignal,
  onProgress: (written: number) => void,
): Promise<number> {
  let next = 0;
  let written = 0;
  const worker = async (index: number): Promise<void> => {
    const target = targets[index % targets.length]!;
    while (next < keys.length && !signal.aborted) {
      const batch = keys.slice(next, next + target.batch);
      next += batch.length;
      for (let attempt = 1; ; attempt++) {
        try {
          await target.putMany(batch, value);
          break;
        } catch (error) {
          const status = statusName(error);
          if (attempt >= PREFILL_TRIES || (status !== "UNAVAILABLE" && status !== "DEADLINE_EXCEEDED") || signal.aborted) throw error;
          await new Promise((resolve) => setTimeout(resolve, PREFILL_RETRY_MS));
        }
      }
      written += batch.length;
      onProgress(written);
    }
  };
  await Promise.all(Array.from({ length: targets.length * 4 }, (_, i) => worker(i)));
  return written;
}
