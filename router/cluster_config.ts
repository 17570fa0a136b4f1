// What a node knows of its cluster when it starts: the members (from --initial-cluster) and the
// shard map they bootstrapped. A new cluster's members all compute the same map from the same flags;
// it is kept in the node's LevelDB, so a restarted node ignores the bootstrap flags and finds it
// again. Until the meta group holds the map, it never changes after bootstrap.

import { createHash } from "node:crypto";
import type { NodeId } from "../raft/index.js";
import type { LevelDb } from "../shard/keyspace.js";
import { evenShards, type ShardInfo, ShardMap } from "./shard_map.js";

export interface Member {
  /** The member's replica id in every group (1-based position in --initial-cluster). */
  readonly id: NodeId;
  readonly name: string;
  readonly peerAddress: string;
  /** etcd's member id: a stable 64-bit value derived from the name and peer address. */
  readonly memberId: bigint;
}

export interface ClusterConfig {
  readonly clusterId: bigint;
  readonly members: readonly Member[];
  readonly shardMapEpoch: number;
  readonly shards: readonly ShardInfo[];
}

export class ClusterConfigError extends Error {
  override readonly name = "ClusterConfigError";
}

const CLUSTER_KEY = Buffer.from("n/cluster");

/** Parses `n1=127.0.0.1:2380,n2=...`; every member has a distinct name and address. */
export function parseInitialCluster(flag: string): { name: string; peerAddress: string }[] {
  const members = flag
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const at = part.indexOf("=");
      if (at <= 0 || at === part.length - 1) throw new ClusterConfigError(`--initial-cluster: "${part}" is not name=host:port (for example n1=127.0.0.1:2380)`);
      return { name: part.slice(0, at), peerAddress: part.slice(at + 1).replace(/^https?:\/\//, "") };
    });
  if (members.length === 0) throw new ClusterConfigError("--initial-cluster names no member; give at least this node, like n1=127.0.0.1:2380");
  if (new Set(members.map((m) => m.name)).size !== members.length) throw new ClusterConfigError("--initial-cluster names a member twice");
  if (new Set(members.map((m) => m.peerAddress)).size !== members.length) throw new ClusterConfigError("--initial-cluster gives two members the same address");
  return members;
}

function id64(...parts: string[]): bigint {
  // Positive 63-bit, like etcd's ids as most clients print them.
  return createHash("sha256").update(parts.join("\0")).digest().readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
}

/** Replicas per shard when --replicas is not given: 3 (a quorum survives one loss), or all members when fewer. */
export const DEFAULT_REPLICAS = 3;

export function bootstrapConfig(initialCluster: string, initialShards: number, replicas?: number): ClusterConfig {
  const parsed = parseInitialCluster(initialCluster);
  replicas ??= Math.min(DEFAULT_REPLICAS, parsed.length);
  const members = parsed.map((m, i): Member => ({ id: i + 1, name: m.name, peerAddress: m.peerAddress, memberId: id64(m.name, m.peerAddress) }));
  const shards = evenShards(initialShards, members.map((m) => m.id), replicas);
  new ShardMap(1, shards); // throws if the split does not tile the hash space
  return { clusterId: id64(...parsed.map((m) => `${m.name}=${m.peerAddress}`)), members, shardMapEpoch: 1, shards };
}

export async function loadClusterConfig(db: LevelDb): Promise<ClusterConfig | undefined> {
  const value = await db.get(CLUSTER_KEY);
  if (value === undefined) return undefined;
  const raw = JSON.parse(Buffer.from(value).toString()) as {
    clusterId: string;
    members: { id: number; name: string; peerAddress: string; memberId: string }[];
    shardMapEpoch: number;
    shards: ShardInfo[];
  };
  return {
    clusterId: BigInt(raw.clusterId),
    members: raw.members.map((m) => ({ ...m, memberId: BigInt(m.memberId) })),
    shardMapEpoch: raw.shardMapEpoch,
    shards: raw.shards,
  };
}

export async function saveClusterConfig(db: LevelDb, config: ClusterConfig): Promise<void> {
  const json = JSON.stringify({
    clusterId: config.clusterId.toString(),
    members: config.members.map((m) => ({ ...m, memberId: m.memberId.toString() })),
    shardMapEpoch: config.shardMapEpoch,
    shards: config.shards,
  });
  await db.put(CLUSTER_KEY, Buffer.from(json), { keyEncoding: "view" });
}
