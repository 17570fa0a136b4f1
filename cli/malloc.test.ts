// cli/with_jemalloc.sh, run for real on a node that prints its own /proc/self/maps, and
// mallocName reading such maps. CI installs libjemalloc2, so there the preload itself is checked;
// on a machine without it, the fallback and its warning are.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { mallocName, ownMalloc } from "./malloc.js";

const SCRIPT = resolve(import.meta.dirname, "with_jemalloc.sh");
const PRINT_MAPS = "process.stdout.write(require('node:fs').readFileSync('/proc/self/maps', 'utf8'))";
const DEBIAN_JEMALLOC = ["/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2"].find((path) => existsSync(path));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(env: Record<string, string>): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(SCRIPT, [process.execPath, "-e", PRINT_MAPS], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("mallocName", () => {
  test("names a preloaded allocator from the libraries mapped in", () => {
    const libc = "7f1c2a000000-7f1c2a028000 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6\n";
    expect(mallocName(libc)).toBe("libc");
    expect(mallocName(`${libc}7f1c2b000000-7f1c2b00a000 r--p 00000000 08:01 99 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n`)).toBe("jemalloc");
    expect(mallocName(`${libc}7f1c2b000000-7f1c2b00a000 r--p 00000000 08:01 98 /usr/lib/libtcmalloc_minimal.so.4.5.10\n`)).toBe("tcmalloc");
    expect(mallocName(undefined)).toBe("unknown");
  });

  test("this process, on Linux, reads its own maps", () => {
    expect(["libc", "jemalloc", "tcmalloc", "mimalloc"]).toContain(ownMalloc());
  });
});

describe.runIf(process.platform === "linux")("with_jemalloc.sh", () => {
  test("preloads jemalloc where the machine has it, and says so where it does not", async () => {
    const result = await run({});
    expect(result.code).toBe(0);
    if (DEBIAN_JEMALLOC !== undefined) {
      expect(mallocName(result.stdout)).toBe("jemalloc");
      expect(result.stderr).toBe("");
    } else {
      expect(mallocName(result.stdout)).toBe("libc");
      expect(result.stderr).toContain("apt-get install libjemalloc2");
    }
  });

  test("SHARDKV_JEMALLOC=off runs the command on the C library's malloc", async () => {
    const result = await run({ SHARDKV_JEMALLOC: "off" });
    expect(result.code).toBe(0);
    expect(mallocName(result.stdout)).toBe("libc");
  });

  test("a library named in SHARDKV_JEMALLOC is preloaded, and one that is not there is refused", async () => {
    if (DEBIAN_JEMALLOC !== undefined) expect(mallocName((await run({ SHARDKV_JEMALLOC: DEBIAN_JEMALLOC })).stdout)).toBe("jemalloc");
    const missing = await run({ SHARDKV_JEMALLOC: "/nonexistent/libjemalloc.so.2" });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain("SHARDKV_JEMALLOC names /nonexistent/libjemalloc.so.2, which is not a file");
  });
});
