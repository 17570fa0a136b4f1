import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["raft/**/*.test.ts", "proto/**/*.test.ts", "shard/**/*.test.ts", "router/**/*.test.ts", "cli/**/*.test.ts", "test/**/*.test.ts"],
    // `npm test` runs test/fault/ in a second pass, alone: its real clusters under faults would starve
    // the nodes of other suites running beside them on a 2-core machine (elections, timeouts).
    // The simulator suites run hundreds of seeded clusters; they are CPU-bound, not slow on I/O.
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
