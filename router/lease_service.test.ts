import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type kvSpec, type leaseSpec, loadEtcdApi, type TypedClient, type Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { KvService } from "./kv_service.js";
import { leaseHome } from "./lease_home.js";
import { LeaseService } from "./lease_service.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap, evenShards } from "./shard_map.js";
import { ask, openLeadingStore, serve, until } from "./test_fixtures.js";

const MEMBER_ID = 7n;
const CLUSTER_ID = 42n;

const b = (s: string): Buffer => Buffer.from(s);

let store: Store;
let map: ShardMap;
let server: grpc.Server;
let kv: TypedClient<typeof kvSpec.methods>;
let lease: TypedClient<typeof leaseSpec.methods>;

const md = () => new grpc.Metadata();
const grant = (ttl: number, id = "0") => ask<t.LeaseGrantResponse>((cb) => lease.LeaseGrant({ TTL: String(ttl), ID: id }, md(), {}, cb));
const revoke = (id: string) => ask<t.LeaseRevokeResponse>((cb) => lease.LeaseRevoke({ ID: id }, md(), {}, cb));
const timeToLive = (id: string, keys = false) => ask<t.LeaseTimeToLiveResponse>((cb) => lease.LeaseTimeToLive({ ID: id, keys }, md(), {}, cb));
const leases = () => ask<t.LeaseLeasesResponse>((cb) => lease.LeaseLeases({}, md(), {}, cb));
const put = (req: Writable<t.PutRequest>) => ask<t.PutResponse>((cb) => kv.Put(req, md(), {}, cb));
const txn = (req: Writable<t.TxnRequest>) => ask<t.TxnResponse>((cb) => kv.Txn(req, md(), {}, cb));
const get = (key: string) => ask<t.RangeResponse>((cb) => kv.Range({ key: b(key) }, md(), {}, cb));

/** A key that `inMap` puts in shard `shard` (or, with `other`, in any other shard). */
function keyIn(inMap: ShardMap, shard: number, other = false): string {
  for (let i = 0; ; i++) {
    const key = `key-${i}`;
    if ((inMap.shardFor(b(key)).id === shard) !== other) return key;
  }
}

/** A bidi keep-alive stream with its answers queued for `next()`. */
function keepAliveStream() {
  const call = lease.LeaseKeepAlive(md(), {});
  const answers: t.LeaseKeepAliveResponse[] = [];
  let ended = false;
  call.on("data", (answer: t.LeaseKeepAliveResponse) => answers.push(answer));
  call.on("end", () => (ended = true));
  call.on("error", () => (ended = true));
  return {
    async send(id: string): Promise<t.LeaseKeepAliveResponse> {
      const before = answers.length;
      call.write({ ID: id });
      await until("the keep-alive is answered", () => answers.length > before);
      return answers[before]!;
    },
    async close(): Promise<void> {
      call.end();
      await until("the server ends the stream", () => ended);
    },
  };
}

