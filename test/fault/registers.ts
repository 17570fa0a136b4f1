// Workload (a): registers. Clients pinned to different nodes read (linearizable Range), write (Put)
// and compare-and-set (a Txn comparing the value, then putting) a few keys in every shard. Every
// operation is recorded for the linearizability checker (test/lin) with its invoke and complete
// times. A failed write or CAS may still have applied: `unknown` (in flight forever, so every call
// gets a client id of its own: the checker allows one operation in flight per client). A failed read
// is dropped.

import type { Operation } from "../lin/index.js";
import type * as t from "../../proto/etcd_types.js";
import { evenShards, ShardMap } from "../../router/shard_map.js";
import { bytes, call, certainlyNotApplied, errorKind, type NodeClients, now, sleep } from "./clients.js";

type Outcome = "ok" | "fail" | "unknown";

/** An operation of the checker's format, with the node that was asked (the checker ignores extra fields). */
export type RecordedOp = Operation & { readonly node: string };

/** A call slower than this leaves its worker free to make the next one (see worker). */
const MOVE_ON_MS = 250;
const OUTSTANDING_MAX = 16;

export interface RegisterOptions {
  /** The keys' common prefix: a run's own, so that its history starts from absent keys. */
  readonly prefix: string;
  /** The cluster's data shards (split evenly at bootstrap) and how many keys to use in each. */
  readonly shards: number;
  readonly keysPerShard: number;
  /** Concurrent clients; client i talks to node i mod nodes. */
  readonly clients: number;
  readonly opTimeoutMs: number;
  readonly random: () => number;
}

export class RegisterWorkload {
  readonly history: RecordedOp[] = [];
  private nextId = 1;
  private nextClient = 1;
  private running = true;
  private readonly workers: Promise<void>[] = [];
  /** The last value each key was seen to hold (for CAS's expected value). */
  private readonly seen = new Map<string, string>();
  private valueSeq = 0;
  private keys: string[] | undefined;
  /** Failed calls by kind (status and message), for the summary. */
  readonly errors = new Map<string, number>();

  constructor(
    private readonly nodes: readonly NodeClients[],
    private readonly options: RegisterOptions,
  ) {}

  /** `keysPerShard` names in each shard of the bootstrap map (found by trying suffixes), in shard order. */
  keyNames(): string[] {
    if (this.keys !== undefined) return this.keys;
    const map = new ShardMap(1, evenShards(this.options.shards, [1, 2, 3], 3));
    const keys: string[] = [];
    for (const shard of map.shards) {
      for (let attempt = 0, found = 0; found < this.options.keysPerShard; attempt++) {
        const key = `${this.options.prefix}/s${shard.id}/r${attempt}`;
        if (map.shardFor(Buffer.from(key)).id !== shard.id) continue;
        keys.push(key);
        found++;
      }
    }
    this.keys = keys;
    return keys;
  }

