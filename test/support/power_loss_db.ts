// A memory-level database that can lose power the way LevelDB does: writes made with `sync: true`
// (and every write before them, LevelDB's log being one sequence) survive; of the writes after the
// last synced one, only some prefix does. `crash(random)` returns that surviving database.
// It watches the live database's 'write' and 'clear' events, which carry each call's options.

import { MemoryLevel } from "memory-level";
import type { LevelDb } from "../../shard/keyspace.js";

type Op =
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: Uint8Array }
  | { readonly type: "clear"; readonly range: Record<string, unknown> };

interface WriteOp {
  readonly type: "put" | "del";
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly sync?: boolean;
}

export function newMemoryDb(): LevelDb {
  return new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
}

export class PowerLossDb {
  readonly db: LevelDb = newMemoryDb();
  /** Writes since the last synced one, in order: a crash keeps a prefix of them. */
  private pending: Op[][] = [];
  /** Everything up to the last synced write. */
  private durable: Op[][] = [];

  constructor() {
    this.db.on("write", (operations: WriteOp[]) => {
      const ops: Op[] = operations.map((op) => (op.type === "put" ? { type: "put", key: copy(op.key), value: copy(op.value!) } : { type: "del", key: copy(op.key) }));
      this.pending.push(ops);
      if (operations.some((op) => op.sync === true)) {
        this.durable.push(...this.pending);
        this.pending = [];
      }
    });
    this.db.on("clear", (options: Record<string, unknown>) => {
      const range: Record<string, unknown> = {};
      for (const bound of ["gt", "gte", "lt", "lte"]) if (options[bound] !== undefined) range[bound] = copy(options[bound] as Uint8Array);
      this.pending.push([{ type: "clear", range }]);
    });
  }

  get unsyncedWrites(): number {
    return this.pending.length;
  }

  /**
   * The database as it reads after a power cut at this instant: every synced write, and the first
   * `keep` of the rest. What the old instance writes after the call is lost with it.
   */
  async crash(keep: number): Promise<PowerLossDb> {
    const survivors = [...this.durable, ...this.pending.slice(0, keep)];
    this.db.removeAllListeners("write");
    this.db.removeAllListeners("clear");
    const next = new PowerLossDb();
    await next.db.open();
    for (const ops of survivors) {
      for (const op of ops) {
        if (op.type === "put") await next.db.put(op.key, op.value);
        else if (op.type === "del") await next.db.del(op.key);
        else await next.db.clear(op.range);
      }
    }
    // What survived is durable from here on.
    next.durable = [...next.pending];
    next.pending = [];
    return next;
  }
}

function copy(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes);
}
