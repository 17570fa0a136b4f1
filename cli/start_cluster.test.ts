// cli/start_cluster.sh, which `npm start` runs: the processes foreman starts from a Procfile stop
// cleanly (each gets SIGINT and exits on its own) whichever signal reaches the script, and none is
// left running. Two stand-in processes replace the nodes, so the test needs no build and no ports.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../router/test_fixtures.js";

const SCRIPT = resolve(import.meta.dirname, "start_cluster.sh");
const STAND_IN = `process.on('SIGINT', () => { console.log('stopped cleanly'); process.exit(0); }); console.log('pid ' + process.pid); setInterval(() => {}, 1000);`;

let dir: string;
/** The stand-ins of the test under way: a failing test must not leave them running. */
let started: number[] = [];
afterEach(() => {
  for (const pid of started.filter(alive)) process.kill(pid, "SIGKILL");
  started = [];
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopWith(signal: NodeJS.Signals): Promise<{ output: string; exitCode: number | null; pids: number[] }> {
  dir = mkdtempSync(join(tmpdir(), "shardkv-start-"));
  const procfile = join(dir, "Procfile");
  writeFileSync(procfile, ["a", "b"].map((name) => `${name}: exec node -e "${STAND_IN}"\n`).join(""));
  // detached: a process group of its own, as a terminal or a supervisor gives `npm start`.
  const child = spawn(SCRIPT, [procfile], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
  await until("both stand-ins run", () => (output.match(/pid \d+/g) ?? []).length === 2, 20_000);
  const pids = [...output.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]));
  started = pids;
  if (signal === "SIGINT") process.kill(-child.pid!, signal);
  else child.kill(signal);
  const exitCode = await exited;
  return { output, exitCode, pids };
}

describe("npm start's script", () => {
  it("refuses to start without its Procfile (foreman would run npm start, and so this script, again)", async () => {
    dir = mkdtempSync(join(tmpdir(), "shardkv-start-"));
    const child = spawn(SCRIPT, [join(dir, "Procfile")], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((resolveExit) => child.on("exit", resolveExit))).toBe(2);
    expect(stderr).toMatch(/no Procfile at .*shardkv-start-.*\/Procfile/);
  });

  it("stops every process cleanly on SIGTERM, which foreman alone would die of, leaving them running", async () => {
    const { output, exitCode, pids } = await stopWith("SIGTERM");
    expect(output.match(/stopped cleanly/g)).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it("stops every process cleanly on a terminal's Ctrl-C (SIGINT to the whole process group)", async () => {
    const { output, exitCode, pids } = await stopWith("SIGINT");
    expect(output.match(/stopped cleanly/g)).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
    expect(exitCode).toBe(0);
  });
});
