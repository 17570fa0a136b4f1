// What the client-facing services need from the shards: the map to route by, a way to propose a
// command to a shard and to read its state at a consistency, and what goes into etcd's response
// header. The services never see a Store, so the same handlers will run over shards led elsewhere
// once forwarding exists.
//
// Only the local kind exists yet: one Store that hosts a replica of every shard (tests, a single
// node). Forwarding to the node that leads a shard, over the peer stream with the shard map's
// epoch, belongs to the node issue; `read` returning a ShardState will then become a range
// request answered by the shard's leader, since a remote state cannot be handed out.

import type { NodeId } from "../raft/index.js";
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
  /** What etcd's Status reports of a shard, as this node's replica knows it. */
  raftStatus(shard: number): ShardRaftStatus;
  /**
   * Revokes a lease on its home shard and tells the leader's lease clock at once, so that a
   * keep-alive arriving before the clock would have expired it is not answered with a TTL.
   */
  leaseRevoke(shard: number, id: bigint): Promise<ApplyResult>;
  /** Renews a lease on the shard leader's clock: its TTL in seconds, or undefined once it is gone. */
  leaseKeepAlive(shard: number, id: bigint): Promise<number | undefined>;
  /** Time left on the shard leader's lease clock (0 once expired), or undefined if the clock does not know the lease. */
  leaseRemainingMs(shard: number, id: bigint): Promise<number | undefined>;
  /** Approximate bytes the node's database takes on disk (0 when the database cannot say). */
  dbSizeBytes(): Promise<number>;
}

export interface ShardRaftStatus {
  /** The node that leads the shard, or 0 (raft's NONE) while there is none. */
  readonly leader: NodeId;
  readonly term: number;
  /** etcd's raftIndex is the committed index; raftAppliedIndex the applied one (the shard's revision). */
  readonly committedIndex: number;
  readonly appliedIndex: number;
}

export interface LocalShardAccessOptions {
  /**
   * The database's size, which the Store does not expose: classic-level answers `approximateSize`
   * over the whole keyspace, memory-level has nothing to say (then Status reports 0).
   */
  readonly dbSizeBytes?: () => Promise<number>;
}

/** Every shard on one local Store. A shard without a replica here is UNAVAILABLE (no forwarding yet). */
export class LocalShardAccess implements ShardAccess {
  constructor(
    private readonly store: Store,
    private shardMap: ShardMap,
    readonly memberId: bigint,
    readonly clusterId: bigint,
    private readonly options: LocalShardAccessOptions = {},
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

  raftStatus(shard: number): ShardRaftStatus {
    const replica = this.requireReplica(shard);
    const { raft } = replica.raw;
    return { leader: raft.lead, term: raft.term, committedIndex: raft.log.committed, appliedIndex: replica.state.applied.index };
  }

  async leaseRevoke(shard: number, id: bigint): Promise<ApplyResult> {
    this.requireReplica(shard);
    return await this.store.leaseRevoke(shard, id);
  }

  async leaseKeepAlive(shard: number, id: bigint): Promise<number | undefined> {
    this.requireReplica(shard);
    try {
      // Throws UNAVAILABLE on a follower: keep-alives are the leader's (forwarding comes with the node issue).
      return this.store.leaseKeepAlive(shard, id);
    } catch (error) {
      if (error instanceof StoreError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  async leaseRemainingMs(shard: number, id: bigint): Promise<number | undefined> {
    const replica = this.requireReplica(shard);
    // Only the leader's clock holds deadlines (shard/mvcc/lease_clock.ts); a follower's is empty.
    if (!replica.isLeader) {
      throw RouterError.unavailable(
        `shardkv: member ${this.memberId} does not lead shard ${shard}, whose leader keeps its leases' deadlines`,
        "forwarding to the shard's leader is not implemented yet; ask the node that leads the shard",
      );
    }
    return replica.leaseClock.remainingMs(id, this.store.nowMs());
  }

  async dbSizeBytes(): Promise<number> {
    return (await this.options.dbSizeBytes?.()) ?? 0;
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
