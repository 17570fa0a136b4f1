import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type electionSpec, loadEtcdApi, type TypedClient } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { ELECTION_ERRORS, ElectionService } from "./election_service.js";
import { leaseHome } from "./lease_home.js";
import { LocalShardAccess } from "./shard_access.js";
import type { ShardMap } from "./shard_map.js";
import { openLeadingStore, serve, until } from "./test_fixtures.js";
import { WatchBudget } from "./watch_limits.js";

const b = (s: string): Buffer => Buffer.from(s);
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString();

let store: Store;
let map: ShardMap;
let budget: WatchBudget;
let service: ElectionService;
let server: grpc.Server;
let client: TypedClient<typeof electionSpec.methods>;
let nextLeaseId = 5000n;

/** A lease whose home is the shard of election `name`'s keys. */
async function leaseFor(name: string): Promise<bigint> {
  const shard = map.shardFor(b(`{${name}}/`)).id;
  let id = nextLeaseId++;
  while (leaseHome(map, id).id !== shard) id = nextLeaseId++;
  expect((await store.leaseGrant(shard, 60, id)).ok).toBe(true);
  return id;
}

const campaign = (name: string, lease: bigint, value: string, signal = new AbortController().signal) =>
  service.campaign({ name: b(name), lease: String(lease), value: b(value) }, signal);
const leaderValue = async (name: string): Promise<string> => text((await service.leader({ name: b(name) })).kv?.value);
/** A LeaderKey as a client sends it back: the campaign's answer, decoded. */
const asLeaderKey = (leader: Awaited<ReturnType<typeof campaign>>["leader"]): t.LeaderKey => ({
  name: Buffer.from(leader?.name ?? []),
  key: Buffer.from(leader?.key ?? []),
  rev: leader?.rev ?? "0",
  lease: leader?.lease ?? "0",
});

beforeAll(async () => {
  ({ store, map } = await openLeadingStore(4));
  budget = new WatchBudget(100);
  service = new ElectionService(new LocalShardAccess(store, map, 5n, 42n), budget);
  const api = loadEtcdApi();
  const served = await serve((s) => s.addService(api.Election.definition, service.handlers()));
  server = served.server;
  client = new api.Election.Client(served.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd Election service", () => {
  it("elects the first candidate at once, under {name}/<lease hex>, with its value as the leader's", async () => {
    const lease = await leaseFor("solo");
    const won = await campaign("solo", lease, "me");
    expect(won.leader).toMatchObject({ name: b("solo"), key: b(`{solo}/${lease.toString(16)}`), lease: String(lease), rev: won.header?.revision });
    expect(await leaderValue("solo")).toBe("me");
  });

  it("makes a later candidate wait until the leader resigns", async () => {
    const [first, second] = [await leaseFor("pair"), await leaseFor("pair")];
    const won = await campaign("pair", first, "first");
    const waiting = campaign("pair", second, "second");
    await until("the second candidate waits", () => budget.feeds === 1);
    expect(await leaderValue("pair")).toBe("first");
    await service.resign({ leader: asLeaderKey(won.leader) });
    const next = await waiting;
    expect(text(next.leader?.key)).toBe(`{pair}/${second.toString(16)}`);
    expect(await leaderValue("pair")).toBe("second");
    // Resigning again is no error, and changes nothing.
    await service.resign({ leader: asLeaderKey(won.leader) });
    expect(await leaderValue("pair")).toBe("second");
  });

  it("lets the leader proclaim, and refuses a candidate whose key is gone with etcd's string", async () => {
    const lease = await leaseFor("proclaim");
    const won = await campaign("proclaim", lease, "v1");
    await service.proclaim({ leader: asLeaderKey(won.leader), value: b("v2") });
    expect(await leaderValue("proclaim")).toBe("v2");
    await service.resign({ leader: asLeaderKey(won.leader) });
    await expect(service.proclaim({ leader: asLeaderKey(won.leader), value: b("v3") })).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      message: ELECTION_ERRORS.notLeader,
    });
  });

  it("answers etcd's strings for no leader and a missing leader field", async () => {
    await expect(service.leader({ name: b("nobody") })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, message: ELECTION_ERRORS.noLeader });
    await expect(service.proclaim({ leader: null, value: b("x") })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, message: ELECTION_ERRORS.missingLeader });
    await expect(service.resign({ leader: null })).rejects.toMatchObject({ message: ELECTION_ERRORS.missingLeader });
    await expect(campaign("nolease", 0n, "x")).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("fails a waiting campaign with lease-not-found when its lease goes", async () => {
    const [leader, waiter] = [await leaseFor("expire"), await leaseFor("expire")];
    await campaign("expire", leader, "l");
    const waiting = campaign("expire", waiter, "w");
    await until("the candidate waits", () => budget.feeds === 1);
    await store.leaseRevoke(map.shardFor(b("{expire}/")).id, waiter);
    await expect(waiting).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, message: ETCD_ERRORS.leaseNotFound });
  });

  it("streams the leader to an observer: the first one, its proclamations, then the next one", async () => {
    const seen: string[] = [];
    const stream = client.Observe({ name: b("watched") }, new grpc.Metadata(), {});
    stream.on("data", (response: t.LeaderResponse) => seen.push(text(response.kv?.value)));
    stream.on("error", () => undefined);
    await until("the observer waits for a candidate", () => budget.feeds === 1);
    const [first, second] = [await leaseFor("watched"), await leaseFor("watched")];
    const won = await campaign("watched", first, "a");
    await until("the observer saw the leader", () => seen.length === 1);
    await service.proclaim({ leader: asLeaderKey(won.leader), value: b("b") });
    const waiting = campaign("watched", second, "c");
    await until("the observer saw the proclamation", () => seen.length === 2);
    await service.resign({ leader: asLeaderKey(won.leader) });
    await waiting;
    await until("the observer saw the next leader", () => seen.length === 3);
    expect(seen).toEqual(["a", "b", "c"]);
    stream.cancel();
    await until("the observer's feed is released", () => budget.feeds === 0);
  });
});
