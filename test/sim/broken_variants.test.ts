// The simulator can fail: each deliberately broken core is caught within 500 seeds.

import { describe, expect, it } from "vitest";
import { BROKEN_VARIANTS } from "./broken_variants.js";
import { isSafetyViolation, runSeeds } from "./run.js";

describe("the simulator finds deliberately broken cores", () => {
  for (const variant of BROKEN_VARIANTS) {
    it(`finds ${variant.name} (${variant.breaks}) within 500 seeds`, async () => {
      const summary = await runSeeds(1, 500, variant.options, "safety");
      const found = summary.firstFailure;
      const violation = summary.violations.find((v) => v.seed === found?.seed)?.violation;
      console.log(`${variant.name}: ${found === undefined ? "NOT FOUND in 500 seeds" : `found after ${found.after} seeds (seed ${found.seed}): ${violation!.slice(0, 160)}`}`);
      expect(found).toBeDefined();
      expect(isSafetyViolation(violation)).toBe(true);
    });
  }

  it("finds a broken core also when the replicas run the real shard state machine", async () => {
    const variant = BROKEN_VARIANTS.find((v) => v.breaks === "§5.4.1")!;
    const summary = await runSeeds(1, 100, { ...variant.options, machine: "mvcc" }, "safety");
    console.log(`${variant.name} with the real state machine: found after ${summary.firstFailure?.after} seeds: ${summary.violations[0]?.violation?.slice(0, 160)}`);
    expect(isSafetyViolation(summary.violations.find((v) => v.seed === summary.firstFailure?.seed)?.violation)).toBe(true);
  });
});
