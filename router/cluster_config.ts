// What a node knows of its cluster when it starts: the members (from --initial-cluster), the meta
// group's replicas, and the shard map they bootstrapped. A new cluster's members all compute the same
// map from the same flags and publish it to the meta group (meta_sync.ts), which holds it from then
// on; the node keeps the newest map it saw in its LevelDB, so a restarted node ignores the bootstrap
// flags and starts from that map until the meta group answers.

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
  /** The nodes with a replica of the meta group (shard 0): the first members, up to META_REPLICAS_MAX. */
  readonly metaReplicas: readonly NodeId[];
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

/** The meta group's replicas: the first members, at most this many (a quorum survives one loss). */
export const META_REPLICAS_MAX = 3;

function metaReplicasOf(members: readonly Member[]): NodeId[] {
  return members.slice(0, META_REPLICAS_MAX).map((m) => m.id);
}

/** Replicas per shard when --replicas is not given: 3 (a quorum survives one loss), or all members when fewer. */
export const DEFAULT_REPLICAS = 3;

export function bootstrapConfig(initialCluster: string, initialShards: number, replicas?: number): ClusterConfig {
  const parsed = parseInitialCluster(initialCluster);
  replicas ??= Math.min(DEFAULT_REPLICAS, parsed.length);
  const members = parsed.map((m, i): Member => ({ id: i + 1, name: m.name, peerAddress: m.peerAddress, memberId: id64(m.name, m.peerAddress) }));
  const shards = evenShards(initialShards, members.map((m) => m.id), replicas);
  new ShardMap(1, shards); // throws if the split does not tile the hash space
  return { clusterId: id64(...parsed.map((m) => `${m.name}=${m.peerAddress}`)), members, metaReplicas: metaReplicasOf(members), shardMapEpoch: 1, shards };
}

export async function loadClusterConfig(db: LevelDb): Promise<ClusterConfig | undefined> {
  const value = await db.get(CLUSTER_KEY);
  if (value === undefined) return undefined;
  const raw = JSON.parse(Buffer.from(value).toString()) as {
    clusterId: string;
    members: { id: number; name: string; peerAddress: string; memberId: string }[];
    metaReplicas?: NodeId[];
    shardMapEpoch: number;
    shards: ShardInfo[];
  };
  const members = raw.members.map((m) => ({ ...m, memberId: BigInt(m.memberId) }));
  return {
    clusterId: BigInt(raw.clusterId),
    members,
    // Data dirs from before the meta group have none saved; their members computed the same list.
    metaReplicas: raw.metaReplicas ?? metaReplicasOf(members),
    shardMapEpoch: raw.shardMapEpoch,
    shards: raw.shards,
  };
}

export async function saveClusterConfig(db: LevelDb, config: ClusterConfig): Promise<void> {
  const json = JSON.stringify({
    clusterId: config.clusterId.toString(),
    members: config.members.map((m) => ({ ...m, memberId: m.memberId.toString() })),
    metaReplicas: config.metaReplicas,
    shardMapEpoch: config.shardMapEpoch,
    shards: config.shards,
  });
  await db.put(CLUSTER_KEY, Buffer.from(json), { keyEncoding: "view" });
}
