import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["raft/**/*.test.ts", "proto/**/*.test.ts", "shard/**/*.test.ts", "router/**/*.test.ts", "cli/**/*.test.ts", "test/**/*.test.ts"],
    // The simulator suites run hundreds of seeded clusters; they are CPU-bound, not slow on I/O.
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
