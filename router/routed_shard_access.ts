// The node's ShardAccess: an operation runs on this node's replica of the shard when it can, and is
// forwarded over the peer API otherwise (ARCHITECTURE.md, "A request's way", step 2). A replica here
// serves proposals and reads itself (a follower proposes and reads through Raft); what only the
// leader knows goes to the leader (forward_ops.ts LEADER_OPS); a shard with no replica here goes
// to its leader when this node knows it, else to its replicas in turn.
//
// Retries stay invisible to the client within the request's time: a refusal says the operation did
// not run, and an operation that changes nothing may run again anywhere. A proposal whose fate is
// unknown (the receiver failed mid-way) is never sent twice: the client gets the receiver's
// UNAVAILABLE, which says it may have applied, as etcd does.

import * as grpc from "@grpc/grpc-js";
import type { NodeId } from "../raft/index.js";
import type { ApplyResult, CommandBody, RangeRequest } from "../shard/mvcc/index.js";
import { RouterError } from "./errors.js";
import { ForwardFailure, type ForwardClient } from "./forward_client.js";
import { decodeForward, encodeForward } from "./forward_codec.js";
import { type ForwardOp, type ForwardOps, IDEMPOTENT_OPS, LEADER_OPS, runForwardOp } from "./forward_ops.js";
import type {
  BoundedRange,
  LeaseEntry,
  LeaseTimeToLive,
  LocalShardAccess,
  ReadConsistency,
  ShardAccess,
  ShardEvents,
  ShardEventsRequest,
  ShardRaftStatus,
  ShardRange,
} from "./shard_access.js";
import { META_SHARD } from "./meta_records.js";
import { RemoteNotices } from "./remote_notices.js";
import type { ShardHash } from "./shard_hash.js";
import type { ShardMap } from "./shard_map.js";

export interface RoutingSettings {
  /** How long an operation may take, retries included. */
  readonly requestTimeoutMs: number;
  /** The first pause between retries; it doubles up to retryBackoffMaxMs. */
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** How often a watch of a shard held elsewhere asks a replica there whether it applied more. */
  readonly remotePollMs: number;
}

export const ROUTING_DEFAULTS: RoutingSettings = { requestTimeoutMs: 7_000, retryBackoffMs: 10, retryBackoffMaxMs: 200, remotePollMs: 50 };

const NO_STATUS: ShardRaftStatus = { leader: 0, term: 0, committedIndex: 0, appliedIndex: 0 };

export class RoutedShardAccess implements ShardAccess {
  /** What forwarded answers said of shards without a replica here (leader hint, term, indexes). */
  private readonly remoteStatus = new Map<number, ShardRaftStatus>();
  private readonly settings: RoutingSettings;
  private readonly remoteNotices: RemoteNotices;

  /**
   * Reads the meta group's map now; set by the node once its MetaSync exists. Called when a peer
   * refuses an operation because this node routed it by an older map than the peer's.
   */
  catchUpMap: () => Promise<void> = async () => undefined;

  constructor(
    private readonly local: LocalShardAccess,
    private readonly forwardClient: ForwardClient,
    /** This node's id, which is also its replica id in every group. */
    private readonly self: NodeId,
    /** The meta group's replicas (shard 0 is in no shard map: the cluster's config names them). */
    private readonly metaReplicas: readonly NodeId[],
    settings: Partial<RoutingSettings> = {},
  ) {
    this.settings = { ...ROUTING_DEFAULTS, ...settings };
    this.remoteNotices = new RemoteNotices((shard) => this.forward(shard, "currentRevision", {}), this.settings.remotePollMs);
  }

  get memberId(): bigint {
    return this.local.memberId;
  }

  get clusterId(): bigint {
    return this.local.clusterId;
  }

  map(): ShardMap {
    return this.local.map();
  }

  nowMs(): number {
    return this.local.nowMs();
  }

  dbSizeBytes(): Promise<number> {
    return this.local.dbSizeBytes();
  }

