import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type authSpec, loadEtcdApi, type TypedClient } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type { Store } from "../shard/store.js";
import { AUTH_ERRORS, AuthService } from "./auth_service.js";
import { HINT_METADATA_KEY } from "./errors.js";
import { LocalShardAccess } from "./shard_access.js";
import { ask, openLeadingStore, serve } from "./test_fixtures.js";

let store: Store;
let server: grpc.Server;
let client: TypedClient<typeof authSpec.methods>;
const md = () => new grpc.Metadata();
const failure = (call: Promise<unknown>): Promise<grpc.ServiceError> => call.then(() => expect.fail("the call succeeded"), (error: unknown) => error as grpc.ServiceError);

beforeAll(async () => {
  const opened = await openLeadingStore(2);
  store = opened.store;
  const access = new LocalShardAccess(store, opened.map, 7n, 42n);
  const api = loadEtcdApi();
  const served = await serve((s) => s.addService(api.Auth.definition, new AuthService(access).handlers()));
  server = served.server;
  client = new api.Auth.Client(served.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd Auth service, as an etcd with authentication off", () => {
  it("reports authentication off, and turning it off succeeds", async () => {
    const status = await ask<t.AuthStatusResponse>((cb) => client.AuthStatus({}, md(), {}, cb));
    expect(status).toMatchObject({ enabled: false, authRevision: "0", header: { cluster_id: "42", member_id: "7" } });
    const disabled = await ask<t.AuthHeaderResponse>((cb) => client.AuthDisable({}, md(), {}, cb));
    expect(disabled.header).toMatchObject({ cluster_id: "42" });
  });

  it("lists no users and no roles, and finds none by name, with etcd's strings", async () => {
    expect((await ask<t.AuthUserListResponse>((cb) => client.UserList({}, md(), {}, cb))).users).toEqual([]);
    expect((await ask<t.AuthRoleListResponse>((cb) => client.RoleList({}, md(), {}, cb))).roles).toEqual([]);
    const user = await failure(ask((cb) => client.UserGet({ name: "root" }, md(), {}, cb)));
    expect(user).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: AUTH_ERRORS.userNotFound });
    const role = await failure(ask((cb) => client.RoleGet({ role: "root" }, md(), {}, cb)));
    expect(role).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: AUTH_ERRORS.roleNotFound });
  });

  it("refuses to authenticate as etcd does with authentication off, with a hint saying why", async () => {
    const error = await failure(ask((cb) => client.Authenticate({ name: "root", password: "secret" }, md(), {}, cb)));
    expect(error).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "etcdserver: authentication is not enabled" });
    expect(String(error.metadata.get(HINT_METADATA_KEY)[0])).toMatch(/no authentication.*connect without a user name/);
  });

  it("answers UNIMPLEMENTED, with the reason, to everything that would store a user or a role or turn authentication on", async () => {
    const calls: [string, Promise<unknown>][] = [
      ["turn authentication on", ask((cb) => client.AuthEnable({}, md(), {}, cb))],
      ["add a user", ask((cb) => client.UserAdd({ name: "bob", password: "pw", options: null, hashedPassword: "" }, md(), {}, cb))],
      ["delete a user", ask((cb) => client.UserDelete({ name: "bob" }, md(), {}, cb))],
      ["change a user's password", ask((cb) => client.UserChangePassword({ name: "bob", password: "pw2", hashedPassword: "" }, md(), {}, cb))],
      ["grant a role to a user", ask((cb) => client.UserGrantRole({ user: "bob", role: "r" }, md(), {}, cb))],
      ["revoke a user's role", ask((cb) => client.UserRevokeRole({ name: "bob", role: "r" }, md(), {}, cb))],
      ["add a role", ask((cb) => client.RoleAdd({ name: "r" }, md(), {}, cb))],
      ["delete a role", ask((cb) => client.RoleDelete({ role: "r" }, md(), {}, cb))],
      ["grant a permission to a role", ask((cb) => client.RoleGrantPermission({ name: "r", perm: { permType: 2, key: Buffer.from("a"), range_end: Buffer.alloc(0) } }, md(), {}, cb))],
      ["revoke a role's permission", ask((cb) => client.RoleRevokePermission({ role: "r", key: Buffer.from("a"), range_end: Buffer.alloc(0) }, md(), {}, cb))],
    ];
    for (const [what, call] of calls) {
      const error = await failure(call);
      expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(error.details).toBe(`shardkv: cannot ${what}: shardkv has no authentication: every client that reaches a node's client address may read and write`);
      expect(String(error.metadata.get(HINT_METADATA_KEY)[0])).toMatch(/--listen-client on 127\.0\.0\.1/);
    }
  });
});
