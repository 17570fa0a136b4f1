// The etcd3 npm client (mixer/etcd3, the maintained Node client), unchanged, against real shardkv
// processes. Two clusters of three nodes:
// - four data shards: keys, ranges and prefixes scattered over the shards, transactions inside one
//   shard (hash tags), namespaces, watches, leases, Maintenance Status and MemberList, a watch that
//   moves to another node when its node dies, and etcd3's Lock and Election on hash-tagged names.
//   etcd3 builds the helpers' keys from the name (Lock's key is the name; Election's are
//   election/<name>/<lease id>, read through a namespace), and Election compares its candidates'
//   create revisions, which compare only within a shard (ARCHITECTURE.md, "Revisions in a sharded
//   etcd"): a tag in the name (`{mylock}`) keeps every key of the helper in the tag's shard. Their
//   leases live where their ids hash, and reach the keys through stubs (router/lease_home.ts).
// - one data shard, where shardkv behaves exactly like etcd: the same helpers on untagged names.

import { type Campaign, Etcd3, EtcdLeaseInvalidError, EtcdLockFailedError, GRPCFailedPreconditionError, type IKeyValue, type Lease, type Watcher } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapConfig } from "../../router/cluster_config.js";
import { leaseHome } from "../../router/lease_home.js";
import { ShardMap } from "../../router/shard_map.js";
import { until } from "../../router/test_fixtures.js";
import { eventually } from "../support/node_cluster.js";
import { type ProcessCluster, startProcessCluster } from "../support/process_cluster.js";

const SHARDS = 4;

/** A cluster of three processes, the shard map it bootstrapped, and an etcd3 client that knows every node. */
async function startCluster(initialShards: number): Promise<{ cluster: ProcessCluster; map: ShardMap; client: Etcd3 }> {
  const cluster = await startProcessCluster(3, { initialShards, replicas: 3 });
  const map = mapOf(cluster, initialShards);
  const hosts = cluster.nodes.map((node) => node.clientAddress);
  // Until every shard has a leader, writes fail; a throwaway client takes those failures, so that the
  // test's client starts with no host marked failed by etcd3's circuit breakers.
  const warmup = new Etcd3({ hosts });
  try {
    const keys = map.shards.map((shard) => keyIn(map, shard.id, "warmup/"));
    await eventually("every shard takes writes", async () => {
      for (const key of keys) await warmup.put(key).value("x").exec();
    }, 20_000);
  } finally {
    warmup.close();
  }
  return { cluster, map, client: new Etcd3({ hosts }) };
}

/** The shard map the cluster bootstrapped from its flags (bootstrapConfig is what every node ran). */
function mapOf(cluster: ProcessCluster, shards: number): ShardMap {
  const flag = cluster.nodes[0]!.args.find((arg) => arg.startsWith("--initial-cluster="))!;
  const config = bootstrapConfig(flag.slice("--initial-cluster=".length), shards, 3);
  return new ShardMap(config.shardMapEpoch, config.shards);
}

/** The first of `prefix`0, `prefix`1, ... that lives in `shard`. */
function keyIn(map: ShardMap, shard: number, prefix: string): string {
  for (let i = 0; ; i++) if (map.shardFor(Buffer.from(`${prefix}${i}`)).id === shard) return `${prefix}${i}`;
}