  compactDb(): Promise<void> {
    return this.local.compactDb();
  }

  propose(shard: number, body: CommandBody): Promise<ApplyResult> {
    return this.route(shard, "propose", { body }, () => this.local.propose(shard, body));
  }

  range(shard: number, req: RangeRequest, consistency: ReadConsistency): Promise<ShardRange> {
    return this.route(shard, "range", { req, consistency }, () => this.local.range(shard, req, consistency));
  }

  /** Bounded staleness is a property of this node's replica; a shard held elsewhere is read linearizably there. */
  async rangeBounded(shard: number, req: RangeRequest, maxStalenessMs: number): Promise<BoundedRange> {
    if (this.local.holds(shard)) return await this.local.rangeBounded(shard, req, maxStalenessMs);
    return { ...(await this.range(shard, req, "linearizable")), servedLocally: false };
  }

  /** Only this node's replicas: the size of a shard held elsewhere is 0 (ShardAccess says so). */
  shardSizeBytes(shard: number): Promise<number> {
    return this.local.shardSizeBytes(shard);
  }

  leases(shard: number, consistency: ReadConsistency): Promise<LeaseEntry[]> {
    return this.route(shard, "leases", { consistency }, () => this.local.leases(shard, consistency));
  }

  async leaseTimeToLive(shard: number, id: bigint, withKeys: boolean): Promise<LeaseTimeToLive | undefined> {
    return (await this.route(shard, "leaseTimeToLive", { id, withKeys }, async () => (await this.local.leaseTimeToLive(shard, id, withKeys)) ?? null)) ?? undefined;
  }

  leaseRevoke(shard: number, id: bigint): Promise<ApplyResult> {
    return this.route(shard, "leaseRevoke", { id }, () => this.local.leaseRevoke(shard, id));
  }

  async leaseKeepAlive(shard: number, id: bigint): Promise<number | undefined> {
    return (await this.route(shard, "leaseKeepAlive", { id }, async () => (await this.local.leaseKeepAlive(shard, id)) ?? null)) ?? undefined;
  }

  shardHash(shard: number): Promise<ShardHash> {
    return this.route(shard, "shardHash", {}, () => this.local.shardHash(shard));
  }

  async leaseKeys(shard: number, id: bigint): Promise<Uint8Array[] | undefined> {
    return (await this.route(shard, "leaseKeys", { id }, async () => (await this.local.leaseKeys(shard, id)) ?? null)) ?? undefined;
  }

  shardEvents(shard: number, req: ShardEventsRequest): Promise<ShardEvents> {
    return this.route(shard, "shardEvents", { req }, () => this.local.shardEvents(shard, req));
  }

  /** From this node's replica; for a shard held elsewhere, from a poller of a replica there (remote_notices.ts). */
  onApplied(shard: number, listener: (revision: number) => void): () => void {
    if (this.local.holds(shard)) return this.local.onApplied(shard, listener);
    return this.remoteNotices.listen(shard, listener);
  }

  currentRevision(shard: number): number | Promise<number> {
    if (this.local.holds(shard)) return this.local.currentRevision(shard);
    return this.forward(shard, "currentRevision", {});
  }

  raftTerm(shard: number): number {
    return this.raftStatus(shard).term;
  }

  /** This node's replica's view, or for a shard held elsewhere what the last forwarded answer said. */
  raftStatus(shard: number): ShardRaftStatus {
    if (this.local.holds(shard)) return this.local.raftStatus(shard);
    return this.remoteStatus.get(shard) ?? NO_STATUS;
  }

  /** Runs here when this node's replica can serve the operation; forwards it otherwise. */
  private route<K extends ForwardOp>(shard: number, op: K, args: ForwardOps[K]["args"], here: () => Promise<ForwardOps[K]["result"]>): Promise<ForwardOps[K]["result"]> {
    if (this.canServeHere(shard, op)) return here();
    return this.forward(shard, op, args);
  }