  start(): void {
    for (let i = 0; i < this.options.clients; i++) this.workers.push(this.worker(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Reads every key through every node once more (linearizable), after the faults healed: part of the history. */
  async finalReads(timeoutMs: number): Promise<number> {
    let failed = 0;
    for (const key of this.keyNames()) {
      for (const node of this.nodes) {
        const client = this.nextClient++;
        if (!(await this.read(node, client, key, timeoutMs))) failed++;
      }
    }
    return failed;
  }

  /**
   * One worker's loop. A call slower than `moveOnMs` is left running under its client id and the
   * worker goes on as a new client: a node that is frozen or cut off keeps receiving fresh calls,
   * invoked after what the rest of the cluster acknowledged meanwhile (what catches a stale read
   * served when it wakes). At most `outstandingMax` calls of a worker are in flight.
   */
  private async worker(index: number): Promise<void> {
    const keys = this.keyNames();
    const inFlight = new Set<Promise<Outcome>>();
    while (this.running) {
      const node = this.nodes[index % this.nodes.length]!;
      if (node.node.process === undefined || inFlight.size >= OUTSTANDING_MAX) {
        await Promise.race([sleep(50), ...inFlight]);
        continue;
      }
      // A fresh client id per call: each id then has at most one call in flight, whatever its fate.
      const client = this.nextClient++;
      const key = keys[Math.floor(this.options.random() * keys.length)]!;
      const dice = this.options.random();
      const seen = this.seen.get(key);
      let op: Promise<Outcome>;
      if (dice < 0.5) op = this.read(node, client, key, this.options.opTimeoutMs).then((ok) => (ok ? "ok" : "fail"));
      else if (dice < 0.75 || seen === undefined) op = this.write(node, client, key);
      else op = this.cas(node, client, key, seen);
      inFlight.add(op);
      void op.finally(() => inFlight.delete(op));
      const outcome = await Promise.race([op, sleep(MOVE_ON_MS).then(() => "slow" as const)]);
      if (outcome !== "ok" && outcome !== "slow") await sleep(50); // no busy loop against a node that is down
    }
    await Promise.all(inFlight);
  }

  private async read(node: NodeClients, client: number, key: string, timeoutMs: number): Promise<boolean> {
    const callMs = now();
    try {
      const response = await call<t.RangeResponse>((m, o, cb) => node.kv.Range({ key: bytes(key) }, m, o, cb), timeoutMs);
      const value = response.kvs[0]?.value.toString() ?? null;
      if (value !== null) this.seen.set(key, value);
      this.history.push({ id: this.nextId++, client, key, kind: "read", call: callMs, return: now(), status: "ok", value, node: node.node.name });
      return true;
    } catch (error) {
      this.tally(error);
      return false; // a read that failed changed nothing: it need not be in the history
    }
  }

  private async write(node: NodeClients, client: number, key: string): Promise<Outcome> {
    const value = `v${++this.valueSeq}`;
    const callMs = now();
    try {
      await call<t.PutResponse>((m, o, cb) => node.kv.Put({ key: bytes(key), value: bytes(value) }, m, o, cb), this.options.opTimeoutMs);
      this.history.push({ id: this.nextId++, client, key, kind: "write", call: callMs, return: now(), status: "ok", value, node: node.node.name });
      return "ok";
    } catch (error) {
      return this.failed(error, { client, key, kind: "write", call: callMs, value, node: node.node.name });
    }
  }

  private async cas(node: NodeClients, client: number, key: string, expected: string): Promise<Outcome> {
    const value = `v${++this.valueSeq}`;
    const callMs = now();
    const txn: Parameters<typeof node.kv.Txn>[0] = {
      compare: [{ key: bytes(key), target: 3 /* VALUE */, result: 0 /* EQUAL */, target_union: "value", value: bytes(expected) }],
      success: [{ request: "request_put", request_put: { key: bytes(key), value: bytes(value) } }],
      failure: [],
    };
    try {
      const response = await call<t.TxnResponse>((m, o, cb) => node.kv.Txn(txn, m, o, cb), this.options.opTimeoutMs);
      this.history.push({ id: this.nextId++, client, key, kind: "cas", call: callMs, return: now(), status: "ok", value, expected, swapped: response.succeeded, node: node.node.name });
      return "ok";
    } catch (error) {
      return this.failed(error, { client, key, kind: "cas", call: callMs, value, expected, node: node.node.name });
    }
  }

  /** Records a failed write or CAS: `fail` only when it certainly did not apply, else `unknown`. */
  private tally(error: unknown): void {
    const kind = errorKind(error);
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  private failed(error: unknown, op: Omit<RecordedOp, "id" | "status" | "return">): Outcome {
    this.tally(error);
    if (certainlyNotApplied(error)) {
      this.history.push({ ...op, id: this.nextId++, status: "fail", return: now() });
      return "fail";
    }
    this.history.push({ ...op, id: this.nextId++, status: "unknown" });
    return "unknown";
  }
}