/** A watcher's events as "put k=v" / "delete k", in the order they came. */
function record(watcher: Watcher): string[] {
  const seen: string[] = [];
  watcher.on("put", (kv: IKeyValue) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()}`));
  watcher.on("delete", (kv: IKeyValue) => seen.push(`delete ${kv.key.toString()}`));
  return seen;
}

describe("etcd3 against three nodes with four data shards", () => {
  let cluster: ProcessCluster;
  let client: Etcd3;
  let map: ShardMap;

  beforeAll(async () => {
    ({ cluster, map, client } = await startCluster(SHARDS));
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("puts, gets and deletes keys, alone and by prefix over every shard, with limits and sort orders", async () => {
    const keys = ["kv/a", "kv/b", "kv/c", "kv/d", "kv/e", "kv/f", "kv/g", "kv/h"];
    expect(new Set(keys.map((key) => map.shardFor(Buffer.from(key)).id)).size).toBe(SHARDS);
    // Values in the reverse order of the keys, so that sorting by value differs from sorting by key.
    for (const [i, key] of keys.entries()) await client.put(key).value(`v${keys.length - i}`);
    await client.put("kx/outside").value("not in the prefix");

    expect(await client.get("kv/c").string()).toBe("v6");
    expect(await client.get("kv/missing").string()).toBeNull();
    await client.put("kv/json").value(JSON.stringify({ n: 1 }));
    expect(await client.get("kv/json").json()).toEqual({ n: 1 });
    expect(await client.get("kv/json").exists()).toBe(true);
    await client.delete().key("kv/json");

    expect(await client.getAll().prefix("kv/").keys()).toEqual(keys);
    expect(await client.getAll().prefix("kv/").count()).toBe(keys.length);
    expect(await client.getAll().prefix("kv/").strings()).toEqual(Object.fromEntries(keys.map((key, i) => [key, `v${keys.length - i}`])));
    expect(await client.getAll().prefix("kv/").sort("Key", "Descend").limit(3).keys()).toEqual(["kv/h", "kv/g", "kv/f"]);
    expect(await client.getAll().prefix("kv/").sort("Value", "Ascend").limit(2).keys()).toEqual(["kv/h", "kv/g"]);
    await client.put("kv/d").value("v5");
    expect(await client.getAll().prefix("kv/").sort("Version", "Descend").limit(1).keys()).toEqual(["kv/d"]);
    // Create and mod revisions compare only within a shard: such a sort over several is refused.
    await expect(client.getAll().prefix("kv/").sort("Create", "Ascend").keys()).rejects.toBeInstanceOf(GRPCFailedPreconditionError);
    const limited = await client.getAll().prefix("kv/").limit(2).exec();
    expect(limited.kvs.map((kv) => kv.key.toString())).toEqual(["kv/a", "kv/b"]);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(String(keys.length));
    expect(await client.getAll().inRange({ start: "kv/b", end: "kv/e" }).keys()).toEqual(["kv/b", "kv/c", "kv/d"]);

    const previous = await client.put("kv/a").value("again").getPrevious();
    expect(previous.value.toString()).toBe("v8");

    const deleted = await client.delete().prefix("kv/").exec();
    expect(deleted.deleted).toBe(String(keys.length));
    expect(await client.getAll().prefix("kv/").keys()).toEqual([]);
    expect(await client.get("kx/outside").string()).toBe("not in the prefix");
  });

  it("runs if/then/else transactions on keys that a hash tag keeps in one shard, and refuses one across shards", async () => {
    await client.put("{acct}/balance").value("10");
    const won = await client
      .if("{acct}/balance", "Value", "==", "10")
      .and("{acct}/log", "Create", "==", 0)
      .then(client.put("{acct}/balance").value("7"), client.put("{acct}/log").value("-3"))
      .else(client.get("{acct}/balance"))
      .commit();
    expect(won.succeeded).toBe(true);
    expect(await client.getAll().prefix("{acct}/").strings()).toEqual({ "{acct}/balance": "7", "{acct}/log": "-3" });

    const lost = await client.if("{acct}/balance", "Value", "==", "10").then(client.put("{acct}/balance").value("0")).else(client.get("{acct}/balance")).commit();
    expect(lost.succeeded).toBe(false);
    expect(lost.responses[0]?.response_range.kvs[0]?.value.toString()).toBe("7");
    const version = await client.if("{acct}/balance", "Version", ">", 1).then(client.delete().key("{acct}/log")).commit();
    expect(version.succeeded).toBe(true);
    expect(await client.get("{acct}/log").string()).toBeNull();

    // Keys of two shards in one txn: shardkv's documented FAILED_PRECONDITION (a txn stays in one shard).
    const [a, b] = map.shards.slice(0, 2).map((shard) => keyIn(map, shard.id, "tx/")) as [string, string];
    await expect(client.if(a, "Create", "==", 0).then(client.put(b).value("x")).commit()).rejects.toBeInstanceOf(GRPCFailedPreconditionError);
  });

  it("reads and writes under a namespace, which prefixes every key and strips it from answers", async () => {
    const app = client.namespace("app/");
    await app.put("one").value("1");
    await app.put("two").value("2");
    expect(await client.get("app/one").string()).toBe("1");
    expect(await app.getAll().keys()).toEqual(["one", "two"]);
    expect(await app.getAll().prefix("t").strings()).toEqual({ two: "2" });
    const nested = app.namespace("{inner}/");
    const txn = await nested.if("k", "Create", "==", 0).then(nested.put("k").value("v")).commit();
    expect(txn.succeeded).toBe(true);
    expect(await client.get("app/{inner}/k").string()).toBe("v");
    await app.delete().all();
    expect(await client.getAll().prefix("app/").keys()).toEqual([]);
  });

  it("watches a key, a prefix over every shard, and a key's history from a revision", async () => {
    const key = record(await client.watch().key("w/key").create());
    const keys = ["wp/a", "wp/b", "wp/c", "wp/d", "wp/e", "wp/f", "wp/g", "wp/h"];
    const prefix = await client.watch().prefix("wp/").create();
    const prefixSeen = record(prefix);
    await client.put("w/key").value("v1");
    await client.put("w/other").value("not watched");
    await client.delete().key("w/key");
    for (const k of keys) await client.put(k).value(`of ${k}`);
    await client.delete().prefix("wp/");
    await until("the key's watcher saw the delete", () => key.length === 2, 10_000);
    expect(key).toEqual(["put w/key=v1", "delete w/key"]);
    await until("the prefix watcher saw every delete", () => prefixSeen.length === keys.length * 2, 10_000);
    // Each shard's events arrive in order; across shards, in whatever order the shards applied them.
    expect([...prefixSeen].sort()).toEqual([...keys.map((k) => `delete ${k}`), ...keys.map((k) => `put ${k}=of ${k}`)].sort());
    await prefix.cancel();

    const first = await client.put("hist/k").value("first").exec();
    await client.put("hist/k").value("second");
    const history = record(await client.watch().key("hist/k").startRevision(first.header.revision).create());
    await until("the history is replayed", () => history.length === 2, 10_000);
    expect(history).toEqual(["put hist/k=first", "put hist/k=second"]);

    // Only puts, with the previous value.
    const puts = await client.watch().key("pk").only("put").withPreviousKV().create();
    const prev: string[] = [];
    puts.on("put", (kv: IKeyValue, before?: IKeyValue) => prev.push(`${before?.value.toString() ?? "-"}>${kv.value.toString()}`));
    await client.put("pk").value("a");
    await client.delete().key("pk");
    await client.put("pk").value("b");
    await client.put("pk").value("c");
    await until("the puts are seen", () => prev.length === 3, 10_000);
    expect(prev).toEqual(["->a", "->b", "b>c"]);
  });

  it("refuses, with shardkv's reason, a watch from a revision over several shards", async () => {
    // A client of its own: etcd3 stops creating watches on a stream after a refused create (its
    // attach queue waits for a created response that never comes), with etcd as with shardkv.
    const own = new Etcd3({ hosts: cluster.nodes.map((node) => node.clientAddress) });
    try {
      await expect(own.watch().prefix("wp/").startRevision("2").create()).rejects.toThrow(/Cannot watch from revision 2 over 4 shards/);
    } finally {
      own.close();
    }
  });

  it("grants a lease, keeps it alive, answers its time to live, and revokes it with its keys", async () => {
    const lease = client.lease(3);
    const id = await lease.grant();
    let kept = 0;
    lease.on("keepaliveSucceeded", () => kept++);
    // A key of the lease's home shard (where its id hashes), and one of another shard, which attaches
    // to a stub of the lease there (router/lease_home.ts).
    const home = leaseHome(map, BigInt(id)).id;
    const key = keyIn(map, home, "ls/");
    const away = keyIn(map, map.shards.find((shard) => shard.id !== home)!.id, "ls/");
    await lease.put(key).value("leased");
    await lease.put(away).value("leased too");
    expect((await client.get(key).exec()).kvs[0]?.lease).toBe(id);
    expect((await client.get(away).exec()).kvs[0]?.lease).toBe(id);
    await until("two keep-alives went through", () => kept >= 2, 10_000);
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect(ttl.grantedTTL).toBe("3");
    expect(Number(ttl.TTL)).toBeGreaterThan(0);
    expect(Number(ttl.TTL)).toBeLessThanOrEqual(3);
    expect(ttl.keys.map((k) => k.toString()).sort()).toEqual([key, away].sort());
    expect((await client.leaseClient.leaseLeases()).leases.map((l) => l.ID)).toContain(id);
    await lease.revoke();
    expect(await client.get(key).string()).toBeNull();
    expect(await client.get(away).string()).toBeNull();
    expect((await client.leaseClient.leaseTimeToLive({ ID: id })).TTL).toBe("-1");
  });

  it("tells a lease's holder that it expired: keepaliveOnce fails with etcd3's lease-invalid error", async () => {
    const lease = client.lease(2, { autoKeepAlive: false });
    const id = await lease.grant();
    const once = await lease.keepaliveOnce();
    expect(once.ID).toBe(id);
    const lost = new Promise<unknown>((resolve) => lease.on("lost", resolve));
    await until("the lease expired", async () => (await client.leaseClient.leaseTimeToLive({ ID: id })).TTL === "-1", 10_000);
    await expect(lease.keepaliveOnce()).rejects.toBeInstanceOf(EtcdLeaseInvalidError);
    expect(await lost).toBeInstanceOf(EtcdLeaseInvalidError);
  });

  it("answers Maintenance Status and Cluster MemberList", async () => {
    const members = await client.cluster.memberList({});
    expect(members.members.map((m) => m.name)).toEqual(["n1", "n2", "n3"]);
    const status = await client.maintenance.status({});
    expect(status.version).toMatch(/^3\.5\./);
    expect(members.members.map((m) => m.ID)).toContain(status.header.member_id);
    await until("the first shard has a leader", async () => (await client.maintenance.status({})).leader !== "0", 10_000);
    expect(members.members.map((m) => m.ID)).toContain((await client.maintenance.status({})).leader);
  });

  it("answers etcd3's auth calls as an etcd with authentication off: a client given credentials gets etcd's refusal", async () => {
    // etcd 3.4 answers the same, and etcd3 (unlike etcdctl) stops on it: it has no token to send.
    const withCredentials = new Etcd3({ hosts: cluster.nodes[0]!.clientAddress, auth: { username: "root", password: "secret" } });
    try {
      await expect(withCredentials.get("anything").string()).rejects.toThrow(GRPCFailedPreconditionError);
      await expect(withCredentials.get("anything").string()).rejects.toThrow("etcdserver: authentication is not enabled");
    } finally {
      withCredentials.close();
    }
    expect(await client.getUsers()).toEqual([]);
    expect(await client.getRoles()).toEqual([]);
  });

  it("runs etcd3's Lock and Election on hash-tagged names, whose keys share the tag's shard", async () => {
    const other = new Etcd3({ hosts: cluster.nodes.map((node) => node.clientAddress) });
    try {
      // etcd3's Lock does not queue: while one holds it, another's acquire fails at once.
      const inner = await client.lock("{mylock}").do(() => other.lock("{mylock}").do(() => "both held it").catch((error: unknown) => error));
      expect(inner).toBeInstanceOf(EtcdLockFailedError);
      expect(await other.lock("{mylock}").do(() => "next")).toBe("next");

      const election = client.election("{e}", 5);
      const observer = await election.observe();
      const changes: (string | undefined)[] = [];
      observer.on("change", (value) => changes.push(value));
      const first = election.campaign("p1");
      await first.wait();
      const second = other.election("{e}", 5).campaign("p2");
      let secondElected = false;
      const secondWins = second.wait().then(() => (secondElected = true));
      await until("two candidates", async () => (await client.getAll().prefix("election/{e}/").count()) === 2, 10_000);
      expect(secondElected).toBe(false);
      await first.resign();
      await secondWins;
      await until("the observer saw the second leader", () => changes.includes("p2"), 10_000);
      expect(changes).toEqual(["p1", "p2"]);
      await second.resign();
      await observer.cancel();
    } finally {
      other.close();
    }
  });

  // Last: it kills a node.
  it("keeps a key's watch going on another node when the node serving it dies", async () => {
    const watcher = client.watch().key("fo/key").watcher();
    const seen = record(watcher);
    const revisions: number[] = [];
    watcher.on("put", (kv: IKeyValue) => revisions.push(Number(kv.mod_revision)));
    const disconnected: unknown[] = [];
    watcher.on("disconnected", (error: unknown) => disconnected.push(error));
    const created = await new Promise<{ header: { member_id: string } }>((resolve, reject) => {
      watcher.once("connected", resolve);
      setTimeout(() => reject(new Error("the watch was not created within 10 s")), 10_000).unref();
    });
    await client.put("fo/key").value("before");
    await until("the watch saw the first put", () => seen.length === 1, 10_000);

    const members = await client.cluster.memberList({});
    const serving = members.members.find((m) => m.ID === created.header.member_id)!.name;
    cluster.kill(cluster.nodes.find((node) => node.name === serving)!);
    // The shard may have lost its leader with the node: etcd3 retries, and so does the test until one is elected.
    await eventually("a write once the cluster recovered", () => client.put("fo/key").value("after").exec(), 20_000);
    await until("the watch saw the put made after the node died", () => seen.length >= 2, 20_000);
    // etcd3 may have sent "after" twice (a retry of a write whose answer was lost with the node); the
    // watch resumed where it stopped: no event again, none missed, revisions increasing.
    expect(seen[0]).toBe("put fo/key=before");
    expect(new Set(seen.slice(1))).toEqual(new Set(["put fo/key=after"]));
    expect(revisions).toEqual([...new Set(revisions)].sort((x, y) => x - y));
    expect(disconnected.length).toBeGreaterThan(0);
    await watcher.cancel();
  });
});

describe("etcd3's Lock and Election helpers against three nodes with one data shard (untagged names)", () => {
  let cluster: ProcessCluster;
  let client: Etcd3;
  let other: Etcd3;

  beforeAll(async () => {
    ({ cluster, client } = await startCluster(1));
    other = new Etcd3({ hosts: cluster.nodes.map((node) => node.clientAddress) });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    other?.close();
    await cluster?.stop();
  });

  it("holds a lock for one contender at a time: the other fails at once, and gets it once released", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inside = 0;
    const first = client.lock("mylock").do(async () => {
      inside++;
      await held;
      inside--;
      return "first";
    });
    await until("the first contender holds the lock", () => inside === 1, 10_000);
    expect(await client.get("mylock").exists()).toBe(true);
    // etcd3's Lock does not queue: a held lock fails the acquire with EtcdLockFailedError.
    await expect(other.lock("mylock").do(() => "second")).rejects.toBeInstanceOf(EtcdLockFailedError);
    release();
    expect(await first).toBe("first");
    expect(await client.get("mylock").exists()).toBe(false);
    expect(await other.lock("mylock").do(() => "second")).toBe("second");
  });

  it("elects one campaign at a time, and the observer follows each leader and proclamation", async () => {
    const election = client.election("e1", 5);
    const observer = await election.observe();
    const changes: (string | undefined)[] = [];
    observer.on("change", (value) => changes.push(value));
    const first = election.campaign("p1");
    await first.wait();
    expect(await election.leader()).toBe("p1");
    await until("the observer saw the first leader", () => changes.includes("p1"), 10_000);

    let secondElected = false;
    const second: Campaign = other.election("e1", 5).campaign("p2");
    const secondWins = second.wait().then(() => (secondElected = true));
    // The second campaign's key is written and it waits behind the first.
    await until("two candidates", async () => (await client.getAll().prefix("election/e1/").count()) === 2, 10_000);
    expect(secondElected).toBe(false);
    await first.resign();
    await secondWins;
    expect(await election.leader()).toBe("p2");
    await until("the observer saw the second leader", () => changes.includes("p2"), 10_000);
    await second.proclaim("p2 again");
    await until("the observer saw the proclamation", () => changes.includes("p2 again"), 10_000);
    await second.resign();
    await until("the observer saw the election empty", () => changes.at(-1) === undefined && changes.length >= 3, 10_000);
    expect(changes).toEqual(["p1", "p2", "p2 again", undefined]);
    await observer.cancel();
  });

  it("attaches any key to any lease and revokes it with them (every lease is at home in one shard)", async () => {
    const lease: Lease = client.lease(5);
    await lease.put("one/a").value("1");
    await lease.put("one/b").value("2");
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: await lease.grant(), keys: true });
    expect(ttl.keys.map((k) => k.toString()).sort()).toEqual(["one/a", "one/b"]);
    await lease.revoke();
    expect(await client.getAll().prefix("one/").keys()).toEqual([]);
  });
});
