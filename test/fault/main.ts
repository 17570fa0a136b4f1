// The long run: `npm run test:fault -- --time 300 --nemesis all --nodes 3` (every safe nemesis in
// turn, --time seconds each, on one cluster), or one nemesis by name (kill, pause, partition, clock,
// restart-all, clock-beyond). Prints one summary per nemesis; exits 1 on any violation.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { NEMESES, type NemesisName, SAFE_NEMESES } from "./nemesis.js";
import { formatSummary, runFaults, type RunSummary, startFaultCluster } from "./run.js";

const argv = await yargs(hideBin(process.argv))
  .scriptName("test:fault")
  .option("time", { type: "number", default: 60, describe: "seconds of faults per nemesis" })
  .option("nemesis", { type: "string", default: "all", describe: `all, or one of ${NEMESES.join(", ")}` })
  .option("nodes", { type: "number", default: 3, choices: [3, 5] })
  .option("shards", { type: "number", default: 6 })
  .option("tick-ms", { type: "number", default: 50 })
  .option("keep", { type: "boolean", default: false, describe: "write history and logs under test/fault/failures/ even when a run passes" })
  .option("seed", { type: "number", describe: "the first run's seed (default: random)" })
  .strict()
  .parse();

const chosen: readonly NemesisName[] = argv.nemesis === "all" ? SAFE_NEMESES : argv.nemesis.split(",").map((name) => {
  if (!(NEMESES as readonly string[]).includes(name)) throw new Error(`Unknown nemesis "${name}": use all or one of ${NEMESES.join(", ")}`);
  return name as NemesisName;
});

const fc = await startFaultCluster(argv.nodes, argv.shards, argv["tick-ms"]);
console.log(`cluster of ${argv.nodes} nodes, ${argv.shards} shards, ${argv["tick-ms"]} ms ticks, data in ${fc.cluster.dir}`);
const summaries: RunSummary[] = [];
let seed = argv.seed ?? Math.floor(Math.random() * 2 ** 31);
try {
  for (const nemesis of chosen) {
    const summary = await runFaults(fc, { nemesis, durationMs: argv.time * 1000, seed: seed++, keep: argv.keep, log: (line) => console.log(line) });
    summaries.push(summary);
    console.log(formatSummary(summary));
  }
} finally {
  await fc.stop();
}
const failed = summaries.filter((s) => s.violations.length > 0);
console.log(`${summaries.length} runs, ${failed.length} with violations`);
process.exit(failed.length > 0 ? 1 : 0);
