// `npm run bench:storage`: one node's full write path on real files, and its read path. A single
// replica (so no network) on classic-level and the write-ahead log in a fresh folder on disk:
// - puts: 64 proposers, each proposing 256-byte puts one after another; every put is an entry that is
//   appended to the WAL, fdatasynced (group commit across whatever the turn collected), applied to
//   LevelDB, and only then acknowledged;
// - reads: point reads of random keys from the applied state (classic-level's getSync, no thread pool),
//   as a serializable read is served, and linearizable ones that wait for the leader's lease first.
// Ends with one JSON line: {"puts_per_s":N,"reads_per_s":N,"linearizable_reads_per_s":N,"malloc":"jemalloc"}.
// `npm run bench:storage` runs it as the Procfile runs a node: through cli/with_jemalloc.sh, with its
// helper threads on SCHED_BATCH (cli/helper_threads.ts; alone on 2 cores, that changes nothing here).

import { rmSync } from "node:fs";
import { join } from "node:path";
import type { LevelDb } from "../../shard/keyspace.js";
import { keepHelperThreadsOnBatch } from "../../cli/helper_threads.js";
import { ownMalloc } from "../../cli/malloc.js";
import { openNodeDb } from "../../shard/node_db.js";
import { Store } from "../../shard/store.js";
import { Wal } from "../../shard/wal/wal.js";
import { diskDir } from "../support/disk_dir.js";

const PROPOSERS = Number(process.env["BENCH_PROPOSERS"] ?? 64);
const VALUE_BYTES = 256;
const KEYS = 100_000;
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 10);

const dir = diskDir("shardkv-bench-storage-");
const db: LevelDb = await openNodeDb(join(dir, "db"));
const wal = await Wal.open({ dir: join(dir, "wal") });
const store = await Store.open({ nodeId: 1, db, wal, transport: { send: () => undefined }, tickMs: 100 });
await store.createGroup(1, [1]);
const helperThreads = keepHelperThreadsOnBatch();
if (helperThreads.first.problem !== undefined) console.log(`helper threads left on the default class: ${helperThreads.first.problem}`);
while (!store.replica(1).isLeader) await new Promise((resolve) => setTimeout(resolve, 10));

const key = (i: number): Uint8Array => Buffer.from(`bench/key/${String(i).padStart(8, "0")}`);
const value = Buffer.alloc(VALUE_BYTES, 0x61);

async function puts(): Promise<number> {
  let done = 0;
  let latencyMsMax = 0;
  const until = performance.now() + SECONDS * 1000;
  const proposer = async (p: number): Promise<void> => {
    for (let i = p; performance.now() < until; i += PROPOSERS) {
      const started = performance.now();
      const result = await store.propose(1, { op: "put", put: { key: key(i % KEYS), value } });
      if (!result.ok) throw result.error;
      latencyMsMax = Math.max(latencyMsMax, performance.now() - started);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: PROPOSERS }, (_, p) => proposer(p)));
  const perSecond = done / ((performance.now() - started) / 1000);
  console.log(`puts: ${done} in ${SECONDS}s with ${PROPOSERS} proposers = ${Math.round(perSecond)}/s (slowest ${latencyMsMax.toFixed(1)} ms)`);
  return perSecond;
}

function reads(): number {
  const state = store.replica(1).state;
  const now = Date.now();
  let found = 0;
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) if (state.getSync(key((Math.random() * KEYS) | 0), now) !== undefined) found++;
    done += 1000;
  }
  const perSecond = done / ((performance.now() - started) / 1000);
  console.log(`point reads (serializable, getSync): ${done} in ${SECONDS}s = ${Math.round(perSecond)}/s (${((found / done) * 100).toFixed(0)}% found)`);
  return perSecond;
}

async function linearizableReads(): Promise<number> {
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  const reader = async (): Promise<void> => {
    while (performance.now() < until) {
      const state = await store.readState(1, "linearizable");
      state.getSync(key((Math.random() * KEYS) | 0), Date.now());
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: PROPOSERS }, reader));
  const perSecond = done / ((performance.now() - started) / 1000);
  console.log(`point reads (linearizable, ${PROPOSERS} readers, lease): ${done} in ${SECONDS}s = ${Math.round(perSecond)}/s`);
  return perSecond;
}

try {
  const putsPerSecond = await puts();
  const readsPerSecond = reads();
  const linearizablePerSecond = await linearizableReads();
  console.log(JSON.stringify({ puts_per_s: Math.round(putsPerSecond), reads_per_s: Math.round(readsPerSecond), linearizable_reads_per_s: Math.round(linearizablePerSecond), malloc: ownMalloc() }));
} finally {
  await store.close();
  await wal.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
