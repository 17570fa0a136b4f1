// The cluster's members as the client-facing services report them: etcd's Member (a 64-bit member
// id, a name, peer and client URLs) plus the Raft node id that the shards' groups know the member by,
// so that a shard's leader (a node id) can be named by its member id. The node starts with the members
// of its config, and the meta group's records (meta_sync.ts) fill in the client URLs each member
// published; the services hold the same array, which is updated in place.

import type { Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type { NodeId } from "../raft/index.js";
import type { MemberRecord } from "./meta_records.js";

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

/** A member of the cluster's config, with the client address it published ("" while unknown). */
export function memberInfo(member: { readonly id: NodeId; readonly memberId: bigint; readonly name: string; readonly peerAddress: string }, clientAddress: string): MemberInfo {
  return {
    id: member.memberId,
    nodeId: member.id,
    name: member.name,
    peerURLs: [`http://${member.peerAddress}`],
    // host:port without a scheme: etcdctl 3.4's --cluster dials each client URL as it is, sending an
    // HTTP/2 :authority of "http://host:port", which Node's HTTP/2 server rejects (PROTOCOL_ERROR)
    // where etcd's Go server does not. Without the scheme every client dials it (clientv3 takes both).
    clientURLs: clientAddress === "" ? [] : [clientAddress],
    isLearner: false,
  };
}

/** Fills in what the meta group's records say (client URLs) of the members in `list`, in place. */
export function updateMembers(list: MemberInfo[], records: readonly MemberRecord[]): void {
  for (const record of records) {
    const at = list.findIndex((member) => member.nodeId === record.id);
    if (at >= 0 && record.clientAddress !== "") list[at] = memberInfo(record, record.clientAddress);
  }
}
