// The receiving end of forwarding (forward.proto): runs an operation that another node handed over
// on this node's replica of the shard. It never forwards again: a node that cannot serve the
// operation (no replica here, or a follower asked for what only the leader knows) refuses at once,
// says the operation did not run, and names the leader it knows, so the sender retries there. One
// hop at most keeps a request from circling between nodes whose views of the leader disagree.

import * as grpc from "@grpc/grpc-js";
import type { peer } from "../proto/index.js";
import { toGrpcStatus } from "./errors.js";
import { decodeForward, encodeForward } from "./forward_codec.js";
import { isForwardOp, LEADER_OPS, runForwardOp } from "./forward_ops.js";
import { META_SHARD } from "./meta_records.js";
import type { LocalShardAccess } from "./shard_access.js";

/** Trailing metadata of a refusal: the operation did not run, so the sender may retry it anywhere. */
export const FORWARD_REFUSED_KEY = "shardkv-forward-refused";
/** Trailing metadata: the replica id of the leader the refusing node knows (absent when none). */
export const FORWARD_LEADER_KEY = "shardkv-leader";
/** Trailing metadata of a refusal for a stale map: the receiver's newer epoch, for the sender to catch up to. */
export const FORWARD_MAP_EPOCH_KEY = "shardkv-map-epoch";

type CallHandler = grpc.handleUnaryCall<peer.ForwardRequest, peer.ForwardResponse>;

export class ForwardService {
  /**
   * `replicas` is undefined until the node's store has opened; calls before that are refused.
   * `catchUp` reads the meta group's map now (meta_sync.ts), for a sender whose map is newer.
   */
  constructor(
    private readonly replicas: () => LocalShardAccess | undefined,
    private readonly catchUp: () => Promise<void> = async () => undefined,
  ) {}

  /** For the peer server: `{ definition: peerApi.Forward.definition, implementation: service.handlers() }`. */
  handlers(): { Call: CallHandler } {
    return { Call: (call, callback) => void this.call(call.request, callback) };
  }

  private async call(req: peer.ForwardRequest, callback: grpc.sendUnaryData<peer.ForwardResponse>): Promise<void> {
    const refuse = (code: grpc.status, details: string, leader = 0, mapEpoch = 0): void => {
      const metadata = new grpc.Metadata();
      metadata.set(FORWARD_REFUSED_KEY, "1");
      if (leader !== 0) metadata.set(FORWARD_LEADER_KEY, String(leader));
      if (mapEpoch !== 0) metadata.set(FORWARD_MAP_EPOCH_KEY, String(mapEpoch));
      callback({ code, details, metadata });
    };
    const { shard, op } = req;
    const local = this.replicas();
    if (local === undefined) return refuse(grpc.status.UNAVAILABLE, "shardkv: this node is starting; its replicas are not open yet");
    if (!isForwardOp(op)) return refuse(grpc.status.INVALID_ARGUMENT, `shardkv: a peer forwarded the unknown operation "${op}"; do both nodes run the same version?`);
    // The meta group's own replicas are fixed by the cluster's config, not by the map: no epoch to match.
    if (shard !== META_SHARD) {
      if (req.mapEpoch > local.map().epoch) await this.catchUp().catch(() => undefined);
      const epoch = local.map().epoch;
      if (req.mapEpoch < epoch) {
        return refuse(grpc.status.FAILED_PRECONDITION, `shardkv: a peer routed by shard map epoch ${req.mapEpoch}, this node has epoch ${epoch}`, 0, epoch);
      }
      if (req.mapEpoch > epoch) {
        return refuse(grpc.status.UNAVAILABLE, `shardkv: a peer routed by shard map epoch ${req.mapEpoch}, and this node has not read it from the meta group yet (epoch ${epoch})`);
      }
    }
    if (!local.holds(shard)) return refuse(grpc.status.UNAVAILABLE, `shardkv: shard ${shard} has no replica on member ${local.memberId}`);
    if (LEADER_OPS.has(op) && !local.leads(shard)) {
      return refuse(grpc.status.UNAVAILABLE, `shardkv: member ${local.memberId} does not lead shard ${shard}`, local.raftStatus(shard).leader);
    }
    try {
      const result = await runForwardOp(local, shard, op, decodeForward(req.payload));
      const status = local.raftStatus(shard);
      callback(null, {
        payload: encodeForward(result),
        leader: status.leader,
        term: status.term,
        appliedIndex: status.appliedIndex,
        committedIndex: status.committedIndex,
      });
    } catch (error) {
      // The status and message the client must see, exactly as if it had asked this node itself.
      callback(toGrpcStatus(error));
    }
  }
}
