// The state machine a simulated replica runs: the tiny KvMachine (fast, for thousands of seeds) or
// the real shard state machine (shard/mvcc over memory-level, snapshots streamed through the real
// sink). Calls finish through callbacks: the KvMachine answers at once, the real one after its
// promises settle, which the simulation waits for before its next event, so simulated time does
// not move while LevelDB works and a seed still replays exactly.

import { MemoryLevel } from "memory-level";
import type { ConfState, Entry } from "../../raft/index.js";
import { type LevelDb, replicaPrefix } from "../../shard/keyspace.js";
import { encodeCommand as encodeMvccCommand, ShardState, type TxnResponse } from "../../shard/mvcc/index.js";
import { commitStaged, SnapshotSink } from "../../shard/snapshot/snapshot_sink.js";
import { SnapshotSource } from "../../shard/snapshot/snapshot_source.js";
import { decodeCommand, encodeCommand as encodeKvCommand, type KvCommand, KvMachine } from "./kv_machine.js";

export type MachineKind = "kv" | "mvcc";

/** A client write that applied: its request id and, for a compare-and-set, whether it swapped. */
export interface SimWrite {
  readonly id: string;
  readonly swapped: boolean;
}

export interface SimMachine {
  apply(entries: readonly Entry[], confStateAt: (index: number) => ConfState, done: (writes: readonly SimWrite[]) => void): void;
  read(key: string): string | null;
  serialize(done: (data: Uint8Array) => void): void;
  digest(done: (digest: string) => void): void;
}

/** What a simulation shares with its machines: how commands are encoded and how request ids map. */
export class MachineCodec {
  private readonly ids = new Map<bigint, string>();
  private nextId = 1n;
  /** Async work in flight in any machine; the simulation settles it before its next event. */
  pending = 0;
  /** The first error thrown inside a machine: a bug the run reports. */
  failure: unknown;
  /** Machines started from a snapshot's data (after a crash, or a snapshot from the leader). */
  restores = 0;

  constructor(readonly kind: MachineKind) {}

  encode(command: KvCommand, nowMicros: number): Uint8Array {
    if (this.kind === "kv") return encodeKvCommand(command);
    const requestId = this.nextId++;
    this.ids.set(requestId, command.id);
    const header = { nowMs: Math.floor(nowMicros / 1000), requestId };
    const key = Buffer.from(command.key);
    const value = Buffer.from(command.value);
    if (command.op === "put") return encodeMvccCommand({ header, op: "put", put: { key, value } });
    const compare =
      command.expected === null
        ? { key, target: "create" as const, result: "equal" as const, value: 0 }
        : { key, target: "value" as const, result: "equal" as const, value: Buffer.from(command.expected) };
    return encodeMvccCommand({ header, op: "txn", txn: { compare: [compare], success: [{ put: { key, value } }], failure: [] } });
  }

  idOf(requestId: bigint): string | undefined {
    return this.ids.get(requestId);
  }

  /** Starts a machine from snapshot data (empty for a new replica). */
  restore(data: Uint8Array, done: (machine: SimMachine) => void): void {
    if (data.byteLength > 0) this.restores++;
    if (this.kind === "kv") {
      done(new KvSimMachine(KvMachine.deserialize(data)));
      return;
    }
    this.track(MvccSimMachine.restore(this, data), done);
  }

  track<T>(work: Promise<T>, done: (value: T) => void): void {
    this.pending++;
    work.then(
      (value) => {
        this.pending--;
        try {
          done(value);
        } catch (error) {
          this.failure ??= error;
        }
      },
      (error: unknown) => {
        this.pending--;
        // A failure inside the real state machine is a bug the run must report, not swallow.
        this.failure ??= error;
      },
    );
  }
}

class KvSimMachine implements SimMachine {
  constructor(private readonly kv: KvMachine) {}

  apply(entries: readonly Entry[], _confStateAt: (index: number) => ConfState, done: (writes: readonly SimWrite[]) => void): void {
    const writes: SimWrite[] = [];
    for (const entry of entries) {
      if (entry.type !== "normal") continue;
      const command = decodeCommand(entry.data);
      if (command === undefined) continue;
      const result = this.kv.apply(command);
      if (!result.duplicate) writes.push({ id: command.id, swapped: result.swapped });
    }
    done(writes);
  }

  read(key: string): string | null {
    return this.kv.get(key);
  }

  serialize(done: (data: Uint8Array) => void): void {
    done(this.kv.serialize());
  }

  digest(done: (digest: string) => void): void {
    done(this.kv.digest());
  }
}

const GROUP = 1;

class MvccSimMachine implements SimMachine {
  private constructor(
    private readonly codec: MachineCodec,
    private readonly db: LevelDb,
    private readonly state: ShardState,
  ) {}

  /** A fresh database per start: what a crash loses is whatever the snapshot did not hold. */
  static async restore(codec: MachineCodec, data: Uint8Array): Promise<SimMachine> {
    const db: LevelDb = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    let prefix = replicaPrefix(GROUP, 0);
    if (data.byteLength > 0) {
      const sink = await SnapshotSink.begin(db, GROUP);
      for (const chunk of unframe(data)) await sink.write(chunk);
      const staged = sink.finish();
      await commitStaged(db, staged);
      prefix = staged.prefix;
    }
    return new MvccSimMachine(codec, db, await ShardState.open({ db, prefix }));
  }

  apply(entries: readonly Entry[], confStateAt: (index: number) => ConfState, done: (writes: readonly SimWrite[]) => void): void {
    const work = this.state.apply(entries, confStateAt).then((results) => {
      const writes: SimWrite[] = [];
      for (const result of results) {
        const id = this.codec.idOf(result.requestId);
        if (id === undefined) continue;
        if (!result.ok) throw new Error(`simulated command ${id} failed at index ${result.index}: ${result.error.message}`);
        const swapped = "succeeded" in result.response ? (result.response as TxnResponse).succeeded : true;
        writes.push({ id, swapped });
      }
      return writes;
    });
    this.codec.track(work, done);
  }

  read(key: string): string | null {
    const kv = this.state.getSync(Buffer.from(key), 0);
    return kv === undefined ? null : Buffer.from(kv.value).toString();
  }

  serialize(done: (data: Uint8Array) => void): void {
    const work = (async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of SnapshotSource.take(this.db, this.state.prefix).chunks(2048)) chunks.push(chunk);
      return frame(chunks);
    })();
    this.codec.track(work, done);
  }

  digest(done: (digest: string) => void): void {
    this.codec.track(
      this.state.hash().then((hash) => `${this.state.applied.index}:${hash.toString(16)}`),
      done,
    );
  }
}

/** Snapshot chunks in one buffer, each behind its length, as the sim's MemoryStorage holds bytes. */
function frame(chunks: readonly Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32LE(chunk.byteLength, 0);
    parts.push(length, Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

function* unframe(data: Uint8Array): Generator<Uint8Array> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < buf.length; ) {
    const length = buf.readUInt32LE(at);
    yield buf.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
}
