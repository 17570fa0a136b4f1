import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import type { Entry } from "../../raft/index.js";
import { CONF, bytes, confAt, driver, dump, errorOf, memoryDb, openShard, text } from "./fixtures.js";
import { ShardState } from "./shard_state.js";
import type { CommandBody } from "./command.js";
import { encodeCommand } from "./command_codec.js";

const ALL = { key: bytes("\0"), rangeEnd: bytes("\0") };

function entries(bodies: CommandBody[], firstIndex = 1, nowMs = 1_000): Entry[] {
  return bodies.map((body, i) => ({
    term: 2,
    index: firstIndex + i,
    type: "normal",
    data: encodeCommand({ header: { nowMs: nowMs + i, requestId: BigInt(i) }, ...body }),
  }));
}

const someCommands: CommandBody[] = [
  { op: "leaseGrant", id: 1n, ttlSeconds: 10 },
  { op: "put", put: { key: bytes("a"), value: bytes("1"), lease: 1n } },
  { op: "put", put: { key: bytes("b"), value: bytes("2"), ttlMs: 5 } },
  { op: "put", put: { key: bytes("c"), value: bytes("3") } },
  { op: "deleteRange", deleteRange: { key: bytes("c"), rangeEnd: bytes("\0") } },
  { op: "put", put: { key: bytes("a"), value: bytes("4"), lease: 1n } },
  { op: "expireKeys", keys: [bytes("b")] },
  { op: "leaseRevoke", id: 1n },
  { op: "compact", revision: 3 },
  { op: "put", put: { key: bytes("d"), value: bytes("5") } },
  { op: "purgeTombstones", beforeRevision: 6 },
];

