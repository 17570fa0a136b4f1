// A node's helper threads run on Linux's SCHED_BATCH; its event loop stays on SCHED_NORMAL.
//
// The event loop is the node's bottleneck, and it hands work to helpers many times a millisecond:
// LevelDB writes and fdatasyncs go to libuv's pool, GC work to V8's workers, compactions to LevelDB's
// thread. A woken SCHED_NORMAL thread may preempt the thread that woke it, so on a busy machine the
// event loop lost its core in the middle of the hand-off: in a 3-node put x64 profile, 16% of the
// event loop's samples sat in classic-level's batch write call and 12% in the fdatasync call, both
// of which only queue work. A SCHED_BATCH thread never preempts on wake-up; it runs when a core is
// free or at the next tick. Put x64 on 3 nodes: +19% throughput, CPU per op 0.58 to 0.48 ms, and the
// event loop preempted 0.19 times a put instead of 1.62 (alternating runs).
// Threads are set one by one with util-linux's `chrt` (Node has no call for it); threads started
// later inherit their creator's class, and a rescan catches the few that the event loop starts.

import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/** How often a node looks for threads started since the last pass. */
export const HELPER_THREADS_RESCAN_MS = 30_000;

/** sched_setscheduler(2)'s policy numbers, as /proc/<pid>/task/<tid>/stat shows them (field 41). */
export const SCHED_NORMAL = 0;
export const SCHED_BATCH = 3;

/** The scheduling policy of thread `tid` of process `pid`; undefined where /proc cannot tell. */
export function threadPolicy(pid: number, tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    // The name (field 2) is in parentheses and may hold spaces or parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const policy = Number(fields[41 - 3]);
    return Number.isInteger(policy) ? policy : undefined;
  } catch {
    return undefined;
  }
}

/** The thread ids of process `pid`, or [] where there is no /proc. */
export function threadIds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

export interface HelperThreadsReport {
  /** Helper threads put on SCHED_BATCH by this call. */
  readonly demoted: number;
  /** Why some or all could not be; unset when all went well. */
  readonly problem?: string;
}

/**
 * Puts this process's helper threads (every thread but the main one) on SCHED_BATCH, skipping
 * those in `seen`, which it fills in. Never throws: a machine without /proc or chrt keeps the
 * default class, and `problem` says why.
 */
export function demoteHelperThreads(seen: Set<number>): HelperThreadsReport {
  const pid = process.pid;
  const tids = threadIds(pid);
  if (tids.length === 0) return { demoted: 0, problem: "no /proc/self/task on this system" };
  let demoted = 0;
  for (const tid of tids) {
    if (tid === pid || seen.has(tid)) continue;
    seen.add(tid);
    if (threadPolicy(pid, tid) === SCHED_BATCH) continue;
    try {
      execFileSync("chrt", ["--batch", "--pid", "0", String(tid)], { stdio: ["ignore", "ignore", "pipe"] });
      demoted++;
    } catch (error) {
      // A thread that ended meanwhile is no problem; a missing chrt is.
      if (threadIds(pid).includes(tid)) return { demoted, problem: `chrt --batch --pid 0 ${tid} failed (${describe(error)}); install util-linux` };
    }
  }
  return { demoted };
}

/**
 * Demotes the helper threads now and rescans every `rescanMs` for new ones (the timer does not hold
 * the process open). Returns what the first pass did, and a function that stops the rescans.
 */
export function keepHelperThreadsOnBatch(rescanMs = HELPER_THREADS_RESCAN_MS): { first: HelperThreadsReport; stop: () => void } {
  const seen = new Set<number>();
  const first = demoteHelperThreads(seen);
  if (first.problem !== undefined) return { first, stop: () => undefined };
  const timer = setInterval(() => demoteHelperThreads(seen), rescanMs);
  timer.unref();
  return { first, stop: () => clearInterval(timer) };
}

function describe(error: unknown): string {
  if (error instanceof Error && "code" in error && error.code === "ENOENT") return "chrt not found";
  if (error instanceof Error && "stderr" in error && Buffer.isBuffer(error.stderr) && error.stderr.length > 0) return error.stderr.toString().trim();
  return error instanceof Error ? error.message : String(error);
}
