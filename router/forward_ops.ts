// The operations one node may hand to another for a shard (forward.proto's `op`), each with its
// arguments, and how a receiver runs one on its own replica. Both ends use this one table, so that
// the names, the argument shapes and which operations need the shard's leader cannot drift apart.

import type { ApplyResult, CommandBody, RangeRequest } from "../shard/mvcc/index.js";
import type { LeaseEntry, LeaseTimeToLive, LocalShardAccess, ReadConsistency, ShardEvents, ShardEventsRequest, ShardRange } from "./shard_access.js";
import type { ShardHash } from "./shard_hash.js";

export interface ForwardOps {
  propose: { args: { body: CommandBody }; result: ApplyResult };
  range: { args: { req: RangeRequest; consistency: ReadConsistency }; result: ShardRange };
  leases: { args: { consistency: ReadConsistency }; result: LeaseEntry[] };
  leaseTimeToLive: { args: { id: bigint; withKeys: boolean }; result: LeaseTimeToLive | null };
  leaseRevoke: { args: { id: bigint }; result: ApplyResult };
  leaseKeepAlive: { args: { id: bigint }; result: number | null };
  shardHash: { args: Record<string, never>; result: ShardHash };
  shardEvents: { args: { req: ShardEventsRequest }; result: ShardEvents };
  leaseKeys: { args: { id: bigint }; result: Uint8Array[] | null };
  currentRevision: { args: Record<string, never>; result: number };
}

export type ForwardOp = keyof ForwardOps;

/**
 * What only the shard's leader can answer: lease deadlines live on the leader's clock alone
 * (shard/mvcc/lease_clock.ts), and a revocation must reach that clock at once. A follower replica
 * can propose and read through Raft, so everything else is served by any replica.
 */
export const LEADER_OPS: ReadonlySet<ForwardOp> = new Set<ForwardOp>(["leaseTimeToLive", "leaseRevoke", "leaseKeepAlive"]);

/** Operations that change nothing: safe to run again after a failure whose outcome is unknown. */
export const IDEMPOTENT_OPS: ReadonlySet<ForwardOp> = new Set<ForwardOp>(["range", "leases", "leaseTimeToLive", "leaseKeepAlive", "shardHash", "shardEvents", "leaseKeys", "currentRevision"]);

const OPS: ReadonlySet<string> = new Set<ForwardOp>(["propose", "range", "leases", "leaseTimeToLive", "leaseRevoke", "leaseKeepAlive", "shardHash", "shardEvents", "leaseKeys", "currentRevision"]);

export function isForwardOp(name: string): name is ForwardOp {
  return OPS.has(name);
}

/**
 * Runs a forwarded operation on this node's replica. `args` comes from a peer of the same version
 * (forward_codec.ts decoded it); the state machine validates commands again before they apply. JSON
 * has no undefined, so "none" results travel as null.
 */
export async function runForwardOp(local: LocalShardAccess, shard: number, op: ForwardOp, args: unknown): Promise<unknown> {
  switch (op) {
    case "propose":
      return await local.propose(shard, (args as ForwardOps["propose"]["args"]).body);
    case "range": {
      const { req, consistency } = args as ForwardOps["range"]["args"];
      return await local.range(shard, req, consistency);
    }
    case "leases":
      return await local.leases(shard, (args as ForwardOps["leases"]["args"]).consistency);
    case "leaseTimeToLive": {
      const { id, withKeys } = args as ForwardOps["leaseTimeToLive"]["args"];
      return (await local.leaseTimeToLive(shard, id, withKeys)) ?? null;
    }
    case "leaseRevoke":
      return await local.leaseRevoke(shard, (args as ForwardOps["leaseRevoke"]["args"]).id);
    case "leaseKeepAlive":
      return (await local.leaseKeepAlive(shard, (args as ForwardOps["leaseKeepAlive"]["args"]).id)) ?? null;
    case "shardHash":
      return await local.shardHash(shard);
    case "currentRevision":
      return local.currentRevision(shard);
    case "leaseKeys":
      return (await local.leaseKeys(shard, (args as ForwardOps["leaseKeys"]["args"]).id)) ?? null;
    case "shardEvents":
      return await local.shardEvents(shard, (args as ForwardOps["shardEvents"]["args"]).req);
    default: {
      const unknown: never = op;
      throw new Error(`unknown forwarded operation ${String(unknown)}`);
    }
  }
}
