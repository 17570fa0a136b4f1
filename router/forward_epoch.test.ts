// The shard map epoch on forwarded operations: a sender with an older map is told the newer epoch,
// reads the meta group, and retries without the client seeing it; a receiver with an older map reads
// the meta group before it serves, and refuses (so the sender retries) while it still lags.

import * as grpc from "@grpc/grpc-js";
import { MemoryLevel } from "memory-level";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPeerApi } from "../proto/index.js";
import { Store } from "../shard/store.js";
import { MemoryFiles } from "../shard/wal/memory_files.js";
import { Wal } from "../shard/wal/wal.js";
import { ForwardClient } from "./forward_client.js";
import { ForwardService } from "./forward_service.js";
import { RoutedShardAccess } from "./routed_shard_access.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap } from "./shard_map.js";
import { openLeadingStore, serve } from "./test_fixtures.js";

let receiverStore: Store;
let senderStore: Store;
let epoch1: ShardMap;
let epoch2: ShardMap;
let server: grpc.Server;
let address: string;
let receiver: LocalShardAccess;
let receiverCatchUps = 0;
let receiverNext: ShardMap | undefined;
const forwardClients: ForwardClient[] = [];

beforeAll(async () => {
  const opened = await openLeadingStore(2);
  receiverStore = opened.store;
  epoch1 = opened.map;
  epoch2 = new ShardMap(2, epoch1.shards.map((shard) => ({ ...shard, epoch: 2 })));
  await receiverStore.propose(1, { op: "put", put: { key: Buffer.from("k"), value: Buffer.from("v") } });
  receiver = new LocalShardAccess(receiverStore, epoch1, 1n, 7n);
  const service = new ForwardService(
    () => receiver,
    async () => {
      receiverCatchUps++;
      if (receiverNext !== undefined) receiver.updateMap(receiverNext);
    },
  );
  ({ server, address } = await serve((s) => s.addService(loadPeerApi().Forward.definition, service.handlers() as grpc.UntypedServiceImplementation)));
  // The sender: node 2, with no replica of anything, so every operation is forwarded to node 1.
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  senderStore = await Store.open({ nodeId: 2, db, wal: await Wal.open({ dir: "/wal", files: new MemoryFiles() }), transport: { send: () => undefined }, tickMs: 5 });
});

afterAll(async () => {
  for (const client of forwardClients) client.close();
  server.forceShutdown();
  await senderStore.close();
  await receiverStore.close();
});

function sender(map: ShardMap, requestTimeoutMs = 2_000): { access: RoutedShardAccess; local: LocalShardAccess } {
  const local = new LocalShardAccess(senderStore, map, 2n, 7n);
  const client = new ForwardClient(new Map([[1, address]]));
  forwardClients.push(client);
  return { access: new RoutedShardAccess(local, client, 2, [1], { requestTimeoutMs }), local };
}

describe("shard map epochs on forwarded operations", () => {
  it("has a sender with an older map catch up once and retry, unseen by its caller", async () => {
    receiver.updateMap(epoch2);
    const { access, local } = sender(epoch1);
    let catchUps = 0;
    access.catchUpMap = async () => {
      catchUps++;
      local.updateMap(epoch2);
    };
    const answer = await access.range(1, { key: Buffer.from("k") }, "linearizable");
    expect(answer.kvs.map((kv) => Buffer.from(kv.value).toString())).toEqual(["v"]);
    expect(catchUps).toBe(1);
    expect(access.map().epoch).toBe(2);
  });

  it("has a receiver with an older map read the meta group before it serves", async () => {
    receiver = new LocalShardAccess(receiverStore, epoch1, 1n, 7n);
    receiverNext = epoch2;
    const before = receiverCatchUps;
    const { access } = sender(epoch2);
    const answer = await access.range(1, { key: Buffer.from("k") }, "serializable");
    expect(answer.kvs).toHaveLength(1);
    expect(receiverCatchUps).toBe(before + 1);
    expect(receiver.map().epoch).toBe(2);
  });

  it("refuses, while the receiver still lags, until the sender's deadline, naming why", async () => {
    receiver = new LocalShardAccess(receiverStore, epoch1, 1n, 7n);
    receiverNext = undefined;
    const { access } = sender(epoch2, 300);
    const error = await access.range(1, { key: Buffer.from("k") }, "serializable").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: grpc.status.UNAVAILABLE, message: "etcdserver: request timed out" });
    expect((error as { hint: string }).hint).toMatch(/has not read it from the meta group yet/);
  });
});