  private async forward<K extends ForwardOp>(shard: number, op: K, args: ForwardOps[K]["args"]): Promise<ForwardOps[K]["result"]> {
    const deadlineMs = Date.now() + this.settings.requestTimeoutMs;
    const payload = encodeForward(args);
    let others = this.replicasOf(shard).filter((node) => node !== this.self);
    let hint = this.leaderHint(shard);
    let backoffMs = this.settings.retryBackoffMs;
    let lastFailure: ForwardFailure | undefined;
    for (let attempt = 0; ; attempt++) {
      // This node's replica may have become able to serve meanwhile (it won the shard's election).
      if (attempt > 0 && this.canServeHere(shard, op)) return (await runForwardOp(this.local, shard, op, args)) as ForwardOps[K]["result"];
      // The leader when known; otherwise each replica in turn (any replica serves all but LEADER_OPS,
      // and a follower that refuses a leader operation names its leader).
      const target = hint !== 0 && hint !== this.self ? hint : others[attempt % Math.max(1, others.length)];
      if (target === undefined) {
        // This node holds the shard's only replica and it does not lead yet: wait for its election.
        hint = this.leaderHint(shard);
      } else {
        try {
          const response = await this.forwardClient.call(target, { shard, mapEpoch: this.map().epoch, op, payload }, deadlineMs);
          if (!this.local.holds(shard)) this.remoteStatus.set(shard, response);
          return decodeForward(response.payload) as ForwardOps[K]["result"];
        } catch (error) {
          if (!(error instanceof ForwardFailure)) throw error;
          if (error.refused && error.mapEpoch > this.map().epoch) {
            // The peer has a newer map: read it, and go on if the shard is still where it was. A
            // shard that moved or split must be routed again from its key, by the caller (a client
            // retry, until the services re-route themselves when splits exist).
            await this.catchUpMap();
            others = this.replicasOf(shard).filter((node) => node !== this.self);
            hint = 0;
            lastFailure = error;
            // At once when this node caught up; after the backoff while its meta replica lags.
            if (this.map().epoch >= error.mapEpoch) continue;
          } else if (!retryable(error, op)) {
            throw error.toRouterError();
          } else {
            lastFailure = error;
            hint = error.leader;
          }
        }
      }
      if (Date.now() + backoffMs >= deadlineMs) break;
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, this.settings.retryBackoffMaxMs);
    }
    const last = lastFailure === undefined ? "" : ` (the last answer: ${lastFailure.message})`;
    throw RouterError.unavailable(
      "etcdserver: request timed out",
      `shard ${shard} could not be reached within ${this.settings.requestTimeoutMs} ms${last}; retry, and check that its replicas are up`,
    );
  }

  /** Throws UNAVAILABLE for a shard the current map does not have (it split or moved away). */
  private replicasOf(shard: number): readonly NodeId[] {
    if (shard === META_SHARD) return this.metaReplicas;
    const info = this.map().byId(shard);
    if (info === undefined) {
      throw RouterError.unavailable(`shardkv: shard ${shard} is not in the shard map (epoch ${this.map().epoch})`, "the shard map changed under the request; retry it");
    }
    return info.replicas;
  }

  private canServeHere(shard: number, op: ForwardOp): boolean {
    return this.local.holds(shard) && (!LEADER_OPS.has(op) || this.local.leads(shard));
  }

  private leaderHint(shard: number): NodeId {
    return this.raftStatus(shard).leader;
  }
}

/**
 * A refusal means the operation never ran; a receiver that is unreachable or failed mid-way leaves a
 * proposal's fate unknown, so only operations that change nothing are tried again then.
 */
function retryable(failure: ForwardFailure, op: ForwardOp): boolean {
  if (failure.refused) return failure.code === grpc.status.UNAVAILABLE;
  return failure.code === grpc.status.UNAVAILABLE && IDEMPOTENT_OPS.has(op);
}
