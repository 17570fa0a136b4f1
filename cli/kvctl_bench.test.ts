// `kvctl bench` end to end: the real command (a child process) loading three in-process nodes with
// four shards, for about a second per run with small numbers. Checks what a script relies on: the
// JSON report's counts and ordered percentiles, no errors on a healthy cluster for every op and both
// APIs, --rate holding throughput near the cap, and exit 3 with a reason when no endpoint answers.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, NodeCluster } from "../test/support/node_cluster.js";
import { runKvctl } from "../test/support/kvctl_process.js";
import type { BenchSummary } from "./kvctl/bench_report.js";

let cluster: NodeCluster;
let endpoints: string;

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 4, "bench");
  endpoints = cluster.nodes.map((node) => node.clientAddress).join(",");
});

afterAll(async () => {
  await cluster?.stop();
});

const SMALL = ["--clients", "8", "--conns", "2", "--keys", "200", "--value-size", "32", "-o", "json"];

async function bench(args: readonly string[], duration = "1s"): Promise<BenchSummary> {
  const result = await runKvctl(["bench", ...SMALL, "--duration", duration, ...args], { endpoints });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as BenchSummary;
}

describe("kvctl bench", () => {
  test("put, get, sget and mixed over the etcd API complete without errors and report ordered percentiles", async () => {
    // Distinct key prefixes: the runs go side by side, and each get-run prefills its own keys.
    const reports = await Promise.all(
      (["put", "get", "sget", "mixed"] as const).map((op) => bench(["--op", op, "--key-prefix", `bench-etcd-${op}/`])),
    );
    for (const report of reports) {
      expect(report.errors, JSON.stringify(report)).toBe(0);
      expect(report.ops).toBeGreaterThan(20);
      expect(report.ops_per_s).toBeGreaterThan(0);
      expect(report.p50_ms).toBeGreaterThan(0);
      expect(report.p50_ms).toBeLessThanOrEqual(report.p90_ms);
      expect(report.p90_ms).toBeLessThanOrEqual(report.p99_ms);
      expect(report.p99_ms).toBeLessThanOrEqual(report.p999_ms);
      expect(report.p999_ms).toBeLessThanOrEqual(report.max_ms);
      expect(report).toMatchObject({ api: "etcd", clients: 8, conns: 2, keys: 200, value_size_bytes: 32, errors_by_status: {} });
      expect(report.duration_s).toBeGreaterThanOrEqual(1);
      expect(report.duration_s).toBeLessThan(3);
    }
    expect(reports.map((r) => r.op)).toEqual(["put", "get", "sget", "mixed"]);
    expect(reports.map((r) => r.prefilled_keys)).toEqual([0, 200, 200, 200]);
  }, 20_000);

  test("the native API: puts, and gets of keys it prefilled with MultiPut", async () => {
    const [put, get] = await Promise.all([
      bench(["--op", "put", "--api", "native", "--key-prefix", "bench-native-put/"]),
      bench(["--op", "sget", "--api", "native", "--key-prefix", "bench-native-get/"]),
    ]);
    for (const report of [put, get]) {
      expect(report).toMatchObject({ api: "native", errors: 0 });
      expect(report.ops).toBeGreaterThan(20);
    }
    expect(get.prefilled_keys).toBe(200);
    // The prefilled keys are there, with values of --value-size.
    const read = await runKvctl(["get", "bench-native-get/199", "-o", "json"], { endpoints });
    expect(read.code).toBe(0);
    expect((JSON.parse(read.stdout) as { kvs: { value: string }[] }).kvs[0]!.value).toHaveLength(32);
  }, 20_000);

  test("--rate holds the throughput near the cap", async () => {
    const report = await bench(["--op", "sget", "--rate", "100", "--no-prefill", "--key-prefix", "bench-rate/"], "1.5s");
    expect(report.rate_limit_per_s).toBe(100);
    expect(report.prefilled_keys).toBe(0);
    expect(report.errors).toBe(0);
    expect(report.ops_per_s).toBeGreaterThan(80);
    expect(report.ops_per_s).toBeLessThanOrEqual(105);
  }, 20_000);

  test("no endpoint answering exits 3 and says why; a dead endpoint among live ones is skipped", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const [down, mixed] = await Promise.all([
      runKvctl(["bench", ...SMALL, "--duration", "1s", "--op", "put"], { endpoints: dead }),
      runKvctl(["bench", ...SMALL, "--duration", "1s", "--op", "put", "--key-prefix", "bench-skip/"], { endpoints: `${dead},${endpoints}` }),
    ]);
    expect(down.code).toBe(3);
    expect(down.stdout).toBe("");
    expect(down.stderr).toContain("no endpoint answered");
    expect(down.stderr).toContain(dead);
    expect(mixed.code).toBe(0);
    expect(mixed.stderr).toContain(`skipping endpoints that did not answer: ${dead}`);
    const report = JSON.parse(mixed.stdout) as BenchSummary;
    expect(report.endpoints).not.toContain(dead);
    expect(report.errors).toBe(0);
  }, 20_000);

  test("a bad flag exits 2 before anything is sent", async () => {
    const [clients, duration] = await Promise.all([
      runKvctl(["bench", "--clients", "0"], { endpoints }),
      runKvctl(["bench", "--duration", "soon"], { endpoints }),
    ]);
    expect(clients.code).toBe(2);
    expect(clients.stderr).toContain("Invalid --clients 0");
    expect(duration.code).toBe(2);
  });
});
