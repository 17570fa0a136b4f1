import { describe, expect, it } from "vitest";
import { ExitCode, runCli } from "./cli.js";
import type { CliIo } from "./cli.js";
import { formatHistory } from "./history.js";
import { HistoryBuilder } from "./history_builder.js";

interface Run {
  code: ExitCode;
  out: string;
  err: string;
}

function run(args: readonly string[], files: Record<string, string>): Run {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    nowMs: () => 0,
  };
  const code = runCli(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function history(readValue: string): string {
  const h = new HistoryBuilder();
  h.write(1, "x", "a", [0, 10]);
  h.read(2, "x", readValue, [20, 30]);
  return formatHistory(h.ops);
}

describe("the lin command line", () => {
  it("prints ok and exits 0 for a linearizable history", () => {
    const result = run(["h.jsonl"], { "h.jsonl": history("a") });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.out).toBe("ok: 2 operations over 1 keys are linearizable");
  });

  it("prints the minimal operations and exits 1 for a violation", () => {
    const result = run(["h.jsonl"], { "h.jsonl": history("zzz") });
    expect(result.code).toBe(ExitCode.VIOLATION);
    expect(result.out).toMatch(/^violation: Key "x"/);
    expect(result.out).toContain('#2 client 2 read "x" -> "zzz" [20, 30]');
  });

  it("exits 2 when the budget given by --max-states is too small to decide", () => {
    const h = new HistoryBuilder();
    for (let client = 0; client < 8; client++) h.write(client, "x", `v${client}`, [0, 100]);
    h.read(9, "x", "v3", [200, 210]);
    const files = { "h.jsonl": formatHistory(h.ops) };
    expect(run(["h.jsonl", "--max-states", "2"], files).code).toBe(ExitCode.UNKNOWN_OR_USAGE);
    expect(run(["--max-states=2", "h.jsonl"], files).out).toMatch(/^unknown: /);
    expect(run(["h.jsonl"], files).code).toBe(ExitCode.OK);
  });

  it("exits 2 with a message naming the problem for usage errors", () => {
    const files = { "h.jsonl": history("a") };
    const cases: [string[], RegExp][] = [
      [[], /^Missing the history file/],
      [["a.jsonl", "b.jsonl"], /^Expected one history file, got 2/],
      [["h.jsonl", "--max-states"], /^--max-states needs a positive integer, got nothing/],
      [["h.jsonl", "--max-states", "0"], /^--max-states needs a positive integer, got "0"/],
      [["h.jsonl", "--verbose"], /^Unknown option "--verbose"/],
      [["missing.jsonl"], /^Cannot read history "missing.jsonl": ENOENT/],
    ];
    for (const [args, message] of cases) {
      const result = run(args, files);
      expect(result.code, args.join(" ")).toBe(ExitCode.UNKNOWN_OR_USAGE);
      expect(result.err, args.join(" ")).toMatch(message);
    }
  });

  it("exits 2 naming the line of a malformed history", () => {
    const result = run(["h.jsonl"], { "h.jsonl": `${history("a")}{"id": 3}\n` });
    expect(result.code).toBe(ExitCode.UNKNOWN_OR_USAGE);
    expect(result.err).toMatch(/^Cannot check "h.jsonl": Line 3: /);
  });

  it("prints its usage for --help and exits 0", () => {
    const result = run(["--help"], {});
    expect(result.code).toBe(ExitCode.OK);
    expect(result.out).toMatch(/^Usage: npm run lin -- <history.jsonl>/);
  });

  it("reports every operation of the failing key with --no-shrink", () => {
    const result = run(["h.jsonl", "--no-shrink"], { "h.jsonl": history("zzz") });
    expect(result.code).toBe(ExitCode.VIOLATION);
    expect(result.out).toContain("not shrunk");
    expect(result.out).toContain('#1 client 1 write "x" = "a" [0, 10]');
  });
});
