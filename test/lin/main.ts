/**
 * `npm run lin`: runs the checker's command line (cli.ts) against the real process. The only file in
 * test/lin/ that touches `process`, the file system or the clock.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { runCli } from "./cli.js";

process.exitCode = runCli(process.argv.slice(2), {
  readFile: (path) => readFileSync(path, "utf8"),
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  nowMs: () => performance.now(),
});
