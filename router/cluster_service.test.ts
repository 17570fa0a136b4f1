import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type clusterSpec, loadEtcdApi, type TypedClient } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type { Store } from "../shard/store.js";
import { ClusterService } from "./cluster_service.js";
import type { MemberInfo } from "./members.js";
import { LocalShardAccess } from "./shard_access.js";
import { ask, openLeadingStore, serve } from "./test_fixtures.js";

const MEMBERS: readonly MemberInfo[] = [
  { id: 0xfedc_ba98_7654_3210n, nodeId: 1, name: "n1", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"], isLearner: false },
  { id: 0x1234n, nodeId: 2, name: "n2", peerURLs: ["http://127.0.0.2:2380"], clientURLs: [], isLearner: true },
];

let store: Store;
let server: grpc.Server;
let client: TypedClient<typeof clusterSpec.methods>;
const md = () => new grpc.Metadata();

beforeAll(async () => {
  const opened = await openLeadingStore(2);
  store = opened.store;
  const access = new LocalShardAccess(store, opened.map, MEMBERS[0]!.id, 42n);
  const api = loadEtcdApi();
  const served = await serve((s) => s.addService(api.Cluster.definition, new ClusterService(access, MEMBERS).handlers()));
  server = served.server;
  client = new api.Cluster.Client(served.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd Cluster service", () => {
  it("lists the members it was given, with 64-bit ids intact", async () => {
    const list = await ask<t.MemberListResponse>((cb) => client.MemberList({ linearizable: true }, md(), {}, cb));
    expect(list.header).toMatchObject({ cluster_id: "42", member_id: String(MEMBERS[0]!.id) });
    expect(list.members).toEqual([
      { ID: "18364758544493064720", name: "n1", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"], isLearner: false },
      { ID: "4660", name: "n2", peerURLs: ["http://127.0.0.2:2380"], clientURLs: [], isLearner: true },
    ]);
  });

  it("answers UNIMPLEMENTED to membership changes, saying they come with the membership issue", async () => {
    const calls = [
      ask((cb) => client.MemberAdd({ peerURLs: ["http://127.0.0.3:2380"] }, md(), {}, cb)),
      ask((cb) => client.MemberRemove({ ID: "4660" }, md(), {}, cb)),
      ask((cb) => client.MemberUpdate({ ID: "4660", peerURLs: [] }, md(), {}, cb)),
      ask((cb) => client.MemberPromote({ ID: "4660" }, md(), {}, cb)),
    ];
    for (const call of calls) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: grpc.status.UNIMPLEMENTED });
      expect((error as grpc.ServiceError).details).toMatch(/membership changes come with the membership issue/);
    }
  });
});
