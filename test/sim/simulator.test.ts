// The simulator on the real core: hundreds of seeded clusters under every fault, replays that match
// byte for byte, and the guards that keep a run from passing vacuously.

import { describe, expect, it } from "vitest";
import { runSeed, runSeeds } from "./run.js";

const SEEDS = Number(process.env["SIM_SEEDS"] ?? 500);
const MVCC_SEEDS = Number(process.env["SIM_MVCC_SEEDS"] ?? 30);

function report(label: string, summary: Awaited<ReturnType<typeof runSeeds>>): void {
  const rate = summary.seeds / summary.seconds;
  console.log(`${label}: seeds: ${summary.seeds}, violations: ${summary.violations.length}, ok operations: ${summary.okOperations}, ${rate.toFixed(1)} seeds/s`);
  for (const v of summary.violations.slice(0, 3)) console.log(`  seed ${v.seed}: ${v.violation}\n    ${v.trace.slice(-15).join("\n    ")}`);
}

describe("the simulator on the real core", () => {
  it(`finds no violation in ${SEEDS} seeds of 3 nodes`, async () => {
    const summary = await runSeeds(1, SEEDS, { nodes: 3 });
    report("3 nodes", summary);
    expect(summary.violations.map((v) => `seed ${v.seed}: ${v.violation}`)).toEqual([]);
  });

  it(`finds no violation in ${SEEDS} seeds of 5 nodes`, async () => {
    const summary = await runSeeds(100_001, SEEDS, { nodes: 5 });
    report("5 nodes", summary);
    expect(summary.violations.map((v) => `seed ${v.seed}: ${v.violation}`)).toEqual([]);
  });

  it("finds no violation in 7-node clusters", async () => {
    const summary = await runSeeds(200_001, Math.max(10, Math.floor(SEEDS / 10)), { nodes: 7 });
    report("7 nodes", summary);
    expect(summary.violations.map((v) => `seed ${v.seed}: ${v.violation}`)).toEqual([]);
  });

  // Seeds that once found a bug in the core, kept so that it stays fixed.
  const REGRESSIONS: readonly { seed: number; bug: string }[] = [
    { seed: 2815, bug: "a pre-candidate that followed the leader again voted while the leader's lease counted its ack" },
  ];
  for (const { seed, bug } of REGRESSIONS) {
    it(`passes seed ${seed}, which found ${bug}`, async () => {
      expect((await runSeed(seed)).violation).toBeUndefined();
    });
  }

  it("replays a seed with the same trace, byte for byte", async () => {
    for (const seed of [3, 17, 101, 4242, 90001]) {
      const first = await runSeed(seed);
      const second = await runSeed(seed);
      expect(second.trace.join("\n")).toBe(first.trace.join("\n"));
      expect(second.traceHash).toBe(first.traceHash);
      expect(second.stats).toEqual(first.stats);
    }
    // With the real state machine too: its promises settle before each event, so timing cannot leak in.
    const first = await runSeed(300_007, { machine: "mvcc" });
    const second = await runSeed(300_007, { machine: "mvcc" });
    expect(second.trace.join("\n")).toBe(first.trace.join("\n"));
    expect(second.stats).toEqual(first.stats);
    // And different seeds do differ, so the comparison above means something.
    expect((await runSeed(3)).traceHash).not.toBe((await runSeed(4)).traceHash);
  });

  it(`finds no violation in ${MVCC_SEEDS} seeds of 3 nodes running the real shard state machine, whose replicas end with equal state hashes`, async () => {
    const summary = await runSeeds(300_001, MVCC_SEEDS, { nodes: 3, machine: "mvcc" });
    report("3 nodes, real state machine", summary);
    expect(summary.violations.map((v) => `seed ${v.seed}: ${v.violation}`)).toEqual([]);
    // Not vacuous: replicas restarted from snapshots and installed the leader's.
    console.log(`real state machine: ${summary.restores} restores from snapshot data`);
    expect(summary.restores).toBeGreaterThan(MVCC_SEEDS);
  });

  it("detects clock drift beyond the lease's margin as a lease violation", async () => {
    const summary = await runSeeds(1, 100, { clockDrift: 0.3 }, "safety");
    console.log(`drift 0.3: first violation after ${summary.firstFailure?.after} seeds: ${summary.violations[0]?.violation}`);
    expect(summary.violations[0]?.violation).toMatch(/^lease violation/);
  });
});

describe("guards against vacuous runs", () => {
  it("fails a run in which too few operations succeeded", async () => {
    expect((await runSeed(1, { minOkOperations: 1_000_000 })).violation).toMatch(/^vacuous run: only \d+ operations succeeded/);
  });

  it("fails a run in which a fault it was meant to inject never happened", async () => {
    // A single node cannot be partitioned from anyone.
    expect((await runSeed(1, { nodes: 1, faults: ["partition"] })).violation).toBe("vacuous run: no partition fault was injected");
  });

  it("fails a run in which leadership never changed", async () => {
    // A flaky period is injected, so only the leader-change guard can fail this run.
    const result = await runSeed(1, { faults: ["lossy"], nemesisEveryTicks: 400 });
    expect(result.stats.faults["lossy"]).toBe(1);
    expect(result.violation).toBe("vacuous run: leadership never changed");
  });
});
