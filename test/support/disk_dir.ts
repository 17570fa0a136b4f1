// A fresh folder on a real disk for tests and benchmarks whose point is the disk (fsync, torn writes,
// LevelDB files): the system's temporary folder unless it is a tmpfs (memory, where fsync proves
// nothing), else `.tmp/` in the project. SHARDKV_TEST_DIR overrides both.

import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

function mountType(path: string): string | undefined {
  let mounts: string;
  try {
    mounts = readFileSync("/proc/mounts", "utf8");
  } catch {
    return undefined;
  }
  let best: { point: string; type: string } | undefined;
  for (const line of mounts.split("\n")) {
    const [, point, type] = line.split(" ");
    if (point === undefined || type === undefined) continue;
    if ((path === point || path.startsWith(point.endsWith("/") ? point : `${point}/`)) && (best === undefined || point.length > best.point.length)) best = { point, type };
  }
  return best?.type;
}

export function diskDir(prefix: string): string {
  const override = process.env["SHARDKV_TEST_DIR"];
  let base = override ?? tmpdir();
  if (override === undefined && mountType(resolve(base)) === "tmpfs") {
    base = join(import.meta.dirname, "..", "..", ".tmp");
    mkdirSync(base, { recursive: true });
  }
  return mkdtempSync(join(base, prefix));
}
