// etcd's KV service (Range, Put, DeleteRange, Txn, Compact) over a set of shards. A request on one
// key goes to that key's shard; a range or a delete over a range goes to every shard that may hold
// its keys (router/shard_map.ts `shardsForRange`) and their answers are merged in key order. Each
// shard's part is linearizable (or serializable) on its own; a multi-shard answer is not one snapshot
// of the whole keyspace, and a multi-shard delete is not atomic (each shard's part is).
//
// Revisions are per shard (ARCHITECTURE.md, "Revisions in a sharded etcd"). The response header's
// revision is the shard's for a one-shard request; for a multi-shard one it is the largest of the
// shards' revisions, with the raft_term of that shard: a client that feeds it back as a `revision`
// gets FAILED_PRECONDITION rather than a silently wrong answer, since a revision picks a point in
// one shard's history only.
//
// A put may name a lease of any shard: its key attaches to a stub of the lease in its own shard
// (lease_home.ts). A range over several shards sorted or filtered by revision is refused, since
// revisions compare only within a shard.

import type { kvSpec, ServiceHandlers, Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import type { ApplyResult, CommandBody } from "../shard/mvcc/index.js";
import {
  deleteRangeFromWire,
  deleteRangeResponseToWire,
  headerToWire,
  int64ToNumber,
  putFromWire,
  putResponseToWire,
  rangeFromWire,
  rangeResponseToWire,
  txnFromWire,
  txnResponseToWire,
} from "./etcd_convert.js";
import { RouterError, requireKey } from "./errors.js";
import { unary } from "./grpc_handlers.js";
import { taggedPrefixAdvice } from "./key_hash.js";
import { leasedPut, putsOfTxn, ensureLeasesAt } from "./lease_home.js";
import { byKey, mergeRanges, partRequest } from "./range_merge.js";
import type { ReadConsistency, ShardAccess } from "./shard_access.js";
import type { ShardInfo } from "./shard_map.js";
import { shardForTxn } from "./txn_routing.js";

type KvHandlers = Required<ServiceHandlers<typeof kvSpec.methods>>;

/** One shard's part of an answer, with the revision it is as of. */
interface Part<T> {
  readonly shard: number;
  readonly revision: number;
  readonly response: T;
}

export class KvService {
  constructor(private readonly access: ShardAccess) {}

  /** The grpc-js handlers, for `server.addService(etcd.KV.definition, service.handlers())`. */
  handlers(): KvHandlers {
    return {
      Range: unary((req) => this.range(req)),
      Put: unary((req) => this.put(req)),
      DeleteRange: unary((req) => this.deleteRange(req)),
      Txn: unary((req) => this.txn(req)),
      Compact: unary((req) => this.compact(req)),
    };
  }

  async range(wire: t.RangeRequest): Promise<Writable<t.RangeResponse>> {
    const req = rangeFromWire(wire);
    requireKey(req.key);
    const shards = this.access.map().shardsForRange(req.key, req.rangeEnd);
    const consistency: ReadConsistency = wire.serializable ? "serializable" : "linearizable";
    if (shards.length === 1) {
      const part = await this.rangeShard(shards[0]!, req, consistency);
      return rangeResponseToWire(part.response, this.header(part));
    }
    if ((req.revision ?? 0) > 0) {
      throw RouterError.failedPrecondition(
        `Cannot range at revision ${req.revision} over ${shards.length} shards: revisions compare only within a shard; ` +
          `${taggedPrefixAdvice(req.key, "read")}, or leave revision at 0`,
      );
    }
    const byRevision = revisionOrdering(req);
    if (byRevision !== undefined) {
      // etcd's lock and election recipes find the owner this way (the lowest create revision under
      // the name's prefix): across shards the answer would be wrong, and a lock held twice.
      throw RouterError.failedPrecondition(
        `Cannot range over ${shards.length} shards ${byRevision}: revisions compare only within a shard; ${taggedPrefixAdvice(req.key)}`,
      );
    }
    // Every shard is asked for the whole request, `limit` included: range_merge.ts says why that suffices.
    const parts = await Promise.all(shards.map((shard) => this.rangeShard(shard, partRequest(req), consistency)));
    const merged = mergeRanges(
      parts.map((part) => part.response),
      req,
    );
    return rangeResponseToWire(merged, this.header(latest(parts)));
  }

  async put(wire: t.PutRequest): Promise<Writable<t.PutResponse>> {
    const req = putFromWire(wire);
    requireKey(req.key);
    const shard = this.access.map().shardFor(req.key);
    await ensureLeasesAt(this.access, shard, [leasedPut(req)]);
    const part = await this.proposeTo<mvcc.PutResponse>(shard, { op: "put", put: req });
    return putResponseToWire(part.response, this.header(part));
  }

  async deleteRange(wire: t.DeleteRangeRequest): Promise<Writable<t.DeleteRangeResponse>> {
    const req = deleteRangeFromWire(wire);
    requireKey(req.key);
    const shards = this.access.map().shardsForRange(req.key, req.rangeEnd);
    const body: CommandBody = { op: "deleteRange", deleteRange: req };
    // In parallel and independently: if one shard fails, the others may have deleted their part.
    const parts = await Promise.all(shards.map((shard) => this.proposeTo<mvcc.DeleteRangeResponse>(shard, body)));
    const deleted = parts.reduce((sum, part) => sum + part.response.deleted, 0);
    const prevKvs = parts.flatMap((part) => part.response.prevKvs);
    if (parts.length > 1) prevKvs.sort(byKey);
    return deleteRangeResponseToWire({ deleted, prevKvs }, this.header(latest(parts)));
  }

  async txn(wire: t.TxnRequest): Promise<Writable<t.TxnResponse>> {
    const req = txnFromWire(wire);
    const shard = shardForTxn(this.access.map(), req);
    await ensureLeasesAt(this.access, shard, putsOfTxn(req));
    const part = await this.proposeTo<mvcc.TxnResponse>(shard, { op: "txn", txn: req });
    return txnResponseToWire(part.response, this.header(part));
  }

  /**
   * A compaction revision names a point in one shard's history, so it means something only when the
   * cluster has one data shard (then it is etcd's Compact, physical or not: apply compacts at once).
   * With several shards each compacts on its own (the retained-events window and the tombstone
   * retention), and an explicit Compact is refused rather than applied to the wrong history.
   */
  async compact(wire: t.CompactionRequest): Promise<Writable<t.CompactionResponse>> {
    const revision = int64ToNumber(wire.revision, "compaction revision");
    const shards = this.access.map().shards;
    if (shards.length !== 1) {
      throw RouterError.failedPrecondition(
        `Cannot compact at revision ${revision}: this cluster has ${shards.length} shards, each with its own revisions, ` +
          `so one revision names no point of the whole store; each shard compacts its own history as it goes`,
      );
    }
    const part = await this.proposeTo<mvcc.CompactResponse>(shards[0]!, { op: "compact", revision });
    return { header: this.header(part) };
  }

  private async rangeShard(shard: ShardInfo, req: mvcc.RangeRequest, consistency: ReadConsistency): Promise<Part<mvcc.RangeResponse>> {
    const { revision, ...response } = await this.access.range(shard.id, req, consistency);
    return { shard: shard.id, revision, response };
  }

  /**
   * Proposes and unwraps the result. The cast is the state machine's contract (shard/mvcc/apply.ts):
   * a command applied without error answers with the response type of its op.
   */
  private async proposeTo<R extends mvcc.CommandResponse>(shard: ShardInfo, body: CommandBody): Promise<Part<R>> {
    const result: ApplyResult = await this.access.propose(shard.id, body);
    if (!result.ok) throw result.error;
    return { shard: shard.id, revision: result.revision, response: result.response as R };
  }

  private header(part: { readonly shard: number; readonly revision: number }): Writable<t.ResponseHeader> {
    return headerToWire({
      clusterId: this.access.clusterId,
      memberId: this.access.memberId,
      revision: part.revision,
      raftTerm: this.access.raftTerm(part.shard),
    });
  }
}

/** How a range orders or filters by revision, which means nothing across shards; undefined when it does not. */
function revisionOrdering(req: mvcc.RangeRequest): string | undefined {
  // A sort target other than the key sorts even when the order is NONE (etcd then ascends).
  if (req.sortTarget === "create" || req.sortTarget === "mod") {
    return `sorted by ${req.sortTarget === "create" ? "create" : "mod"} revision`;
  }
  const filters = (["minModRevision", "maxModRevision", "minCreateRevision", "maxCreateRevision"] as const).filter((f) => (req[f] ?? 0) > 0);
  return filters.length > 0 ? `filtered by ${filters.join(", ")}` : undefined;
}

/** The part with the largest revision: what a multi-shard header reports (see the file's comment). */
function latest<T>(parts: readonly Part<T>[]): Part<T> {
  return parts.reduce((best, part) => (part.revision > best.revision ? part : best));
}
