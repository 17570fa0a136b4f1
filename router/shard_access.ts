// What the client-facing services need from the shards: the map to route by, a way to propose a
// command to a shard and to read its state at a consistency, and what goes into etcd's response
// header. The services never see a Store, so the same handlers will run over shards led elsewhere
// once forwarding exists.
//
// Only the local kind exists yet: one Store that hosts a replica of every shard (tests, a single
// node). Forwarding to the node that leads a shard, over the peer stream with the shard map's
// epoch, belongs to the node issue; `read` returning a ShardState will then become a range
// request answered by the shard's leader, since a remote state cannot be handed out.

import type { ApplyResult, CommandBody, ShardState } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { StoreError } from "../shard/store_error.js";
import { RouterError } from "./errors.js";
import type { ShardMap } from "./shard_map.js";

export type ReadConsistency = "linearizable" | "serializable";

export interface ShardAccess {
  /** The shard map to route by (the node's cached copy of the meta group's). */
  map(): ShardMap;
  /** Proposes a command to a shard; resolves once it applied, with its (possibly failed) result. */
  propose(shard: number, body: CommandBody): Promise<ApplyResult>;
  /** A shard's state, ready to answer a read at `consistency`; read from it at once. */
  read(shard: number, consistency: ReadConsistency): Promise<ShardState>;
  /** The node's wall clock (ms): a key whose TTL passed is invisible to reads from then on. */
  nowMs(): number;
  /** The response header's ids (uint64). */
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** The Raft term of the shard as this node knows it (the leader's term when it leads). */
  raftTerm(shard: number): number;
}

/** Every shard on one local Store. A shard without a replica here is UNAVAILABLE (no forwarding yet). */
export class LocalShardAccess implements ShardAccess {
  constructor(
    private readonly store: Store,
    private shardMap: ShardMap,
    readonly memberId: bigint,
    readonly clusterId: bigint,
  ) {}

  map(): ShardMap {
    return this.shardMap;
  }

  /** A newer map from the meta group; an older epoch is ignored. */
  updateMap(next: ShardMap): void {
    if (next.epoch > this.shardMap.epoch) this.shardMap = next;
  }

  async propose(shard: number, body: CommandBody): Promise<ApplyResult> {
    this.requireReplica(shard);
    // A follower replica forwards the proposal to its leader inside Raft and answers once it applied here.
    return await this.store.propose(shard, body);
  }

  async read(shard: number, consistency: ReadConsistency): Promise<ShardState> {
    this.requireReplica(shard);
    return await this.store.readState(shard, consistency);
  }

  nowMs(): number {
    return this.store.nowMs();
  }

  raftTerm(shard: number): number {
    return this.requireReplica(shard).raw.raft.term;
  }

  private requireReplica(shard: number): ReturnType<Store["replica"]> {
    try {
      return this.store.replica(shard);
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== "NOT_FOUND") throw error;
      throw RouterError.unavailable(
        `shardkv: shard ${shard} has no replica on member ${this.memberId}`,
        "forwarding to the nodes that hold it is not implemented yet; send the request to a node that holds the shard",
      );
    }
  }
}
