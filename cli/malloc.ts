// Which malloc this process runs on, read from the libraries mapped into it (Linux's
// /proc/self/maps): cli/with_jemalloc.sh preloads jemalloc, and a node or a benchmark says which it
// got, since figures taken on the C library's malloc are not comparable (with_jemalloc.sh says why).

import { readFileSync } from "node:fs";

export type MallocName = "jemalloc" | "tcmalloc" | "mimalloc" | "libc" | "unknown";

const PRELOADABLE: readonly [MallocName, RegExp][] = [
  ["jemalloc", /\/libjemalloc\.so/],
  ["tcmalloc", /\/libtcmalloc(_minimal)?\.so/],
  ["mimalloc", /\/libmimalloc\.so/],
];

/** This process's malloc. */
export function ownMalloc(): MallocName {
  return mallocName(readMaps());
}

/** `maps`: the text of /proc/<pid>/maps; "unknown" where there is none (not Linux). */
export function mallocName(maps: string | undefined): MallocName {
  if (maps === undefined) return "unknown";
  for (const [name, pattern] of PRELOADABLE) if (pattern.test(maps)) return name;
  return "libc";
}

function readMaps(): string | undefined {
  try {
    return readFileSync("/proc/self/maps", "utf8");
  } catch {
    return undefined;
  }
}
