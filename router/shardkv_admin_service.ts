// shardkv.v1.Admin (proto/shardkv/v1/admin.proto): the shard map as the answering node knows it,
// with each shard's leader, term, indexes and on-disk size. Answered from the node's cached map and
// its own replicas only, never by asking other nodes: an operator's view must come back even while
// shards are leaderless, which is exactly when it is wanted.

import * as grpc from "@grpc/grpc-js";
import type { ServiceHandlers, shardkvAdminSpec, Writable } from "../proto/index.js";
import type { shardkv as t } from "../proto/index.js";
import type { NodeId } from "../raft/index.js";
import { RouterError } from "./errors.js";
import { unary } from "./grpc_handlers.js";
import type { ShardAccess, ShardRaftStatus } from "./shard_access.js";
import type { ShardInfo } from "./shard_map.js";

type Handlers = Required<ServiceHandlers<typeof shardkvAdminSpec.methods>>;

const UNKNOWN: ShardRaftStatus = { leader: 0, term: 0, committedIndex: 0, appliedIndex: 0 };

export class ShardkvAdminService {
  constructor(
    private readonly access: ShardAccess,
    /** This node's Raft id, which names it in every shard's replica list. */
    private readonly self: NodeId,
  ) {}

  /** The grpc-js handlers, for `server.addService(shardkv.Admin.definition, service.handlers())`. */
  handlers(): Handlers {
    return { ShardMap: unary((req) => this.shardMap(req)) };
  }

  async shardMap(req: t.ShardMapRequest): Promise<Writable<t.ShardMapResponse>> {
    const map = this.access.map();
    const missing = req.shard_ids.filter((id) => map.byId(id) === undefined);
    if (missing.length > 0) {
      throw new RouterError(
        grpc.status.NOT_FOUND,
        `Cannot show shard ${missing.join(", ")}: not in the shard map (epoch ${map.epoch}, shards ${map.shards.map((s) => s.id).join(", ")})`,
        "ask for the shards listed, or leave shard_ids empty for all of them",
      );
    }
    const wanted = new Set(req.shard_ids);
    const shards = map.shards.filter((shard) => wanted.size === 0 || wanted.has(shard.id));
    return {
      cluster_id: String(this.access.clusterId),
      member_id: String(this.access.memberId),
      map_epoch: String(map.epoch),
      shards: await Promise.all(shards.map((shard) => this.status(shard))),
    };
  }

  private async status(shard: ShardInfo): Promise<Writable<t.ShardStatus>> {
    const raft = this.raftStatus(shard.id);
    return {
      id: shard.id,
      hash_start: shard.start,
      hash_end: String(shard.end),
      replicas: shard.replicas.map(String),
      epoch: String(shard.epoch),
      held_here: shard.replicas.includes(this.self),
      leader: String(raft.leader),
      term: String(raft.term),
      committed_index: String(raft.committedIndex),
      applied_index: String(raft.appliedIndex),
      size_bytes: String(await this.access.shardSizeBytes(shard.id)),
    };
  }

  /** A shard's status never fails the whole map: one this access cannot describe is all zeros. */
  private raftStatus(shard: number): ShardRaftStatus {
    try {
      return this.access.raftStatus(shard);
    } catch (error) {
      if (error instanceof RouterError) return UNKNOWN;
      throw error;
    }
  }
}
