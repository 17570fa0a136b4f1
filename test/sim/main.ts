// `npm run sim -- --seeds N [--from S] [--nodes 3|5|7] [--drift R] [--faults a,b] [--machine kv|mvcc] [--trace]`
// Prints a line (and the tail of the trace) per failing seed, writes full traces under
// test/sim/failures/, and closes with `seeds: N, violations: V`. Exits 1 when V > 0.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatHistory } from "../lin/history.js";
import { ALL_FAULTS, type FaultKind, type SimOptions } from "./options.js";
import { runSeed, runSeeds } from "./run.js";

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run sim -- --seeds N [--from S] [--nodes 3|5|7] [--drift RATIO] [--faults ${ALL_FAULTS.join(",")}|none] [--ticks N] [--machine kv|mvcc] [--trace]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { seeds: number; from: number; trace: boolean; options: Partial<SimOptions> } {
  let seeds = 100;
  let from = 1;
  let trace = false;
  const options: { -readonly [K in keyof SimOptions]?: SimOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${flag} needs a value`);
    const int = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0) usage(`${flag} takes a whole number, got "${v}"`);
      return n;
    };
    switch (flag) {
      case "--seeds":
        seeds = int();
        break;
      case "--from":
        from = int();
        break;
      case "--nodes": {
        const n = int();
        if (n < 1 || n > 9) usage(`--nodes takes 1 to 9, got ${n}`);
        options.nodes = n;
        break;
      }
      case "--drift": {
        const d = Number(value());
        if (!(d >= 0 && d < 1)) usage(`--drift takes a ratio in [0, 1), like 0.05`);
        options.clockDrift = d;
        break;
      }
      case "--ticks":
        options.durationTicks = int();
        break;
      case "--faults": {
        const list = value();
        const kinds = list === "none" ? [] : list.split(",");
        for (const k of kinds) if (!ALL_FAULTS.includes(k as FaultKind)) usage(`unknown fault "${k}"; known: ${ALL_FAULTS.join(", ")}`);
        options.faults = kinds as FaultKind[];
        break;
      }
      case "--machine": {
        const kind = value();
        if (kind !== "kv" && kind !== "mvcc") usage(`--machine takes kv or mvcc, got "${kind}"`);
        options.machine = kind;
        break;
      }
      case "--trace":
        trace = true;
        break;
      default:
        usage(`unknown flag "${flag}"`);
    }
  }
  return { seeds, from, trace, options };
}

const { seeds, from, trace, options } = parseArgs(process.argv.slice(2));
const failures = join("test", "sim", "failures");
let lastReport = performance.now();
const summary = await runSeeds(from, seeds, options, false, (result) => {
  if (result.violation !== undefined) {
    mkdirSync(failures, { recursive: true });
    const file = join(failures, `seed-${result.seed}.txt`);
    writeFileSync(file, result.trace.join("\n") + "\n");
    writeFileSync(join(failures, `seed-${result.seed}.history.jsonl`), formatHistory(result.history));
    process.stdout.write(`seed ${result.seed}: ${result.violation}\n`);
    for (const line of result.trace.slice(-25)) process.stdout.write(`  ${line}\n`);
    process.stdout.write(`  full trace: ${file}\n`);
  }
  const now = performance.now();
  if (now - lastReport > 10_000) {
    lastReport = now;
    process.stderr.write(`... seed ${result.seed}\n`);
  }
});
if (trace) {
  const result = await runSeed(from, options);
  for (const line of result.trace) process.stdout.write(`${line}\n`);
  process.stdout.write(`trace hash ${result.traceHash}, stats ${JSON.stringify(result.stats)}\n`);
}
const rate = summary.seeds / Math.max(summary.seconds, 1e-9);
process.stdout.write(`ok operations: ${summary.okOperations}, restores from snapshots: ${summary.restores}, reads asked again: ${summary.readsAskedAgain}, ${rate.toFixed(1)} seeds/s\n`);
process.stdout.write(`seeds: ${summary.seeds}, violations: ${summary.violations.length}\n`);
process.exit(summary.violations.length > 0 ? 1 : 0);
