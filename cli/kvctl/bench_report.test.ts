// The bench report and the rate cap without a cluster: the percentiles and units a script reads from
// `--output json`, the table and simple forms, and the token bucket's arithmetic on a fake clock.

import { build } from "hdr-histogram-js";
import { describe, expect, test } from "vitest";
import { TokenBucket } from "./bench_rate.js";
import { type BenchResult, benchViews, summarize } from "./bench_report.js";

function result(latenciesUs: readonly number[], errors: [string, number][] = []): BenchResult {
  const latencyUs = build({ numberOfSignificantValueDigits: 3 });
  for (const us of latenciesUs) latencyUs.recordValue(us);
  return {
    op: "get",
    api: "etcd",
    endpoints: ["127.0.0.1:2379"],
    clients: 4,
    conns: 2,
    keys: 10,
    valueSize: 8,
    rateLimit: undefined,
    prefilledKeys: 10,
    prefillMs: 250,
    elapsedMs: 2000,
    interrupted: false,
    latencyUs,
    errors: new Map(errors),
  };
}

describe("bench report", () => {
  test("throughput, percentiles in ms and errors by status", () => {
    // 1000 requests: 1..1000 µs, so p50 is 0.5 ms, p99 0.99 ms and max 1 ms.
    const summary = summarize(result(Array.from({ length: 1000 }, (_, i) => i + 1), [["UNAVAILABLE", 3], ["DEADLINE_EXCEEDED", 1]]));
    expect(summary).toMatchObject({ ops: 1000, ops_per_s: 500, errors: 4, duration_s: 2, prefill_s: 0.25, rate_limit_per_s: null });
    expect(summary.errors_by_status).toEqual({ DEADLINE_EXCEEDED: 1, UNAVAILABLE: 3 });
    expect(summary.p50_ms).toBeCloseTo(0.5, 2);
    expect(summary.p90_ms).toBeCloseTo(0.9, 2);
    expect(summary.p99_ms).toBeCloseTo(0.99, 2);
    expect(summary.p999_ms).toBeCloseTo(0.999, 2);
    expect(summary.max_ms).toBeCloseTo(1, 2);
    expect(summary.mean_ms).toBeCloseTo(0.5005, 2);
  });

  test("no percentile passes the largest latency recorded", () => {
    // A percentile is the top of its bucket (253,823 µs here, seen in a run), above the value itself.
    const summary = summarize(result(Array.from({ length: 999 }, () => 1000).concat([253_756])));
    expect(summary.p999_ms).toBeLessThanOrEqual(summary.max_ms);
    expect(summary.max_ms).toBeCloseTo(253.756, 0);
  });

  test("a run with no successful request reports zeros, not NaN", () => {
    const summary = summarize(result([], [["UNAVAILABLE", 7]]));
    expect(summary).toMatchObject({ ops: 0, ops_per_s: 0, p50_ms: 0, p99_ms: 0, max_ms: 0, mean_ms: 0, errors: 7 });
    for (const value of Object.values(summary)) if (typeof value === "number") expect(Number.isFinite(value)).toBe(true);
  });

  test("the three formats", () => {
    const views = benchViews(summarize(result([1000, 2000, 3000], [["UNAVAILABLE", 2]])));
    const { header, rows } = views.table();
    expect(header).toEqual(["METRIC", "VALUE"]);
    expect(rows).toContainEqual(["throughput", "1.5 ops/s"]);
    expect(rows).toContainEqual(["latency max", "3 ms"]);
    expect(rows).toContainEqual(["errors UNAVAILABLE", "2"]);
    expect(rows).toContainEqual(["load", "4 clients on 2 connections"]);
    expect(views.json()).toMatchObject({ ops: 3, p50_ms: 2, errors_by_status: { UNAVAILABLE: 2 } });
    const simple = views.simple();
    expect(simple).toContain("ops_per_s 1.5");
    expect(simple).toContain("errors_UNAVAILABLE 2");
    expect(simple).toContain("endpoints 127.0.0.1:2379");
  });
});

describe("token bucket", () => {
  test("starts empty and spaces tokens at the rate", () => {
    const bucket = new TokenBucket(100, 1, 0); // one token every 10 ms
    expect(bucket.reserve(0)).toBeCloseTo(10);
    expect(bucket.reserve(0)).toBeCloseTo(20); // queued behind the first
    expect(bucket.reserve(30)).toBeCloseTo(0);
  });

  test("saves up at most the burst while idle", () => {
    const bucket = new TokenBucket(1000, 5, 0);
    // A long idle spell: only 5 tokens are there, the sixth is due 1 ms later.
    const waits = Array.from({ length: 6 }, () => bucket.reserve(10_000));
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(waits[5]).toBeCloseTo(1);
  });

  test("over a long stretch, workers that wait for their token get the rate and no more", () => {
    const bucket = new TokenBucket(500, 10, 0);
    // Four workers with instant requests: each asks again the moment its last request is sent.
    const nextAsk = [0, 0, 0, 0];
    let sent = 0;
    for (;;) {
      const worker = nextAsk.indexOf(Math.min(...nextAsk));
      const sendAt = nextAsk[worker]! + bucket.reserve(nextAsk[worker]!);
      if (sendAt > 2000) break;
      sent += 1;
      nextAsk[worker] = sendAt;
    }
    // 500/s for 2 s, from an empty bucket.
    expect(sent).toBeGreaterThanOrEqual(999);
    expect(sent).toBeLessThanOrEqual(1001);
  });

  test("refuses a rate or burst that cannot work", () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 0, 0)).toThrow(RangeError);
  });
});
