// Test fixtures: a memory-level database, entries built from commands, and byte helpers, so that
// the tests read as stories about keys and revisions rather than about encodings.

import { MemoryLevel } from "memory-level";
import type { ConfState, Entry } from "../../raft/index.js";
import type { ApplyResult, Command, CommandBody } from "./command.js";
import type { MvccError } from "./errors.js";
import { encodeCommand } from "./command_codec.js";
import type { MvccLimits } from "./limits.js";
import { ShardState } from "./shard_state.js";
import type { MvccBatchOp, MvccChainedBatch, MvccDb } from "./store.js";

export const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "utf8"));
export const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");

export function memoryDb(): MvccDb {
  return new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
}

export const CONF: ConfState = { voters: [1, 2, 3], learners: [] };
export const confAt = (): ConfState => CONF;

/** A shard on a fresh memory database, with a helper that applies commands as consecutive entries. */
export async function openShard(limits?: Partial<MvccLimits>, db: MvccDb = memoryDb(), prefix = bytes("s1/")) {
  const state = await ShardState.open(limits === undefined ? { db, prefix } : { db, prefix, limits });
  return { db, state, ...driver(state) };
}

export function driver(state: ShardState, term = 1) {
  let nowMs = 1_000_000;
  const entryOf = (body: CommandBody, index: number, at: number): Entry => ({
    term,
    index,
    type: "normal",
    data: encodeCommand({ header: { nowMs: at, requestId: BigInt(index) }, ...body } as Command),
  });
  /** Applies each command as the next entry; returns the results. */
  const run = async (...bodies: CommandBody[]) => {
    const first = state.applied.index + 1;
    return state.apply(bodies.map((body, i) => entryOf(body, first + i, nowMs)), confAt);
  };
  /** Applies one command and returns its result, asserting nothing. */
  const one = async (body: CommandBody) => {
    const [result] = await run(body);
    if (result === undefined) throw new Error("no result");
    return result;
  };
  return {
    run,
    one,
    entryOf,
    setNow: (ms: number) => {
      nowMs = ms;
    },
    now: () => nowMs,
    put: (key: string, value: string, extra: Partial<{ lease: bigint; ttlMs: number; prevKv: boolean }> = {}) =>
      one({ op: "put", put: { key: bytes(key), value: bytes(value), ...extra } }),
    del: (key: string, rangeEnd?: string) =>
      one({ op: "deleteRange", deleteRange: rangeEnd === undefined ? { key: bytes(key) } : { key: bytes(key), rangeEnd: bytes(rangeEnd) } }),
  };
}

/** The error of a failed result; throws if the result succeeded. */
export function errorOf(result: ApplyResult): MvccError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.response, jsonBigint)}`);
  return result.error;
}

/** The response of a successful result, typed as the caller expects; throws if it failed. */
export function responseOf<T>(result: ApplyResult): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.response as T;
}

function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

/** Every database key and value, hex, in order: to assert that two databases hold the same bytes. */
export async function dump(db: MvccDb, from = new Uint8Array(0)): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const iterator = db.iterator({ gte: from });
  for (;;) {
    const chunk = await iterator.nextv(1000);
    if (chunk.length === 0) break;
    for (const [key, value] of chunk) out.push([Buffer.from(key!).toString("hex"), Buffer.from(value!).toString("hex")]);
  }
  await iterator.close();
  return out;
}

/** A memory database that counts its batch writes and holds each until the test releases or fails it. */
export interface GatedDb {
  readonly db: MvccDb;
  /** Batch writes started so far. */
  writes(): number;
  /** Batch writes started and not yet released or failed. */
  waiting(): number;
  release(): void;
  fail(error: Error): void;
}

export function gatedDb(): GatedDb {
  const db = memoryDb();
  const gates: { resolve: () => void; reject: (error: Error) => void }[] = [];
  let writes = 0;
  const original = db.batch.bind(db) as { (ops: MvccBatchOp[]): Promise<void>; (): MvccChainedBatch };
  const gated = (): MvccChainedBatch => {
    const inner = original();
    return {
      put: (key, value) => inner.put(key, value),
      del: (key) => inner.del(key),
      write: () => {
        writes++;
        return new Promise<void>((resolve, reject) => gates.push({ resolve, reject })).then(() => inner.write());
      },
    };
  };
  Object.assign(db, { batch: (ops?: MvccBatchOp[]) => (ops === undefined ? gated() : original(ops)) });
  return {
    db,
    writes: () => writes,
    waiting: () => gates.length,
    release: () => gates.shift()?.resolve(),
    fail: (error) => gates.shift()?.reject(error),
  };
}
