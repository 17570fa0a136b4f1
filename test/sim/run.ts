// Running many seeds: the part the command line and the tests share.

import { type SimOptions, defaultSimOptions } from "./options.js";
import { type SimResult, Simulation } from "./simulation.js";

export function runSeed(seed: number, options: Partial<SimOptions> = {}): Promise<SimResult> {
  return new Simulation(seed, { ...defaultSimOptions, ...options }).run();
}

export interface SeedsSummary {
  readonly seeds: number;
  readonly violations: SimResult[];
  /** The first failing seed and how many seeds it took to find it (1-based), if any failed. */
  readonly firstFailure: { seed: number; after: number } | undefined;
  readonly okOperations: number;
  /** State machines started from snapshot data, over all seeds. */
  readonly restores: number;
  /** Read-index requests sent again for reads still waiting, over all seeds. */
  readonly readsAskedAgain: number;
  readonly seconds: number;
}

/** A broken safety property, as opposed to a run that proved nothing or did not recover. */
export function isSafetyViolation(violation: string | undefined): boolean {
  return violation !== undefined && !violation.startsWith("vacuous run") && !violation.startsWith("liveness");
}

/**
 * Runs `count` seeds from `from`. With `stopAt`, stops at the first violation ("any") or the first
 * safety violation ("safety"); `firstFailure` then names that one.
 */
export async function runSeeds(
  from: number,
  count: number,
  options: Partial<SimOptions> = {},
  stopAt: "any" | "safety" | false = false,
  onResult?: (result: SimResult) => void,
): Promise<SeedsSummary> {
  const started = performance.now();
  const violations: SimResult[] = [];
  let firstFailure: SeedsSummary["firstFailure"];
  let okOperations = 0;
  let restores = 0;
  let readsAskedAgain = 0;
  let seeds = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = await runSeed(seed, options);
    seeds++;
    okOperations += result.stats.ok;
    restores += result.stats.restores;
    readsAskedAgain += result.stats.readsAskedAgain;
    onResult?.(result);
    if (result.violation !== undefined) {
      violations.push(result);
      const counts = stopAt !== "safety" || isSafetyViolation(result.violation);
      if (counts) firstFailure ??= { seed, after: seeds };
      if (stopAt !== false && counts) break;
    }
  }
  return { seeds, violations, firstFailure, okOperations, restores, readsAskedAgain, seconds: (performance.now() - started) / 1000 };
}
