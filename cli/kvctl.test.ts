// kvctl end to end: the real command (run from source as a child process) against three real nodes
// in this process, holding four data shards. Every command, the three output formats, the exit codes
// scripts rely on, failover past a dead endpoint, and the streaming commands stopped with Ctrl-C.
// Independent invocations run side by side: each one pays Node's and tsx's start-up.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HINT_METADATA_KEY } from "../router/errors.js";
import { HINT_TRAILER } from "./kvctl/errors.js";
import { freePort, NodeCluster } from "../test/support/node_cluster.js";
import { KvctlProcess, runKvctl, type RunOptions } from "../test/support/kvctl_process.js";

let cluster: NodeCluster;
let endpoints: string;

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 4, "kvctl");
  endpoints = cluster.nodes.map((node) => node.clientAddress).join(",");
});

afterAll(async () => {
  await cluster?.stop();
});

const kvctl = (args: readonly string[], options: RunOptions = {}) => runKvctl(args, { endpoints, ...options });
const json = (text: string): unknown => JSON.parse(text);

describe("kvctl", () => {
  test("a put is read back in each output format, and a missing key exits 1", async () => {
    expect(await kvctl(["put", "greeting", "hello"])).toMatchObject({ code: 0, stdout: "OK\n" });
    const [simple, table, asJson, missing] = await Promise.all([
      kvctl(["get", "greeting"]),
      kvctl(["get", "greeting", "-o", "table"]),
      kvctl(["get", "greeting", "--output", "json"]),
      kvctl(["get", "no-such-key"]),
    ]);
    expect(simple).toMatchObject({ code: 0, stdout: "greeting\nhello\n" });
    expect(table.stdout).toMatch(/^KEY\s+VALUE\s+VERSION\s+CREATE_REV\s+MOD_REV/);
    expect(table.stdout).toMatch(/greeting\s+hello\s+1\s/);
    expect(json(asJson.stdout)).toMatchObject({ kvs: [{ key: "greeting", value: "hello", version: 1 }], count: 1 });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Key "no-such-key" not found');
  });

  test("bad usage exits 2 before sending anything, and no endpoint at all exits 3", async () => {
    const dead = `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`;
    const [unknown, missingArg, badTtl, badConsistency, down] = await Promise.all([
      kvctl(["frobnicate"]),
      kvctl(["get"]),
      kvctl(["put", "k", "v", "--ttl", "soon"]),
      kvctl(["get", "k", "--consistency", "eventual"]),
      kvctl(["get", "greeting"], { endpoints: dead }),
    ]);
    for (const result of [unknown, missingArg, badTtl, badConsistency]) expect(result.code).toBe(2);
    expect(badTtl.stderr).toContain('Invalid --ttl "soon"');
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("no endpoint answered");
    expect(down.stderr).toMatch(/hint: check that the nodes are running/);
    // A flag given twice keeps its last value, as etcdctl's do, rather than failing as an array.
    const twice = await kvctl(["put", "twice", "v", "--ttl", "soon", "--ttl", "30s"]);
    expect(twice.code).toBe(0);
  });

  test("reads and writes fail over past a first endpoint that is down", async () => {
    const withDeadFirst = `127.0.0.1:${await freePort()},${endpoints}`;
    expect(await kvctl(["put", "failover", "yes"], { endpoints: withDeadFirst })).toMatchObject({ code: 0 });
    expect(await kvctl(["get", "failover"], { endpoints: withDeadFirst })).toMatchObject({ code: 0, stdout: "failover\nyes\n" });
  });

  test("get by prefix with a limit, keys only, serializable and bounded-staleness reads", async () => {
    await Promise.all(["a", "b", "c"].map((k) => kvctl(["put", `fruit/${k}`, k])));
    const [all, limited, keysOnly, serializable, stale, staleRange] = await Promise.all([
      kvctl(["get", "fruit/", "--prefix", "-o", "json"]),
      kvctl(["get", "fruit/", "--prefix", "--limit", "2", "-o", "json"]),
      kvctl(["get", "fruit/", "--prefix", "--keys-only"]),
      kvctl(["get", "fruit/a", "--consistency", "serializable"]),
      kvctl(["get", "fruit/b", "--consistency", "stale=2000", "-o", "json"]),
      kvctl(["get", "fruit/", "--prefix", "--consistency", "stale=100"]),
    ]);
    expect((json(all.stdout) as { kvs: { key: string }[] }).kvs.map((kv) => kv.key)).toEqual(["fruit/a", "fruit/b", "fruit/c"]);
    expect(json(limited.stdout)).toMatchObject({ count: 2, more: true });
    expect(keysOnly.stdout).toBe("fruit/a\nfruit/b\nfruit/c\n");
    expect(serializable.stdout).toBe("fruit/a\na\n");
    expect(json(stale.stdout)).toMatchObject({ kvs: [{ key: "fruit/b", value: "b" }] });
    expect(staleRange.code).toBe(2);
  });

  test("put with a TTL and a version condition, incr, and del by prefix", async () => {
    const created = await kvctl(["put", "cas", "v1", "--if-version", "0", "--ttl", "1m", "-o", "json"]);
    expect(json(created.stdout)).toMatchObject({ key: "cas", kv: { version: 1 } });
    const lost = await kvctl(["put", "cas", "v2", "--if-version", "5"]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain("compare failed: the key is at version 1");
    expect(await kvctl(["put", "cas", "v2", "--if-version", "1"])).toMatchObject({ code: 0 });
    expect((await kvctl(["incr", "counter", "--by", "5"])).stdout).toBe("5\n");
    expect((await kvctl(["incr", "counter", "--by", "-2"])).stdout).toBe("3\n");
    const notANumber = await kvctl(["incr", "cas"]);
    expect(notANumber.code).toBe(4);
    // The server's hint travels in its trailer; kvctl prints it.
    expect(HINT_TRAILER).toBe(HINT_METADATA_KEY);
    expect(notANumber.stderr).toMatch(/\nhint: put an integer value/);
    expect(await kvctl(["del", "fruit/", "--prefix"])).toMatchObject({ code: 0, stdout: "3\n" });
    expect(await kvctl(["del", "fruit/a"])).toMatchObject({ code: 1, stdout: "0\n" });
  });

  test("binary values are printed escaped, and as base64 in JSON", async () => {
    expect(await kvctl(["put", "binary"], { input: Buffer.from([0x68, 0x69, 0x0a, 0x00, 0xff, 0x5c]) })).toMatchObject({ code: 0 });
    const [simple, asJson] = await Promise.all([kvctl(["get", "binary"]), kvctl(["get", "binary", "-o", "json"])]);
    expect(simple.stdout).toBe("binary\nhi\\n\\x00\\xff\\\\\n");
    expect(json(asJson.stdout)).toMatchObject({ kvs: [{ key: "binary", value_base64: Buffer.from([0x68, 0x69, 0x0a, 0x00, 0xff, 0x5c]).toString("base64") }] });
  });

  test("txn from flags and from stdin; a failed compare exits 1", async () => {
    const create = ["txn", "--compare", 'version("{acct}/a") = "0"', "--then", "put {acct}/a 10", "--else", "get {acct}/a"];
    expect(await kvctl(create)).toMatchObject({ code: 0, stdout: "SUCCESS\n\nOK\n" });
    expect(await kvctl(create)).toMatchObject({ code: 1, stdout: "FAILURE\n\n{acct}/a\n10\n" });
    const script = 'value("{acct}/a") = "10"\n\nput {acct}/a 20\nget {acct}/a\n\nget {acct}/a\n';
    const fromStdin = await kvctl(["txn", "-o", "json"], { input: script });
    expect(fromStdin.code).toBe(0);
    expect(json(fromStdin.stdout)).toMatchObject({ succeeded: true, responses: [{ op: "put" }, { op: "get", kvs: [{ value: "20" }] }] });
    const acrossShards = await kvctl(["txn", "--then", "put a 1", "put b 2", "put c 3", "put d 4", "put e 5"]);
    expect(acrossShards.code).toBe(4);
    expect(acrossShards.stderr).toContain("a txn must stay in one shard");
    expect((await kvctl(["txn", "--compare", 'value("k") ~ "v"'])).code).toBe(2);
  });

  test("lease grant, ttl with keys, list, keep-alive once, revoke; a gone lease exits 1", async () => {
    const granted = await kvctl(["lease", "grant", "30s"]);
    const id = granted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]+$/);
    expect(await kvctl(["put", "leased", "v", "--lease", id])).toMatchObject({ code: 0 });
    const [ttl, list, once] = await Promise.all([
      kvctl(["lease", "ttl", id, "--keys", "-o", "json"]),
      kvctl(["lease", "list"]),
      kvctl(["lease", "keep-alive", id, "--once"]),
    ]);
    expect(json(ttl.stdout)).toMatchObject({ id, granted_ttl_seconds: 30, keys: ["leased"] });
    expect(list.stdout.split("\n")).toContain(id);
    expect(once).toMatchObject({ code: 0, stdout: `lease ${id} keepalived with TTL(30)\n` });
    expect(await kvctl(["lease", "revoke", id])).toMatchObject({ code: 0 });
    const [gone, key] = await Promise.all([kvctl(["lease", "ttl", id]), kvctl(["get", "leased"])]);
    expect(gone.code).toBe(1);
    expect(key.code).toBe(1);
    expect((await kvctl(["lease", "revoke", "zz"])).code).toBe(2);
  });

  test("watch prints each change until Ctrl-C, then exits 0", async () => {
    const watch = new KvctlProcess(["watch", "jobs/", "--prefix"], { endpoints });
    await watch.waitFor(/watching "jobs\/"/, "stderr");
    await kvctl(["put", "jobs/1", "queued"]);
    await kvctl(["del", "jobs/1"]);
    await watch.waitFor(/DELETE\njobs\/1\n/);
    expect(watch.stdout).toBe("PUT\njobs/1\nqueued\nDELETE\njobs/1\n");
    watch.interrupt();
    expect((await watch.exited).code).toBe(0);
  });

  test("lock runs a command with the key and fencing token, and a waiter gets the lock once the holder is interrupted", async () => {
    const run = await kvctl(["lock", "deploy", "--", "sh", "-c", 'echo "$KVCTL_LOCK_KEY $KVCTL_FENCING_TOKEN"; exit 7']);
    expect(run.code).toBe(7);
    const [key, token] = run.stdout.trim().split(" ");
    expect(key).toMatch(/^\{deploy\}\/[0-9a-f]+$/);
    expect(Number(token)).toBeGreaterThan(0);

    const holder = new KvctlProcess(["lock", "deploy", "-o", "json"], { endpoints });
    await holder.waitFor(/fencing_token/);
    const held = json(holder.stdout) as { fencing_token: number };
    expect(held.fencing_token).toBeGreaterThan(Number(token));
    const waiter = new KvctlProcess(["lock", "deploy", "--", "sh", "-c", 'echo "got $KVCTL_FENCING_TOKEN"'], { endpoints });
    await new Promise((r) => setTimeout(r, 1000));
    expect(waiter.stdout).toBe("");
    holder.interrupt();
    expect((await holder.exited).code).toBe(0);
    const waited = await waiter.exited;
    expect(waited.code).toBe(0);
    expect(Number(waited.stdout.replace("got ", ""))).toBeGreaterThan(held.fencing_token);
    // Both sessions' leases were revoked on the way out.
    expect((await kvctl(["get", "{deploy}/", "--prefix"])).code).toBe(1);
  });

  test("elect: the first candidate leads, an observer sees it, and Ctrl-C hands leadership to the next", async () => {
    const observer = new KvctlProcess(["elect", "sched"], { endpoints });
    await observer.waitFor(/observing/, "stderr");
    const first = new KvctlProcess(["elect", "sched", "--proposal", "node-a"], { endpoints });
    await first.waitFor(/node-a\n/);
    const second = new KvctlProcess(["elect", "sched", "--proposal", "node-b"], { endpoints });
    await observer.waitFor(/node-a\n/);
    await new Promise((r) => setTimeout(r, 500));
    expect(second.stdout).toBe("");
    first.interrupt();
    expect((await first.exited).code).toBe(0);
    await second.waitFor(/\{sched\}\/[0-9a-f]+\nnode-b\n/);
    await observer.waitFor(/node-b\n/);
    second.interrupt();
    observer.interrupt();
    expect((await second.exited).code).toBe(0);
    expect((await observer.exited).code).toBe(0);
  });

  test("member list, shard list, endpoint status and health", async () => {
    const [members, shards, status, health, unhealthy] = await Promise.all([
      kvctl(["member", "list", "-o", "json"]),
      kvctl(["shard", "list", "-o", "json"]),
      kvctl(["endpoint", "status", "-o", "table"]),
      kvctl(["endpoint", "health"]),
      kvctl(["endpoint", "health"], { endpoints: `${cluster.nodes[0]!.clientAddress},127.0.0.1:${await freePort()}` }),
    ]);
    const memberList = (json(members.stdout) as { members: { name: string; clients: string }[] }).members;
    expect(memberList.map((m) => m.name)).toEqual(["n1", "n2", "n3"]);
    const shardMap = json(shards.stdout) as { shards: { id: number; hash_start: number; hash_end: number; replicas: number[]; leader: number }[] };
    expect(shardMap.shards).toHaveLength(4);
    expect(shardMap.shards[0]).toMatchObject({ hash_start: 0, replicas: [1, 2, 3] });
    expect(shardMap.shards[3]!.hash_end).toBe(2 ** 32);
    expect(shardMap.shards.every((s) => s.leader > 0)).toBe(true);
    expect(status.stdout).toMatch(/^ENDPOINT\s+ID\s+VERSION/);
    expect(status.stdout).toContain("3.5.0+shardkv");
    expect(health.code).toBe(0);
    expect(health.stdout.match(/is healthy/g)).toHaveLength(3);
    expect(unhealthy.code).toBe(3);
    expect(unhealthy.stdout).toMatch(/is unhealthy/);
  });

  test("help shows examples and the exit codes, for kvctl and each command; completion prints a script", async () => {
    const [top, get, lock, completion] = await Promise.all([kvctl(["--help"]), kvctl(["get", "--help"]), kvctl(["lock", "--help"]), kvctl(["completion"])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("Examples:");
    expect(top.stdout).toMatch(/Exit codes:[\s\S]*3 {2}unavailable/);
    for (const help of [get, lock]) expect(help.stdout).toContain("Examples:");
    expect(lock.stdout).toContain("KVCTL_FENCING_TOKEN");
    expect(completion.stdout).toContain("kvctl --get-yargs-completions");
  });
});
