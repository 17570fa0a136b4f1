// What the client-facing services need from the shards: the map to route by, and one method per
// thing a service asks of one shard (propose a command, range over it, its leases, its hash...), plus
// what goes into etcd's response header. Each method names an operation rather than handing out a
// shard's state, so that the same services run over shards whose replica is on another node: the
// routed kind (routed_shard_access.ts) serves an operation here when this node can, and forwards it
// over the peer API (forward_ops.ts) when it cannot.
//
// LocalShardAccess is the node's own replicas on one Store: a follower replica proposes through Raft
// and reads through ReadIndex, but what only the leader knows (lease deadlines) it cannot answer.

import type { NodeId } from "../raft/index.js";
import { type ApplyResult, type CommandBody, MvccError, type RangeRequest, type RangeResponse, type ShardState, type WatchEvent } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { StoreError } from "../shard/store_error.js";
import { RouterError } from "./errors.js";
import { type ShardHash, stableHash } from "./shard_hash.js";
import type { ShardMap } from "./shard_map.js";

export type ReadConsistency = "linearizable" | "serializable";

export interface ShardAccess {
  /** The shard map to route by (the node's cached copy of the meta group's). */
  map(): ShardMap;
  /** Proposes a command to a shard; resolves once it applied, with its (possibly failed) result. */
  propose(shard: number, body: CommandBody): Promise<ApplyResult>;
  /** A range over one shard at `consistency`, with the shard revision it is as of. */
  range(shard: number, req: RangeRequest, consistency: ReadConsistency): Promise<ShardRange>;
  /**
   * A range that may miss only writes acknowledged more than `maxStalenessMs` ago: from this node's
   * replica when it can prove that (shard/read_freshness.ts), else linearizable; says which it was.
   */
  rangeBounded(shard: number, req: RangeRequest, maxStalenessMs: number): Promise<BoundedRange>;
  /** Approximate bytes of this node's replica of the shard on disk; 0 when held elsewhere or the database cannot say. */
  shardSizeBytes(shard: number): Promise<number>;
  /** The shard's leases, sorted by id. */
  leases(shard: number, consistency: ReadConsistency): Promise<LeaseEntry[]>;
  /** A lease's granted TTL, attached keys, and time left on the leader's clock; undefined if it does not exist. */
  leaseTimeToLive(shard: number, id: bigint, withKeys: boolean): Promise<LeaseTimeToLive | undefined>;
  /** The shard's state hash with the revision it is as of (the answering replica's own state, as etcd's Hash). */
  shardHash(shard: number): Promise<ShardHash>;
  /** The keys of this shard attached to lease `id` (linearizable), or undefined when the shard has no such lease. */
  leaseKeys(shard: number, id: bigint): Promise<Uint8Array[] | undefined>;
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
  /** Approximate bytes the node's database takes on disk (0 when the database cannot say). */
  dbSizeBytes(): Promise<number>;
  /** Compacts the node's database now (etcd's defragment); resolves once it is done. */
  compactDb(): Promise<void>;
  /**
   * For watches (shard_feed.ts): events of [key, rangeEnd) from `fromRevision` on, at most `limit` in
   * whole revisions, read from this node's replica's applied state with no read barrier, as etcd
   * serves a watch from the member's own store.
   */
  shardEvents(shard: number, req: ShardEventsRequest): Promise<ShardEvents>;
  /**
   * Calls `listener(revision)` whenever this node's replica of the shard applied entries (or installed
   * a snapshot); returns the function that stops it. A notice only says that something may be new
   * (read it with shardEvents), and the listener must not block: it runs in the replica's apply lane.
   */
  onApplied(shard: number, listener: (revision: number) => void): () => void;
  /**
   * The shard's applied revision, where a watch from "now" starts after: at once (a number) from
   * this node's replica, so that nothing can apply between it and the watch's creation; a promise
   * when the shard is held elsewhere (the watch is then created once it is known).
   */
  currentRevision(shard: number): number | Promise<number>;
}

export interface ShardEventsRequest {
  readonly fromRevision: number;
  readonly key: Uint8Array;
  /** Undefined: the single key; [0]: every key from `key` on; otherwise [key, rangeEnd). */
  readonly rangeEnd: Uint8Array | undefined;
  readonly limit: number;
}

export interface ShardEvents {
  readonly events: WatchEvent[];
  /**
   * The shard's revision the read is as of (at least every event's): when fewer than `limit` events
   * came back, every event of the range up to this revision is among them.
   */
  readonly revision: number;
  /** fromRevision is at or below compactRevision: those events are gone and `events` is empty. */
  readonly compacted: boolean;
  readonly compactRevision: number;
}

export interface ShardRaftStatus {
  /** The node that leads the shard, or 0 (raft's NONE) while there is none. */
  readonly leader: NodeId;
  readonly term: number;
  /** etcd's raftIndex is the committed index; raftAppliedIndex the applied one (the shard's revision). */
  readonly committedIndex: number;
  readonly appliedIndex: number;
}

export type ShardRange = RangeResponse & { readonly revision: number };

/** servedLocally: read from this node's replica within the bound; false: it fell back to a linearizable read. */
export type BoundedRange = ShardRange & { readonly servedLocally: boolean };

export interface LeaseEntry {
  readonly id: bigint;
  readonly ttlSeconds: number;
}

export interface LeaseTimeToLive {
  readonly grantedTtlSeconds: number;
  readonly keys: Uint8Array[];
  /** Time left on the leader's lease clock (0 once expired); undefined when the clock does not know the lease yet. */
  readonly remainingMs: number | undefined;
}

