// Run by cli/helper_threads.test.ts: demotes its helper threads, starts one more thread afterwards
// (a worker, which inherits the event loop's class), waits for a rescan to catch it, and prints every
// thread's policy.

import { readFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { keepHelperThreadsOnBatch, SCHED_BATCH, threadIds, threadPolicy } from "../../cli/helper_threads.js";

await readFile(import.meta.filename); // libuv starts its pool on first use
const { first, stop } = keepHelperThreadsOnBatch(Number(process.env["RESCAN_MS"]));
const before = new Set(threadIds(process.pid));
const worker = new Worker("setInterval(() => undefined, 1000)", { eval: true });
await new Promise((resolve) => worker.once("online", resolve));
const late = threadIds(process.pid).filter((tid) => !before.has(tid));
// Until a rescan has caught them, or long past the time it should have (the test then sees NORMAL).
// Without chrt there are no rescans to wait for.
const deadline = first.problem === undefined ? Date.now() + 5_000 : 0;
while (Date.now() < deadline && !late.every((tid) => threadPolicy(process.pid, tid) === SCHED_BATCH)) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const policies = Object.fromEntries(threadIds(process.pid).map((tid) => [tid, threadPolicy(process.pid, tid)]));
stop();
await worker.terminate();
process.stdout.write(JSON.stringify({ pid: process.pid, first, late, policies }));
