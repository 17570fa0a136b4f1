// Kill -9 at random moments, on real files: after every restart, each write the store acknowledged is
// there, and no transaction is half there. The child (crash_child.ts) writes two-key transactions
// with 32 in flight; this test kills it between 0 and 120 ms after it starts writing, 50 times.

import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../raft/index.js";
import { diskDir } from "../support/disk_dir.js";

const LIVES = 50;
const CHILD = join(import.meta.dirname, "crash_child.ts");

interface Life {
  readonly state: { a: number[]; b: number[]; applied: number };
  readonly acked: number[];
  readonly exitSignal: NodeJS.Signals | null;
}

function live(dir: string, life: number, killAfterMs: number): Promise<Life> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(life)], { stdio: ["ignore", "pipe", "pipe"] });
    let state: Life["state"] | undefined;
    const acked: number[] = [];
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("state ")) state = JSON.parse(line.slice(6)) as Life["state"];
      else if (line === "ready") setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      else if (line.startsWith("ack ")) acked.push(Number(line.slice(4)));
      else if (line.startsWith("fatal ")) reject(new Error(`life ${life}: ${line}`));
    });
    child.on("exit", (_code, signal) => {
      if (state === undefined) reject(new Error(`life ${life}: the child died before reporting its state (${signal}): ${stderr}`));
      else if (signal !== "SIGKILL") reject(new Error(`life ${life}: the child exited on its own (${signal}): ${stderr}`));
      else resolve({ state, acked, exitSignal: signal });
    });
  });
}

describe("kill -9 on a real process", () => {
  it(`loses no acknowledged write and half-applies no transaction across ${LIVES} kills`, async () => {
    const dir = diskDir("shardkv-crash-");
    const random = new SeededRandom(20261123);
    const acked = new Set<number>();
    let writesSeen = 0;
    try {
      for (let life = 1; life <= LIVES + 1; life++) {
        const result = await live(dir, life, random.int(120));
        const a = new Set(result.state.a);
        const b = new Set(result.state.b);
        for (const n of acked) {
          expect(a.has(n), `life ${life}: acknowledged write ${n} is gone`).toBe(true);
        }
        for (const n of a) expect(b.has(n), `life ${life}: transaction ${n} is half there (a without b)`).toBe(true);
        for (const n of b) expect(a.has(n), `life ${life}: transaction ${n} is half there (b without a)`).toBe(true);
        writesSeen = a.size;
        if (life === LIVES + 1) break;
        for (const n of result.acked) acked.add(n);
      }
      // The test could have passed vacuously if the child never got to write.
      expect(acked.size).toBeGreaterThan(LIVES * 5);
      expect(writesSeen).toBeGreaterThanOrEqual(acked.size);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
