// The cluster's members as the client-facing services report them: etcd's Member (a 64-bit member
// id, a name, peer and client URLs) plus the Raft node id that the shards' groups know the member by,
// so that a shard's leader (a node id) can be named by its member id. Given to the services at start;
// the meta group will hold the list once membership changes exist (the membership issue).

import type { Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type { NodeId } from "../raft/index.js";

export interface MemberInfo {
  /** etcd's member id (uint64), what ResponseHeader.member_id and Status.leader carry. */
  readonly id: bigint;
  /** The node id in every shard's Raft group. */
  readonly nodeId: NodeId;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export function memberToWire(member: MemberInfo): Writable<t.Member> {
  return {
    ID: String(member.id),
    name: member.name,
    peerURLs: member.peerURLs,
    clientURLs: member.clientURLs,
    isLearner: member.isLearner,
  };
}

/** The member id of a node, or 0n (etcd's "no leader") when the node is 0 or not in the list. */
export function memberIdOf(members: readonly MemberInfo[], node: NodeId): bigint {
  return members.find((member) => member.nodeId === node)?.id ?? 0n;
}
