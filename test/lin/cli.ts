/**
 * The command line of the checker: `npm run lin -- history.jsonl [--max-states N] [--no-shrink]`.
 * It parses arguments by hand (node built-ins only), prints the verdict and maps it to the exit code;
 * all I/O goes through `CliIo` so that tests can run it without a process.
 */
import { checkHistory, MAX_STATES_PER_KEY_DEFAULT } from "./check.js";
import type { CheckOptions, Verdict } from "./check.js";
import { describeVerdict } from "./describe.js";
import { HistoryError, parseHistory } from "./history.js";

export const ExitCode = { OK: 0, VIOLATION: 1, UNKNOWN_OR_USAGE: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliIo {
  readFile(path: string): string;
  out(text: string): void;
  err(text: string): void;
  nowMs(): number;
}

export const USAGE = [
  "Usage: npm run lin -- <history.jsonl> [--max-states N] [--no-shrink]",
  "  Checks a key-value history (JSON lines, one operation per line) for linearizability.",
  "  --max-states N  configurations to explore per key before answering \"unknown\"",
  `                  (default ${MAX_STATES_PER_KEY_DEFAULT})`,
  "  --no-shrink     report all operations of the failing key instead of a minimal subset",
  "  Exit code: 0 linearizable, 1 violation, 2 unknown or usage error.",
].join("\n");

interface CliArgs {
  path: string;
  options: CheckOptions;
}

export function runCli(args: readonly string[], io: CliIo): ExitCode {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(USAGE);
    return ExitCode.OK;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    io.err(`${parsed}\n${USAGE}`);
    return ExitCode.UNKNOWN_OR_USAGE;
  }
  let text: string;
  try {
    text = io.readFile(parsed.path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.err(`Cannot read history ${JSON.stringify(parsed.path)}: ${reason}`);
    return ExitCode.UNKNOWN_OR_USAGE;
  }
  const startMs = io.nowMs();
  let verdict: Verdict;
  try {
    verdict = checkHistory(parseHistory(text), parsed.options);
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    io.err(`Cannot check ${JSON.stringify(parsed.path)}: ${error.message}`);
    return ExitCode.UNKNOWN_OR_USAGE;
  }
  io.out(describeVerdict(verdict));
  io.err(`Checked in ${Math.round(io.nowMs() - startMs)} ms.`);
  if (verdict.kind === "ok") return ExitCode.OK;
  return verdict.kind === "violation" ? ExitCode.VIOLATION : ExitCode.UNKNOWN_OR_USAGE;
}

/** The parsed arguments, or a message naming the one at fault. */
function parseArgs(args: readonly string[]): CliArgs | string {
  const paths: string[] = [];
  const options: CheckOptions = {};
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? "";
    if (arg === "--no-shrink") {
      options.shrink = false;
    } else if (arg === "--max-states" || arg.startsWith("--max-states=")) {
      const text = arg === "--max-states" ? args[++index] : arg.slice("--max-states=".length);
      const states = Number(text);
      if (text === undefined || text === "" || !Number.isSafeInteger(states) || states < 1) {
        return `--max-states needs a positive integer, got ${text === undefined ? "nothing" : JSON.stringify(text)}`;
      }
      options.maxStatesPerKey = states;
    } else if (arg.startsWith("-")) {
      return `Unknown option ${JSON.stringify(arg)}`;
    } else {
      paths.push(arg);
    }
  }
  const [path] = paths;
  if (paths.length > 1) return `Expected one history file, got ${paths.length}: ${paths.join(" ")}`;
  if (path === undefined) return "Missing the history file";
  return { path, options };
}
