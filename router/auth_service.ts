// etcd's Auth service, answered as an etcd with authentication off answers it: shardkv has no users,
// roles or tokens. The status says off, turning it off succeeds, users and roles are listed (none)
// and looked up (not found) with etcd's own strings, and Authenticate fails as etcd's does with
// authentication off, so a client configured with credentials learns why at once. What would store a
// user or a role, or turn authentication on, answers UNIMPLEMENTED with the reason, never a success.

import * as grpc from "@grpc/grpc-js";
import type { authSpec, ServiceHandlers } from "../proto/index.js";
import { firstShardHeader } from "./etcd_convert.js";
import { RouterError } from "./errors.js";
import { unary, unimplementedUnary } from "./grpc_handlers.js";
import type { ShardAccess } from "./shard_access.js";

type AuthHandlers = Required<ServiceHandlers<typeof authSpec.methods>>;

/** etcd's strings (rpctypes), as etcd 3.4 answers with authentication off; clients match on them. */
export const AUTH_ERRORS = {
  notEnabled: "etcdserver: authentication is not enabled",
  userNotFound: "etcdserver: user name not found",
  roleNotFound: "etcdserver: role name not found",
} as const;

const NO_AUTH = "shardkv has no authentication: every client that reaches a node's client address may read and write";
const NO_AUTH_HINT = "keep --listen-client on 127.0.0.1 or a network only trusted clients reach, and connect without a user name";

const cannot = (what: string): string => `shardkv: cannot ${what}: ${NO_AUTH}`;

export class AuthService {
  constructor(private readonly access: ShardAccess) {}

  /** The grpc-js handlers, for `server.addService(etcd.Auth.definition, service.handlers())`. */
  handlers(): AuthHandlers {
    return {
      AuthStatus: unary(async () => ({ header: firstShardHeader(this.access), enabled: false, authRevision: "0" })),
      // Turning off what is off succeeds, as etcd's does.
      AuthDisable: unary(async () => ({ header: firstShardHeader(this.access) })),
      Authenticate: unary(async () => {
        throw new RouterError(grpc.status.FAILED_PRECONDITION, AUTH_ERRORS.notEnabled, `${NO_AUTH}; ${NO_AUTH_HINT}`);
      }),
      UserList: unary(async () => ({ header: firstShardHeader(this.access), users: [] })),
      RoleList: unary(async () => ({ header: firstShardHeader(this.access), roles: [] })),
      UserGet: unary(async () => {
        throw new RouterError(grpc.status.FAILED_PRECONDITION, AUTH_ERRORS.userNotFound, NO_AUTH);
      }),
      RoleGet: unary(async () => {
        throw new RouterError(grpc.status.FAILED_PRECONDITION, AUTH_ERRORS.roleNotFound, NO_AUTH);
      }),
      AuthEnable: unimplementedUnary(cannot("turn authentication on"), NO_AUTH_HINT),
      UserAdd: unimplementedUnary(cannot("add a user"), NO_AUTH_HINT),
      UserDelete: unimplementedUnary(cannot("delete a user"), NO_AUTH_HINT),
      UserChangePassword: unimplementedUnary(cannot("change a user's password"), NO_AUTH_HINT),
      UserGrantRole: unimplementedUnary(cannot("grant a role to a user"), NO_AUTH_HINT),
      UserRevokeRole: unimplementedUnary(cannot("revoke a user's role"), NO_AUTH_HINT),
      RoleAdd: unimplementedUnary(cannot("add a role"), NO_AUTH_HINT),
      RoleDelete: unimplementedUnary(cannot("delete a role"), NO_AUTH_HINT),
      RoleGrantPermission: unimplementedUnary(cannot("grant a permission to a role"), NO_AUTH_HINT),
      RoleRevokePermission: unimplementedUnary(cannot("revoke a role's permission"), NO_AUTH_HINT),
    };
  }
}
