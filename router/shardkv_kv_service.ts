// shardkv.v1.KV (proto/shardkv/v1/kv.proto): our own key-value API over the shards, beside etcd's.
// Every write is one txn on the key's shard, so a compare-and-set and the read-back of what was
// written are atomic; a MultiPut is one txn per shard, and spans shards only when the caller says
// that a partial write is acceptable. Reads take an explicit consistency, bounded staleness
// included (ShardAccess.rangeBounded). It runs over ShardAccess, so it works on any node.
//
// A lost compare-and-set answers succeeded=false with the key as it is, not an error: a caller in
// a CAS loop wants the current version to try again, and a race is an expected outcome, not a fault.

import * as grpc from "@grpc/grpc-js";
import type { ServiceHandlers, shardkvKvSpec, Writable } from "../proto/index.js";
import { shardkv as t } from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import { quoteKey, RouterError, toGrpcStatus } from "./errors.js";
import { unary } from "./grpc_handlers.js";
import type { ShardAccess } from "./shard_access.js";
import {
  expectedFromWire,
  headerToWire,
  kvToWire,
  type ReadMode,
  readModeFromWire,
  requireOwnKey,
  servedToWire,
  ttlFromWire,
} from "./shardkv_convert.js";
import { increment } from "./shardkv_increment.js";

type Handlers = Required<ServiceHandlers<typeof shardkvKvSpec.methods>>;

/** Keys one MultiGet may ask for: each is a read of its own, and they all run at once. */
export const MULTI_GET_KEYS_MAX = 1024;

/** One key read: what it found, the shard's revision it is as of, and whether it was served within a staleness bound. */
interface KeyRead {
  readonly shard: number;
  readonly kv: mvcc.KeyValue | undefined;
  readonly revision: number;
  readonly servedLocally: boolean;
}

export class ShardkvKvService {
  constructor(private readonly access: ShardAccess) {}

  /** The grpc-js handlers, for `server.addService(shardkv.KV.definition, service.handlers())`. */
  handlers(): Handlers {
    return {
      Get: unary((req) => this.get(req)),
      Put: unary((req) => this.put(req)),
      Delete: unary((req) => this.delete(req)),
      MultiGet: unary((req) => this.multiGet(req)),
      MultiPut: unary((req) => this.multiPut(req)),
      Increment: unary((req) => this.increment(req)),
    };
  }

  async get(req: t.GetRequest): Promise<Writable<t.GetResponse>> {
    requireOwnKey(req.key, "get");
    const mode = readModeFromWire(req.consistency, req.max_staleness_ms);
    const read = await this.readKey(req.key, mode);
    return {
      header: this.header(read.shard, read.revision),
      found: read.kv !== undefined,
      kv: read.kv === undefined ? null : kvToWire(read.kv, read.shard),
      served_consistency: servedToWire(mode, read.servedLocally),
    };
  }

  async put(req: t.PutRequest): Promise<Writable<t.PutResponse>> {
    requireOwnKey(req.key, "put");
    const ttl = ttlFromWire(req.ttl_ms);
    const compare = expectedFromWire(req);
    const key = req.key;
    const shard = this.access.map().shardFor(key).id;
    const done = await this.txn(shard, {
      compare: compare === undefined ? [] : [compare],
      success: [{ put: { key, value: req.value, ...ttl } }, { range: { key } }],
      failure: [{ range: { key } }],
    });
    const kv = lastRangeKv(done.response);
    return { header: this.header(shard, done.revision), succeeded: done.response.succeeded, kv: kv === undefined ? null : kvToWire(kv, shard) };
  }

  async delete(req: t.DeleteRequest): Promise<Writable<t.DeleteResponse>> {
    requireOwnKey(req.key, "delete");
    const compare = expectedFromWire(req);
    const key = req.key;
    const shard = this.access.map().shardFor(key).id;
    const done = await this.txn(shard, {
      compare: compare === undefined ? [] : [compare],
      success: [{ deleteRange: { key, prevKv: true } }],
      failure: [{ range: { key } }],
    });
    const first = done.response.responses[0];
    const previous = first !== undefined && "deleteRange" in first ? first.deleteRange.prevKvs[0] : lastRangeKv(done.response);
    return {
      header: this.header(shard, done.revision),
      succeeded: done.response.succeeded,
      deleted: done.response.succeeded && previous !== undefined,
      kv: previous === undefined ? null : kvToWire(previous, shard),
    };
  }

  async multiGet(req: t.MultiGetRequest): Promise<Writable<t.MultiGetResponse>> {
    if (req.keys.length === 0) throw RouterError.invalidArgument("Cannot MultiGet: no keys given; list at least one key");
    if (req.keys.length > MULTI_GET_KEYS_MAX) {
      throw RouterError.invalidArgument(`Cannot MultiGet ${req.keys.length} keys: at most ${MULTI_GET_KEYS_MAX} per call; split the keys over several calls`);
    }
    req.keys.forEach((key, i) => requireOwnKey(key, `MultiGet key ${i}`));
    const mode = readModeFromWire(req.consistency, req.max_staleness_ms);
    const reads = await Promise.all(req.keys.map((key) => this.readKey(key, mode)));
    // Per shard, the latest revision its reads saw: each key's read is as of at most that.
    const revisions = new Map<number, number>();
    for (const read of reads) revisions.set(read.shard, Math.max(read.revision, revisions.get(read.shard) ?? 0));
    const headers = [...revisions.entries()].sort(([a], [b]) => a - b).map(([shard, revision]) => this.header(shard, revision));
    return {
      headers,
      results: reads.map((read) => ({ found: read.kv !== undefined, kv: read.kv === undefined ? null : kvToWire(read.kv, read.shard), shard_id: read.shard })),
      served_consistency: servedToWire(mode, reads.every((read) => read.servedLocally)),
    };
  }

