// What the meta group (shard 0) stores, and how: the shard map under one key and each member under
// a key of its own, as JSON values in the meta group's ordinary key-value state machine. No client
// key reaches shard 0 (the router maps keys only to data shards), so these keys are the router's own.

import type { NodeId } from "../raft/index.js";
import { type ShardInfo, ShardMap } from "./shard_map.js";

/** The meta group's shard id: the data shards are numbered from 1. */
export const META_SHARD = 0;
export const META_PREFIX = Buffer.from("meta/");
/** The end of the meta keys' range: the byte after "/" ends the prefix. */
export const META_PREFIX_END = Buffer.from("meta0");
export const SHARD_MAP_KEY = Buffer.from("meta/shardmap");
const MEMBER_PREFIX = "meta/members/";

/** A member as the meta group knows it: where its peers and its clients reach it. */
export interface MemberRecord {
  readonly id: NodeId;
  readonly name: string;
  readonly memberId: bigint;
  readonly peerAddress: string;
  /** Empty until the member published it (it learns its own at start, when its port is bound). */
  readonly clientAddress: string;
}

export class MetaRecordError extends Error {
  override readonly name = "MetaRecordError";
}

export function memberKey(id: NodeId): Buffer {
  return Buffer.from(`${MEMBER_PREFIX}${String(id).padStart(5, "0")}`);
}

export function isMemberKey(key: Uint8Array): boolean {
  return Buffer.from(key).toString().startsWith(MEMBER_PREFIX);
}

export function encodeShardMap(map: ShardMap): Buffer {
  return Buffer.from(JSON.stringify({ epoch: map.epoch, shards: map.shards }));
}

/** Throws MetaRecordError for anything that is not a valid map (ShardMap checks the tiling). */
export function decodeShardMap(value: Uint8Array): ShardMap {
  const raw = parse(value, "the shard map") as { epoch?: unknown; shards?: unknown };
  if (typeof raw.epoch !== "number" || !Array.isArray(raw.shards)) throw new MetaRecordError("the meta group's shard map has no epoch or no shards");
  return new ShardMap(raw.epoch, raw.shards as ShardInfo[]);
}

export function encodeMember(member: MemberRecord): Buffer {
  return Buffer.from(JSON.stringify({ ...member, memberId: member.memberId.toString() }));
}

export function decodeMember(value: Uint8Array): MemberRecord {
  const raw = parse(value, "a member record") as Partial<Record<keyof MemberRecord, unknown>>;
  const { id, name, memberId, peerAddress, clientAddress } = raw;
  if (typeof id !== "number" || typeof name !== "string" || typeof memberId !== "string" || typeof peerAddress !== "string" || typeof clientAddress !== "string") {
    throw new MetaRecordError(`a member record in the meta group is malformed: ${Buffer.from(value).toString().slice(0, 200)}`);
  }
  return { id, name, memberId: BigInt(memberId), peerAddress, clientAddress };
}

function parse(value: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(value).toString());
  } catch (error) {
    throw new MetaRecordError(`${what} in the meta group is not JSON: ${(error as Error).message}`);
  }
}
