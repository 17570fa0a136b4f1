// Run by cli/helper_threads.test.ts: demotes its helper threads, starts one more thread afterwards
// (a worker, which inherits the event loop's class), waits for a rescan, and prints every thread's policy.

import { readFile } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { keepHelperThreadsOnBatch, threadIds, threadPolicy } from "../../cli/helper_threads.js";

await readFile(import.meta.filename); // libuv starts its pool on first use
const { first, stop } = keepHelperThreadsOnBatch(Number(process.env["RESCAN_MS"]));
const before = new Set(threadIds(process.pid));
const worker = new Worker("setInterval(() => undefined, 1000)", { eval: true });
await new Promise((resolve) => worker.once("online", resolve));
const late = threadIds(process.pid).filter((tid) => !before.has(tid));
await new Promise((resolve) => setTimeout(resolve, 4 * Number(process.env["RESCAN_MS"])));
const policies = Object.fromEntries(threadIds(process.pid).map((tid) => [tid, threadPolicy(process.pid, tid)]));
stop();
await worker.terminate();
process.stdout.write(JSON.stringify({ pid: process.pid, first, late, policies }));
