// Fault tests on real processes: one cluster of 3 shardkv nodes (6 shards of 3 replicas, 50 ms ticks),
// and for each nemesis ~15 s of its faults while the register, lock (v3lock and etcd3's recipe) and
// lease workloads run against it, then every checker (run.ts). A violation fails the test and leaves
// the history and the nodes' logs under test/fault/failures/. FAULT_SECONDS=N changes the time per
// nemesis; the long run is `npm run test:fault` (main.ts).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NemesisName, SAFE_NEMESES } from "./nemesis.js";
import { type FaultCluster, formatSummary, runFaults, startFaultCluster } from "./run.js";

const SECONDS = Number(process.env["FAULT_SECONDS"] ?? 15);
/** Faults, then healing, final reads, the lease grace period and convergence: well within this. */
const TEST_TIMEOUT_MS = SECONDS * 1000 + 90_000;

let fc: FaultCluster;

beforeAll(async () => {
  fc = await startFaultCluster(3, 6, 50);
}, 60_000);

afterAll(async () => {
  await fc?.stop();
});

const STORIES: Record<Exclude<NemesisName, "clock-beyond">, string> = {
  kill: "nodes killed with SIGKILL (leaders more often) and restarted from their files",
  pause: "nodes frozen with SIGSTOP for longer than an election timeout, then woken",
  partition: "the network cut: a minority, a leader alone, or a bridge",
  clock: "tick and wall clocks skewed within the lease's drift bound, wall clocks seconds apart, while leaders are cut off",
  "restart-all": "the whole cluster killed and restarted",
};

describe("the store stays linearizable, locks exclude and leases hold under faults on real processes", () => {
  let seed = Number(process.env["FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  for (const nemesis of SAFE_NEMESES) {
    if (nemesis === "clock-beyond") continue;
    it(
      `with ${STORIES[nemesis]}`,
      async () => {
        const summary = await runFaults(fc, { nemesis, durationMs: SECONDS * 1000, seed: seed++ });
        console.log(formatSummary(summary));
        const where = summary.failureDir === undefined ? "" : ` (history and logs: ${summary.failureDir})`;
        expect(summary.violations, `${nemesis} seed ${summary.seed}${where}`).toEqual([]);
        // A run must prove something: operations went through, and faults happened.
        expect(summary.ops.ok).toBeGreaterThan(50);
        expect(summary.locks.acquired).toBeGreaterThan(0);
        // etcd3's circuit breaker shuts a host for 5 s after 3 failures: when every node restarts every
        // few seconds, a client pinned to one node may not get a turn in 15 s.
        if (nemesis !== "restart-all") expect(summary.recipeLocks.acquired).toBeGreaterThan(0);
        expect(summary.faults).toBeGreaterThan(1);
      },
      TEST_TIMEOUT_MS,
    );
  }
});