describe("ShardState", () => {
  test("a fresh prefix starts at applied {0, 0} with no leases", async () => {
    const state = await ShardState.open({ db: memoryDb(), prefix: bytes("x") });
    expect(state.applied).toEqual({ index: 0, term: 0 });
    expect(state.revision).toBe(0);
    expect(state.leases()).toEqual([]);
  });

  test("after a reopen, entries already applied are skipped and the rest apply once", async () => {
    const db = memoryDb();
    const first = await ShardState.open({ db, prefix: bytes("p") });
    const all = entries([
      { op: "put", put: { key: bytes("a"), value: bytes("1") } },
      { op: "put", put: { key: bytes("a"), value: bytes("2") } },
      { op: "put", put: { key: bytes("a"), value: bytes("3") } },
    ]);
    await first.apply(all.slice(0, 2), confAt);
    await first.close();
    const second = await ShardState.open({ db, prefix: bytes("p") });
    expect(second.applied).toEqual({ index: 2, term: 2 });
    const results = await second.apply(all, confAt);
    expect(results.map((r) => r.index)).toEqual([3]);
    expect(second.getSync(bytes("a"), 0)).toMatchObject({ version: 3, modRevision: 3 });
  });

  test("an empty entry only advances the applied index; a confChange stores the configuration", async () => {
    const { state, db } = await openShard();
    const hashBefore = await state.hash();
    const conf = { voters: [1, 2], learners: [4] };
    const results = await state.apply(
      [
        { term: 3, index: 1, type: "normal", data: new Uint8Array(0) },
        { term: 3, index: 2, type: "confChange", data: Uint8Array.of(1, 2, 3) },
      ],
      (index) => (index === 2 ? conf : CONF),
    );
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(state.applied).toEqual({ index: 2, term: 3 });
    expect(state.confState).toEqual(conf);
    expect(await state.hash()).not.toBe(hashBefore);
    const reopened = await ShardState.open({ db, prefix: state.prefix });
    expect(reopened.confState).toEqual(conf);
  });

  test("an entry that is not a command fails deterministically and changes only the applied index", async () => {
    const { state } = await openShard();
    const [result] = await state.apply([{ term: 1, index: 1, type: "normal", data: Uint8Array.of(1, 99, 0) }], confAt);
    expect(errorOf(result!).code).toBe("INVALID_ARGUMENT");
    expect(state.revision).toBe(1);
  });

  test("a gap in the entries is a bug in the caller and throws", async () => {
    const { state } = await openShard();
    await expect(state.apply(entries([{ op: "compact", revision: 1 }], 5), confAt)).rejects.toThrow(/without a gap/);
  });

  test("nothing outside the prefix is read or written, and other shards are untouched", async () => {
    const db = memoryDb();
    const neighbour = await ShardState.open({ db, prefix: bytes("s2/") });
    await neighbour.apply(entries(someCommands), confAt);
    await neighbour.flushed();
    const neighbourBytes = await dump(db);
    const state = await ShardState.open({ db, prefix: bytes("s1/") });
    await state.apply(entries(someCommands), confAt);
    await state.flushed();
    const everything = await dump(db);
    const mine = everything.filter(([key]) => key.startsWith(Buffer.from("s1/").toString("hex")));
    expect(everything.length).toBe(neighbourBytes.length + mine.length);
    expect(everything.filter(([key]) => !key.startsWith(Buffer.from("s1/").toString("hex")))).toEqual(neighbourBytes);
    expect(await state.hash()).toBe(await neighbour.hash()); // hashes ignore the prefix
  });

  test("replicas fed the same entries in differently sized calls hold the same bytes", async () => {
    const all = entries(someCommands);
    const states: ShardState[] = [];
    for (const split of [[all.length], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 5, 3]]) {
      const db = memoryDb();
      const state = await ShardState.open({ db, prefix: bytes("r/") });
      let at = 0;
      for (const size of split) {
        await state.apply(all.slice(at, at + size), confAt);
        at += size;
      }
      states.push(state);
      expect(state.applied.index).toBe(all.length);
    }
    const hashes = await Promise.all(states.map((s) => s.hash()));
    expect(new Set(hashes).size).toBe(1);
  });

  test("a shard copied byte for byte under a new prefix reopens to the same state", async () => {
    const s = await openShard();
    await s.state.apply(entries(someCommands), confAt);
    await s.state.flushed();
    const target = memoryDb();
    await target.open();
    const rows = await dump(s.db);
    await target.batch(
      rows.map(([key, value]) => ({
        type: "put" as const,
        key: Uint8Array.of(...bytes("copy/"), ...Buffer.from(key, "hex").subarray(s.state.prefix.length)),
        value: new Uint8Array(Buffer.from(value, "hex")),
      })),
    );
    const copy = await ShardState.open({ db: target, prefix: bytes("copy/") });
    expect(copy.applied).toEqual(s.state.applied);
    expect(copy.compactRevision).toBe(s.state.compactRevision);
    expect(await copy.hash()).toBe(await s.state.hash());
    expect(await copy.range(ALL, 0)).toEqual(await s.state.range(ALL, 0));
  });

  test("a range reads one applied index even while an apply is writing", async () => {
    const s = await openShard();
    await s.run(...Array.from({ length: 50 }, (_, i): CommandBody => ({ op: "put", put: { key: bytes(`k${i}`), value: bytes("0") } })));
    const writes = s.run(...Array.from({ length: 50 }, (_, i): CommandBody => ({ op: "put", put: { key: bytes(`k${i}`), value: bytes("1") } })));
    const read = s.state.range(ALL, 0);
    const [answer] = await Promise.all([read, writes]);
    const values = new Set(answer.kvs.map((kv) => text(kv.value)));
    expect(values.size).toBe(1);
    expect(answer.revision === 50 ? values.has("0") : values.has("1") && answer.revision === 100).toBe(true);
  });

  test("state applied on classic-level survives closing and reopening the database", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mvcc-"));
    try {
      let db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
      let state = await ShardState.open({ db, prefix: bytes("c/") });
      await state.apply(entries(someCommands), confAt);
      const hash = await state.hash();
      const range = await state.range(ALL, 0);
      await state.close();
      await db.close();
      db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
      state = await ShardState.open({ db, prefix: bytes("c/") });
      expect(state.applied.index).toBe(someCommands.length);
      expect(await state.hash()).toBe(hash);
      expect(await state.range(ALL, 0)).toEqual(range);
      expect(text(state.getSync(bytes("d"), 0)?.value)).toBe("5");
      await db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("ShardState against a naive model", () => {
  type Op =
    | { kind: "put"; key: string; value: string }
    | { kind: "del"; key: string; end: string | undefined }
    | { kind: "check"; key: string; end: string; back: number };
  const key = fc.constantFrom("a", "b", "ba", "c", "d\0x", "e");
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("put" as const), key, value: fc.string({ maxLength: 3 }) }),
    fc.record({ kind: fc.constant("del" as const), key, end: fc.option(fc.constantFrom("b", "c", "e", "\0"), { nil: undefined }) }),
    fc.record({ kind: fc.constant("check" as const), key, end: fc.constantFrom("b", "c", "f", "\0"), back: fc.nat(6) }),
  );
  interface ModelKv {
    value: string;
    create: number;
    mod: number;
    version: number;
  }
  const inRange = (k: string, start: string, end: string | undefined) =>
    end === undefined ? k === start : k >= start && (end === "\0" || k < end);

  test("put, delete and range (now and at past revisions) agree with a Map", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const db = memoryDb();
        const state = await ShardState.open({ db, prefix: bytes("m/") });
        const run = driver(state);
        const model = new Map<string, ModelKv>();
        const history: Map<string, ModelKv>[] = [new Map()]; // history[rev] = model after rev
        for (const o of ops) {
          if (o.kind === "check") {
            const revision = Math.max(1, state.revision - o.back);
            const expected = [...(history[revision] ?? new Map<string, ModelKv>())]
              .filter(([k]) => inRange(k, o.key, o.end))
              .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
              .map(([k, kv]) => [k, kv.value, kv.create, kv.mod, kv.version]);
            if (state.revision === 0) continue;
            const answer = await state.range({ key: bytes(o.key), rangeEnd: bytes(o.end), revision }, 0);
            expect(answer.kvs.map((kv) => [text(kv.key), text(kv.value), kv.createRevision, kv.modRevision, kv.version])).toEqual(expected);
            expect(answer.count).toBe(expected.length);
            continue;
          }
          const revision = state.revision + 1;
          if (o.kind === "put") {
            await run.put(o.key, o.value);
            const old = model.get(o.key);
            model.set(o.key, { value: o.value, create: old?.create ?? revision, mod: revision, version: (old?.version ?? 0) + 1 });
          } else {
            await run.del(o.key, o.end);
            for (const k of [...model.keys()]) if (inRange(k, o.key, o.end)) model.delete(k);
          }
          history[revision] = new Map(model);
        }
      }),
      { numRuns: 150 },
    );
  });
});
