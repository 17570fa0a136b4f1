// cli/helper_threads.ts for real, in a child process: its helper threads end on SCHED_BATCH, its
// event loop stays on SCHED_NORMAL, a thread started later is caught by the rescan, and a machine
// without chrt keeps the default class and says why.

import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { SCHED_BATCH, SCHED_NORMAL, threadPolicy } from "./helper_threads.js";

const CHILD = resolve(import.meta.dirname, "../test/support/thread_policies_child.ts");

interface ChildReport {
  readonly pid: number;
  readonly first: { readonly demoted: number; readonly problem?: string };
  readonly late: readonly number[];
  readonly policies: Readonly<Record<string, number | undefined>>;
}

async function runChild(env: Record<string, string>): Promise<ChildReport> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", CHILD], { env: { ...process.env, RESCAN_MS: "100", ...env } });
  return JSON.parse(stdout) as ChildReport;
}

describe("helper threads on SCHED_BATCH", () => {
  test("every thread but the event loop's, also one started after the first pass", async () => {
    const report = await runChild({});
    expect(report.first.problem).toBeUndefined();
    // At least libuv's four pool threads.
    expect(report.first.demoted).toBeGreaterThanOrEqual(4);
    expect(report.policies[report.pid]).toBe(SCHED_NORMAL);
    const helpers = Object.entries(report.policies).filter(([tid]) => Number(tid) !== report.pid);
    expect(helpers.length).toBeGreaterThanOrEqual(5);
    for (const [tid, policy] of helpers) expect({ tid, policy }).toEqual({ tid, policy: SCHED_BATCH });
    expect(report.late.length).toBeGreaterThanOrEqual(1);
    for (const tid of report.late) expect(report.policies[tid]).toBe(SCHED_BATCH);
  });

  test("without chrt, nothing changes and the report says why", async () => {
    const report = await runChild({ PATH: "/nonexistent" });
    expect(report.first.problem).toMatch(/chrt not found.*util-linux/);
    for (const policy of Object.values(report.policies)) expect(policy).toBe(SCHED_NORMAL);
  });

  test("reads the policy of a thread from /proc, and nothing for one that does not exist", () => {
    expect(threadPolicy(process.pid, process.pid)).toBeTypeOf("number");
    expect(threadPolicy(process.pid, 2 ** 30)).toBeUndefined();
  });
});