export interface LocalShardAccessOptions {
  /**
   * The database's size on disk, which the Store does not expose (the node gives its LevelDB
   * folder's files; memory-level has nothing to say, then Status reports 0).
   */
  readonly dbSizeBytes?: () => Promise<number>;
  /** Compacts the whole database (node_db.ts's compactAll); nothing to do when absent. */
  readonly compactDb?: () => Promise<void>;
  /** The approximate size of the keys under one replica's prefix (classic-level's approximateSize; 0 when absent). */
  readonly prefixSizeBytes?: (prefix: Uint8Array) => Promise<number>;
}

/** The shards of one local Store. A shard without a replica here is UNAVAILABLE; routing is routed_shard_access.ts's. */
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

  /** The local replica's state, ready to answer a read at `consistency`; read from it at once. */
  async read(shard: number, consistency: ReadConsistency): Promise<ShardState> {
    this.requireReplica(shard);
    return await this.store.readState(shard, consistency);
  }

  /** Whether this node has a replica of the shard. */
  holds(shard: number): boolean {
    return this.store.hasReplica(shard);
  }

  /** Whether this node's replica of the shard leads it. */
  leads(shard: number): boolean {
    return this.store.hasReplica(shard) && this.store.replica(shard).isLeader;
  }

  async range(shard: number, req: RangeRequest, consistency: ReadConsistency): Promise<ShardRange> {
    const state = await this.read(shard, consistency);
    return await state.range(req, this.nowMs());
  }

  async rangeBounded(shard: number, req: RangeRequest, maxStalenessMs: number): Promise<BoundedRange> {
    this.requireReplica(shard);
    const { state, servedLocally } = await this.store.readBounded(shard, maxStalenessMs);
    return { ...(await state.range(req, this.nowMs())), servedLocally };
  }

  async shardSizeBytes(shard: number): Promise<number> {
    if (!this.holds(shard)) return 0;
    return (await this.options.prefixSizeBytes?.(this.store.replica(shard).state.prefix)) ?? 0;
  }

  async leases(shard: number, consistency: ReadConsistency): Promise<LeaseEntry[]> {
    return (await this.read(shard, consistency)).leases();
  }

  async leaseTimeToLive(shard: number, id: bigint, withKeys: boolean): Promise<LeaseTimeToLive | undefined> {
    const state = await this.read(shard, "linearizable");
    const found = await state.leaseTimeToLive(id, withKeys);
    if (found === undefined) return undefined;
    return { ...found, remainingMs: this.leaseRemainingMs(shard, id) };
  }

  currentRevision(shard: number): number {
    return this.raftStatus(shard).appliedIndex;
  }

  async leaseKeys(shard: number, id: bigint): Promise<Uint8Array[] | undefined> {
    const found = await (await this.read(shard, "linearizable")).leaseTimeToLive(id, true);
    return found?.keys;
  }

  async shardHash(shard: number): Promise<ShardHash> {
    // The replica's own state, as etcd's Hash hashes the member's own backend: no read barrier.
    return await stableHash(shard, await this.read(shard, "serializable"));
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
    const replica = this.requireReplica(shard);
    try {
      // A leader first confirms that it still leads (its lease, else a heartbeat round), as etcd's
      // LeaseRenew does since etcd-io/etcd#15247: a deposed leader that does not know it yet (frozen,
      // cut off) would renew on a clock nobody reads, while the new leader lets the lease expire.
      if (replica.isLeader) await this.store.readState(shard, "linearizable");
      // Throws UNAVAILABLE on a follower: keep-alives are the leader's (a routed access forwards them there).
      return this.store.leaseKeepAlive(shard, id);
    } catch (error) {
      if (error instanceof StoreError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  /** Only the leader's clock holds deadlines (shard/mvcc/lease_clock.ts); a follower's is empty. */
  private leaseRemainingMs(shard: number, id: bigint): number | undefined {
    const replica = this.requireReplica(shard);
    if (!replica.isLeader) {
      throw RouterError.unavailable(
        `shardkv: member ${this.memberId} does not lead shard ${shard}, whose leader keeps its leases' deadlines`,
        "ask the node that leads the shard; a routed access forwards there itself",
      );
    }
    return replica.leaseClock.remainingMs(id, this.store.leaseNowMs());
  }

  async dbSizeBytes(): Promise<number> {
    return (await this.options.dbSizeBytes?.()) ?? 0;
  }

  async compactDb(): Promise<void> {
    await this.options.compactDb?.();
  }

  async shardEvents(shard: number, req: ShardEventsRequest): Promise<ShardEvents> {
    const state = await this.read(shard, "serializable");
    // Read before the scan, which sees at least this much: every event up to it is in the scan.
    const revision = state.revision;
    const { compactRevision } = state;
    if (compactRevision > 0 && req.fromRevision <= compactRevision) return { events: [], revision, compacted: true, compactRevision };
    let events: WatchEvent[];
    try {
      events = await state.events(req.fromRevision, req.key, req.rangeEnd, req.limit);
    } catch (error) {
      // A compaction applied between the check above and the scan's snapshot.
      if (!(error instanceof MvccError) || error.code !== "OUT_OF_RANGE") throw error;
      return { events: [], revision: state.revision, compacted: true, compactRevision: state.compactRevision };
    }
    const last = events.at(-1)?.kv.modRevision ?? 0;
    return { events, revision: Math.max(revision, last), compacted: false, compactRevision };
  }

  onApplied(shard: number, listener: (revision: number) => void): () => void {
    this.requireReplica(shard);
    return this.store.applyListeners.add(shard, listener);
  }

  private requireReplica(shard: number): ReturnType<Store["replica"]> {
    try {
      return this.store.replica(shard);
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== "NOT_FOUND") throw error;
      throw RouterError.unavailable(
        `shardkv: shard ${shard} has no replica on member ${this.memberId}`,
        "send the request to a node that holds the shard; a routed access forwards there itself",
      );
    }
  }
}