beforeAll(async () => {
  // A 1 s minimum TTL lets expiry happen within the test's patience.
  ({ store, map } = await openLeadingStore(4, { leaseTtlMinSeconds: 1 }));
  const access = new LocalShardAccess(store, map, MEMBER_ID, CLUSTER_ID);
  const api = loadEtcdApi();
  let address: string;
  ({ server, address } = await serve((s) => {
    s.addService(api.KV.definition, new KvService(access).handlers());
    s.addService(api.Lease.definition, new LeaseService(access).handlers());
  }));
  kv = new api.KV.Client(address, grpc.credentials.createInsecure());
  lease = new api.Lease.Client(address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  kv.close();
  lease.close();
  server.forceShutdown();
  await store.close();
});

describe("the etcd Lease service over four shards", () => {
  it("grants, lists, tells the TTL of, and revokes a lease the server names", async () => {
    const granted = await grant(30);
    expect(granted.ID).not.toBe("0");
    expect(granted.TTL).toBe("30");
    const home = leaseHome(map, BigInt(granted.ID)).id;
    expect(granted.header?.revision).toBe(String(store.replica(home).state.revision));

    const ttl = await timeToLive(granted.ID);
    expect(ttl).toMatchObject({ ID: granted.ID, TTL: "30", grantedTTL: "30" });
    expect((await leases()).leases.map((l) => l.ID)).toContain(granted.ID);

    await revoke(granted.ID);
    expect(await timeToLive(granted.ID)).toMatchObject({ ID: granted.ID, TTL: "-1" });
    expect((await leases()).leases.map((l) => l.ID)).not.toContain(granted.ID);
    await expect(revoke(granted.ID)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: ETCD_ERRORS.leaseNotFound });
  });

  it("grants the id the client asks for, once, and raises a short TTL to the minimum", async () => {
    const granted = await grant(0, "1234567890123");
    expect(granted).toMatchObject({ ID: "1234567890123", TTL: "1" });
    await expect(grant(5, "1234567890123")).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: ETCD_ERRORS.leaseExists });
    await revoke("1234567890123");
  });

  it("keeps a lease alive over its TTL on one stream, and answers TTL 0 once it is revoked", async () => {
    const { ID } = await grant(1);
    const stream = keepAliveStream();
    // Renewals every 300 ms for 1.5 s: without them the 1 s lease would have expired.
    for (let i = 0; i < 5; i++) {
      expect(await stream.send(ID)).toMatchObject({ ID, TTL: "1" });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(Number((await timeToLive(ID)).TTL)).toBeGreaterThanOrEqual(0);
    await revoke(ID);
    expect(await stream.send(ID)).toMatchObject({ ID, TTL: "0" });
    await stream.close();
  });

  it("lets a lease that is not kept alive expire, and its keys with it", async () => {
    const { ID } = await grant(1);
    const key = keyIn(map, leaseHome(map, BigInt(ID)).id);
    await put({ key: b(key), value: b("v"), lease: ID });
    const attached = await timeToLive(ID, true);
    expect(attached.keys.map(String)).toEqual([key]);
    expect((await get(key)).kvs[0]?.lease).toBe(ID);

    await until("the lease expired", async () => (await timeToLive(ID)).TTL === "-1", 5_000);
    expect((await get(key)).kvs).toHaveLength(0);
  });

  it("attaches keys of other shards than the lease's through stubs, lists them, and revokes them with the lease", async () => {
    const { ID } = await grant(30);
    const home = leaseHome(map, BigInt(ID)).id;
    const [away, elsewhere] = [keyIn(map, home, true), keyIn(map, map.shardFor(b(keyIn(map, home, true))).id, true)];
    await put({ key: b(away), value: b("v"), lease: ID });
    await txn({ success: [{ request_put: { key: b(elsewhere), value: b("v"), lease: ID } }] });
    const stubShards = map.shards.filter((shard) => shard.id !== home && store.replica(shard.id).state.leases().some((l) => String(l.id) === ID));
    expect(stubShards.length).toBeGreaterThanOrEqual(1);
    expect((await timeToLive(ID, true)).keys.map(String).sort()).toEqual([away, elsewhere].sort());
    // Listed once, from its home, however many stubs it has.
    expect((await leases()).leases.filter((l) => l.ID === ID)).toHaveLength(1);
    await revoke(ID);
    expect((await get(away)).kvs).toHaveLength(0);
    expect((await get(elsewhere)).kvs).toHaveLength(0);
    expect(stubShards.filter((shard) => store.replica(shard.id).state.leases().some((l) => String(l.id) === ID))).toHaveLength(0);
    // A lease that exists nowhere is still etcd's NOT_FOUND, whichever shard the key is in.
    await expect(put({ key: b(away), value: b("v"), lease: ID })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: ETCD_ERRORS.leaseNotFound });
  });

  it("attaches any key to any lease when the cluster has one data shard", async () => {
    const single = new LocalShardAccess(store, new ShardMap(1, evenShards(1, [1], 1)), MEMBER_ID, CLUSTER_ID);
    const leaseService = new LeaseService(single);
    const granted = await leaseService.grant({ TTL: "30", ID: "0" });
    // A key that the four-shard map would have refused for this lease.
    const key = keyIn(map, leaseHome(map, BigInt(granted.ID ?? "0")).id, true);
    const written = await new KvService(single).put({ key: b(key), value: b("v"), lease: granted.ID ?? "0", prev_kv: false, ignore_value: false, ignore_lease: false });
    expect(written.header?.revision).toBeDefined();
    const ttl = await leaseService.timeToLive({ ID: granted.ID ?? "0", keys: true });
    expect(ttl.keys?.map(String)).toEqual([key]);
    await leaseService.revoke({ ID: granted.ID ?? "0" });
  });
});
