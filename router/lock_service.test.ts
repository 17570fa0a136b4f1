import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEtcdApi, type lockSpec, type TypedClient } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { leaseHome } from "./lease_home.js";
import { LockService } from "./lock_service.js";
import { LocalShardAccess } from "./shard_access.js";
import type { ShardMap } from "./shard_map.js";
import { ask, openLeadingStore, serve, until } from "./test_fixtures.js";
import { WatchBudget } from "./watch_limits.js";

const b = (s: string): Buffer => Buffer.from(s);

let store: Store;
let map: ShardMap;
let access: LocalShardAccess;
let budget: WatchBudget;
let service: LockService;
let server: grpc.Server;
let client: TypedClient<typeof lockSpec.methods>;
let nextLeaseId = 1000n;

/** A lease whose home is the shard of `name`'s lock keys (a key may attach only to a lease of its shard). */
async function leaseFor(name: string): Promise<bigint> {
  const shard = map.shardFor(b(`{${name}}/`)).id;
  let id = nextLeaseId++;
  while (leaseHome(map, id).id !== shard) id = nextLeaseId++;
  const granted = await store.leaseGrant(shard, 60, id);
  expect(granted.ok).toBe(true);
  return id;
}

const request = (name: string, lease: bigint): t.LockRequest => ({ name: b(name), lease: String(lease) });
const lock = (name: string, lease: bigint, signal = new AbortController().signal) => service.lock(request(name, lease), signal);
const keyOf = (response: { key?: Uint8Array | null }): string => Buffer.from(response.key ?? []).toString();

async function get(key: string) {
  return (await access.range(map.shardFor(b(key)).id, { key: b(key) }, "linearizable")).kvs[0];
}

/** Settles to "pending" while the promise has not settled. */
async function state(promise: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  const marker = Symbol("pending");
  const settled = await Promise.race([promise.then(() => "fulfilled" as const, () => "rejected" as const), new Promise((resolve) => setTimeout(() => resolve(marker), 50))]);
  return settled === marker ? "pending" : (settled as "fulfilled" | "rejected");
}

beforeAll(async () => {
  ({ store, map } = await openLeadingStore(4));
  access = new LocalShardAccess(store, map, 5n, 42n);
  budget = new WatchBudget(100);
  service = new LockService(access, budget);
  const api = loadEtcdApi();
  ({ server } = await serve((s) => s.addService(api.Lock.definition, service.handlers())).then(({ server: srv, address }) => {
    client = new api.Lock.Client(address, grpc.credentials.createInsecure());
    return { server: srv };
  }));
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd Lock service", () => {
  it("takes a free lock at once, as {name}/<lease hex> on the caller's lease, with the key's revision in the header", async () => {
    const lease = await leaseFor("free");
    const held = await lock("free", lease);
    expect(keyOf(held)).toBe(`{free}/${lease.toString(16)}`);
    const kv = await get(keyOf(held));
    expect(kv?.lease).toBe(lease);
    // The fencing token is the key's create revision; uncontended, the header is the txn's revision.
    expect(held.header?.revision).toBe(String(kv?.createRevision));
  });

  it("makes a second locker wait until the first unlocks, and serves them in create-revision order", async () => {
    const [first, second, third] = [await leaseFor("line"), await leaseFor("line"), await leaseFor("line")];
    const held = await lock("line", first);
    const waitingSecond = lock("line", second);
    await until("the second waits on the first", () => budget.feeds === 1);
    const waitingThird = lock("line", third);
    await until("the third waits too", () => budget.feeds === 2);
    expect(await state(waitingSecond)).toBe("pending");
    await service.unlock({ key: b(keyOf(held)) });
    const secondHeld = await waitingSecond;
    expect(keyOf(secondHeld)).toBe(`{line}/${second.toString(16)}`);
    expect(await state(waitingThird)).toBe("pending");
    await service.unlock({ key: b(keyOf(secondHeld)) });
    expect(keyOf(await waitingThird)).toBe(`{line}/${third.toString(16)}`);
    await until("no feed is left", () => budget.feeds === 0);
  });

  it("gives the same key back to a lease that holds the lock already", async () => {
    const lease = await leaseFor("again");
    const first = await lock("again", lease);
    const second = await lock("again", lease);
    expect(keyOf(second)).toBe(keyOf(first));
  });

  it("uses a name that has a hash tag as it is", async () => {
    const shard = map.shardFor(b("{orders}")).id;
    let id = nextLeaseId++;
    while (leaseHome(map, id).id !== shard) id = nextLeaseId++;
    await store.leaseGrant(shard, 60, id);
    const held = await lock("{orders}/lock", id);
    expect(keyOf(held)).toBe(`{orders}/lock/${id.toString(16)}`);
  });

  it("fails a waiting Lock with etcd's lease-not-found when its lease goes", async () => {
    const [holder, waiter] = [await leaseFor("expiry"), await leaseFor("expiry")];
    await lock("expiry", holder);
    const waiting = lock("expiry", waiter);
    await until("the waiter waits", () => budget.feeds === 1);
    await store.leaseRevoke(map.shardFor(b("{expiry}/")).id, waiter);
    await expect(waiting).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, message: ETCD_ERRORS.leaseNotFound });
    await until("the feed is released", () => budget.feeds === 0);
  });

  it("takes the key back when the waiter gives up", async () => {
    const [holder, waiter] = [await leaseFor("impatient"), await leaseFor("impatient")];
    await lock("impatient", holder);
    const controller = new AbortController();
    const waiting = lock("impatient", waiter, controller.signal);
    await until("the waiter waits", () => budget.feeds === 1);
    controller.abort(new Error("gave up"));
    await expect(waiting).rejects.toThrow("gave up");
    expect(await get(`{impatient}/${waiter.toString(16)}`)).toBeUndefined();
    expect(budget.feeds).toBe(0);
  });

  it("refuses an unknown lease with etcd's NOT_FOUND, and no lease or no name with INVALID_ARGUMENT", async () => {
    const unknown = 1n;
    await expect(lock("nolease", unknown)).rejects.toMatchObject({ message: ETCD_ERRORS.leaseNotFound });
    await expect(lock("zero", 0n)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, message: expect.stringMatching(/without a lease/) });
    await expect(lock("", 5n)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, message: expect.stringMatching(/unnamed lock/) });
    await expect(lock("}x", 5n)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, message: expect.stringMatching(/no hash tag/) });
    await expect(service.unlock({ key: b("") })).rejects.toMatchObject({ message: ETCD_ERRORS.emptyKey });
  });

  it("serves Lock and Unlock over gRPC, ending a waiting Lock with UNAVAILABLE when the service closes", async () => {
    const [holder, waiter] = [await leaseFor("wire"), await leaseFor("wire")];
    const held = await ask<t.LockResponse>((cb) => client.Lock({ name: b("wire"), lease: String(holder) }, new grpc.Metadata(), {}, cb));
    expect(held.key.toString()).toBe(`{wire}/${holder.toString(16)}`);
    const waiting = ask<t.LockResponse>((cb) => client.Lock({ name: b("wire"), lease: String(waiter) }, new grpc.Metadata(), {}, cb));
    await until("the waiter waits", () => budget.feeds === 1);
    service.close();
    await expect(waiting).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: "shardkv: this node is shutting down" });
    const unlocked = await ask<t.UnlockResponse>((cb) => client.Unlock({ key: held.key }, new grpc.Metadata(), {}, cb));
    expect(Number(unlocked.header?.revision)).toBeGreaterThan(Number(held.header?.revision));
  });
});
