// etcd's Cluster service. MemberList answers from the cluster's members, with the client URLs they
// published to the meta group (members.ts, meta_sync.ts); adding,
// removing, updating and promoting members change every shard's Raft configuration and the meta
// group's list together, which comes with the membership issue: until then they answer UNIMPLEMENTED
// with a sentence that says so, never a silent success.

import type { clusterSpec, ServiceHandlers, Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { firstShardHeader } from "./etcd_convert.js";
import { unary, unimplementedUnary } from "./grpc_handlers.js";
import { type MemberInfo, memberToWire } from "./members.js";
import type { ShardAccess } from "./shard_access.js";

type ClusterHandlers = Required<ServiceHandlers<typeof clusterSpec.methods>>;

const MEMBERSHIP_LATER = "membership changes come with the membership issue; for now a cluster keeps the members it was bootstrapped with";

export class ClusterService {
  constructor(
    private readonly access: ShardAccess,
    private readonly members: readonly MemberInfo[],
  ) {}

  /** The grpc-js handlers, for `server.addService(etcd.Cluster.definition, service.handlers())`. */
  handlers(): ClusterHandlers {
    return {
      MemberList: unary(async () => this.memberList()),
      MemberAdd: unimplementedUnary(`shardkv: cannot add a member: ${MEMBERSHIP_LATER}`),
      MemberRemove: unimplementedUnary(`shardkv: cannot remove a member: ${MEMBERSHIP_LATER}`),
      MemberUpdate: unimplementedUnary(`shardkv: cannot update a member's peer URLs: ${MEMBERSHIP_LATER}`),
      MemberPromote: unimplementedUnary(`shardkv: cannot promote a learner: ${MEMBERSHIP_LATER}`),
    };
  }

  /** `linearizable` is accepted; the list is the node's copy of the meta group's (its members never change yet). */
  memberList(): Writable<t.MemberListResponse> {
    return { header: firstShardHeader(this.access), members: this.members.map(memberToWire) };
  }
}
