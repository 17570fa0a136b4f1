// Running many seeds: the part the command line and the tests share.

import { type SimOptions, defaultSimOptions } from "./options.js";
import { type SimResult, Simulation } from "./simulation.js";

export function runSeed(seed: number, options: Partial<SimOptions> = {}): SimResult {
  return new Simulation(seed, { ...defaultSimOptions, ...options }).run();
}

export interface SeedsSummary {
  readonly seeds: number;
  readonly violations: SimResult[];
  /** The first failing seed and how many seeds it took to find it (1-based), if any failed. */
  readonly firstFailure: { seed: number; after: number } | undefined;
  readonly okOperations: number;
  readonly seconds: number;
}

/** Runs `count` seeds from `from`; stops at the first violation when `stopAtFirst`. */
export function runSeeds(
  from: number,
  count: number,
  options: Partial<SimOptions> = {},
  stopAtFirst = false,
  onResult?: (result: SimResult) => void,
): SeedsSummary {
  const started = performance.now();
  const violations: SimResult[] = [];
  let firstFailure: SeedsSummary["firstFailure"];
  let okOperations = 0;
  let seeds = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = runSeed(seed, options);
    seeds++;
    okOperations += result.stats.ok;
    onResult?.(result);
    if (result.violation !== undefined) {
      violations.push(result);
      firstFailure ??= { seed, after: seeds };
      if (stopAtFirst) break;
    }
  }
  return { seeds, violations, firstFailure, okOperations, seconds: (performance.now() - started) / 1000 };
}
