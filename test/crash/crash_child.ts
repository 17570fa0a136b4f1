// The process that the crash test kills: one node with one shard on real files (classic-level and the
// WAL in a folder on disk). On start it prints what survived, then writes transactions of two keys,
// printing "ack N" for each one the store acknowledged, until it is killed.
// Usage: crash_child.ts DIR LIFE

import type { LevelDb } from "../../shard/keyspace.js";
import { openNodeDb } from "../../shard/node_db.js";
import { Store } from "../../shard/store.js";
import { Wal } from "../../shard/wal/wal.js";

const [dir, lifeArg] = process.argv.slice(2);
if (dir === undefined || lifeArg === undefined) throw new Error("usage: crash_child.ts DIR LIFE");
const life = Number(lifeArg);
const CONCURRENCY = 32;

const bytes = (s: string): Uint8Array => Buffer.from(s);
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const db: LevelDb = await openNodeDb(`${dir}/db`);
const wal = await Wal.open({ dir: `${dir}/wal`, segmentBytesMax: 256 * 1024 });
const store = await Store.open({
  nodeId: 1,
  db,
  wal,
  transport: { send: () => undefined },
  tickMs: 10,
  compaction: { entriesPerCheckpoint: 300, entriesRetained: 50 },
  onFatal: (error) => {
    out(`fatal ${error.message}`);
    process.exit(70);
  },
});
if (store.groups().length === 0) await store.createGroup(1, [1]);

// What survived, read in one range (one LevelDB snapshot), after a linearizable read: the leader of
// the new term has committed and applied everything the log holds, acknowledged or not.
while (!store.replica(1).isLeader) await new Promise((resolve) => setTimeout(resolve, 5));
const state = await store.readState(1, "linearizable");
const { kvs } = await state.range({ key: bytes("a/"), rangeEnd: bytes("b0") }, Date.now());
const families: Record<string, number[]> = { a: [], b: [] };
for (const kv of kvs) {
  const [family, n] = Buffer.from(kv.key).toString().split("/") as [string, string];
  if (Buffer.from(kv.value).toString() !== n) throw new Error(`key ${family}/${n} holds ${Buffer.from(kv.value).toString()}`);
  families[family]?.push(Number(n));
}
out(`state ${JSON.stringify({ ...families, applied: state.applied.index })}`);

out("ready");

let next = life * 1_000_000;
async function writer(): Promise<void> {
  for (;;) {
    const n = next++;
    const value = bytes(String(n));
    const result = await store.propose(1, {
      op: "txn",
      txn: { compare: [], success: [{ put: { key: bytes(`a/${n}`), value } }, { put: { key: bytes(`b/${n}`), value } }], failure: [] },
    });
    if (!result.ok) throw result.error;
    out(`ack ${n}`);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, writer));