  async multiPut(req: t.MultiPutRequest): Promise<Writable<t.MultiPutResponse>> {
    const groups = this.groupByShard(req.entries);
    if (groups.size > 1 && !req.allow_partial) throw spanningRefusal(req.entries, groups);
    const shards = [...groups.keys()].sort((a, b) => a - b);
    const writes = shards.map(async (shard): Promise<Writable<t.MultiPutPart>> => {
      const indexes = groups.get(shard)!;
      const puts = indexes.map((i): mvcc.RequestOp => {
        const entry = req.entries[i]!;
        return { put: { key: entry.key, value: entry.value, ...ttlFromWire(entry.ttl_ms) } };
      });
      const done = await this.txn(shard, { compare: [], success: puts, failure: [] });
      return { header: this.header(shard, done.revision), entry_indexes: indexes, code: grpc.status.OK, message: "" };
    });
    if (!req.allow_partial) return { parts: [await writes[0]!] };
    // Each shard's part stands alone: a failed one is reported beside those that were written.
    const settled = await Promise.allSettled(writes);
    const parts = settled.map((outcome, i): Writable<t.MultiPutPart> => {
      if (outcome.status === "fulfilled") return outcome.value;
      const failure = toGrpcStatus(outcome.reason);
      const shard = shards[i]!;
      // No revision to report: nothing of this part was written (or its outcome is unknown).
      const header = { cluster_id: String(this.access.clusterId), member_id: String(this.access.memberId), shard_id: shard };
      return { header, entry_indexes: groups.get(shard)!, code: failure.code, message: failure.details };
    });
    return { parts };
  }

  async increment(req: t.IncrementRequest): Promise<Writable<t.IncrementResponse>> {
    requireOwnKey(req.key, "increment");
    if (!/^-?\d{1,20}$/.test(req.delta)) throw RouterError.invalidArgument(`Invalid delta ${JSON.stringify(req.delta)}: expected a decimal int64`);
    const ttl = ttlFromWire(req.ttl_ms);
    const shard = this.access.map().shardFor(req.key).id;
    const done = await increment(this.access, { shard, key: req.key, delta: BigInt(req.delta), ttlMs: ttl.ttlMs });
    return { header: this.header(shard, done.revision), value: done.value.toString(), kv: kvToWire(done.kv, shard) };
  }

  /** Entry indexes by shard, after checking every entry (keys present and unique, TTLs in range). */
  private groupByShard(entries: readonly t.PutEntry[]): Map<number, number[]> {
    if (entries.length === 0) throw RouterError.invalidArgument("Cannot MultiPut: no entries given; list at least one key and value");
    const seen = new Map<string, number>();
    const groups = new Map<number, number[]>();
    entries.forEach((entry, i) => {
      requireOwnKey(entry.key, `MultiPut entry ${i}`);
      ttlFromWire(entry.ttl_ms);
      const id = Buffer.from(entry.key).toString("latin1");
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        throw RouterError.invalidArgument(`Cannot MultiPut: key ${quoteKey(entry.key)} is both entry ${earlier} and entry ${i}; give each key once`);
      }
      seen.set(id, i);
      const shard = this.access.map().shardFor(entry.key).id;
      const group = groups.get(shard);
      if (group === undefined) groups.set(shard, [i]);
      else group.push(i);
    });
    return groups;
  }

  private async readKey(key: Uint8Array, mode: ReadMode): Promise<KeyRead> {
    const shard = this.access.map().shardFor(key).id;
    if (mode.kind === "bounded") {
      const { kvs, revision, servedLocally } = await this.access.rangeBounded(shard, { key }, mode.maxStalenessMs);
      return { shard, kv: kvs[0], revision, servedLocally };
    }
    const { kvs, revision } = await this.access.range(shard, { key }, mode.kind);
    return { shard, kv: kvs[0], revision, servedLocally: false };
  }

  /** Proposes a txn; the cast is the state machine's contract (a txn applied without error answers a TxnResponse). */
  private async txn(shard: number, txn: mvcc.TxnRequest): Promise<{ readonly response: mvcc.TxnResponse; readonly revision: number }> {
    const result = await this.access.propose(shard, { op: "txn", txn });
    if (!result.ok) throw result.error;
    return { response: result.response as mvcc.TxnResponse, revision: result.revision };
  }

  private header(shard: number, revision: number): Writable<t.ResponseHeader> {
    return headerToWire({ clusterId: this.access.clusterId, memberId: this.access.memberId, shard, revision, raftTerm: this.access.raftTerm(shard) });
  }
}

/** The key read by a txn's last op, when that op is a range (how a write reads back its key). */
function lastRangeKv(response: mvcc.TxnResponse): mvcc.KeyValue | undefined {
  const last = response.responses.at(-1);
  return last !== undefined && "range" in last ? last.range.kvs[0] : undefined;
}

/** Names two keys on different shards, and the two ways out. */
function spanningRefusal(entries: readonly t.PutEntry[], groups: ReadonlyMap<number, readonly number[]>): RouterError {
  const [first, second] = [...groups.entries()];
  const a = entries[first![1][0]!]!.key;
  const b = entries[second![1][0]!]!.key;
  return RouterError.failedPrecondition(
    `Cannot MultiPut atomically: the keys span ${groups.size} shards (key ${quoteKey(a)} is in shard ${first![0]}, key ${quoteKey(b)} in shard ${second![0]}); ` +
      `give the keys a common hash tag, like "{user:42}/name" and "{user:42}/email", so that they share a shard, ` +
      `or set allow_partial to write each shard's part atomically on its own`,
  );
}
