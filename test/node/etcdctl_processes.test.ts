// etcd's own etcdctl (Debian's etcd-client, 3.4) against a real three-node cluster of separate
// `shardkv` processes with four shards: every command family the issue names, each sent to a node
// chosen so that most requests cross nodes, and `--cluster` commands that find the endpoints from
// MemberList (the client URLs the members published to the meta group).

import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../router/test_fixtures.js";
import { etcdctl, EtcdctlProcess, eventually } from "../support/node_cluster.js";
import { type ProcessCluster, startProcessCluster } from "../support/process_cluster.js";

let cluster: ProcessCluster;
const longRunning: EtcdctlProcess[] = [];
const at = (node: number): string => `--endpoints=${cluster.nodes[node]!.clientAddress}`;
const all = (): string => `--endpoints=${cluster.nodes.map((node) => node.clientAddress).join(",")}`;
const lines = (stdout: string): string[] => stdout.split("\n").filter((line) => line !== "");

beforeAll(async () => {
  cluster = await startProcessCluster(3, { initialShards: 4, replicas: 3 });
  await eventually("a first write", () => etcdctl(at(0), ["put", "warm", "up"]), 20_000);
}, 60_000);

afterAll(async () => {
  for (const process of longRunning) process.kill();
  await cluster?.stop();
});

describe("etcdctl against three shardkv processes", () => {
  it("puts, gets and deletes keys, prefixes and ranges", async () => {
    for (const [i, key] of ["a/1", "a/2", "a/3", "b/1"].entries()) await etcdctl(at(i % 3), ["put", key, `v-${key}`]);
    expect(lines((await etcdctl(at(1), ["get", "--prefix", "a/"])).stdout)).toEqual(["a/1", "v-a/1", "a/2", "v-a/2", "a/3", "v-a/3"]);
    expect(lines((await etcdctl(at(2), ["get", "a/1", "a/3", "--keys-only"])).stdout)).toEqual(["a/1", "a/2"]);
    expect(lines((await etcdctl(at(0), ["get", "--prefix", "a/", "--limit=1", "--order=DESCEND", "--keys-only"])).stdout)).toEqual(["a/3"]);
    expect((await etcdctl(at(2), ["del", "--prefix", "a/"])).stdout.trim()).toBe("3");
    expect((await etcdctl(at(1), ["get", "--prefix", "", "--keys-only"])).stdout).not.toMatch(/a\//);
  });

  it("runs a txn, taking the branch its compare picks", () => {
    const txn = (node: number, script: string): string =>
      execFileSync("etcdctl", [at(node), "txn"], { input: script, env: { ...process.env, ETCDCTL_API: "3" } }).toString();
    execFileSync("etcdctl", [at(0), "put", "{t}/flag", "on"], { env: { ...process.env, ETCDCTL_API: "3" } });
    expect(lines(txn(1, 'value("{t}/flag") = "on"\n\nput {t}/result yes\n\nput {t}/result no\n\n'))).toEqual(["SUCCESS", "OK"]);
    expect(lines(txn(2, 'value("{t}/flag") = "off"\n\nput {t}/result yes\n\nput {t}/result no\n\n'))).toEqual(["FAILURE", "OK"]);
    expect(execFileSync("etcdctl", [at(0), "get", "{t}/result", "--print-value-only"], { env: { ...process.env, ETCDCTL_API: "3" } }).toString().trim()).toBe("no");
  });

  it("watches a key live and from a past revision", async () => {
    const first = await etcdctl(at(0), ["put", "w/key", "one", "-w", "json"]);
    const revision = Number((JSON.parse(first.stdout) as { header: { revision: number } }).header.revision);
    await etcdctl(at(1), ["put", "w/key", "two"]);
    const replay = new EtcdctlProcess(at(2), ["watch", `--rev=${revision}`, "w/key"]);
    const live = new EtcdctlProcess(at(1), ["watch", "--prefix", "w/"]);
    longRunning.push(replay, live);
    await until("the replay shows both past puts", () => lines(replay.stdout).filter((l) => l === "PUT").length === 2, 10_000);
    expect(lines(replay.stdout)).toEqual(["PUT", "w/key", "one", "PUT", "w/key", "two"]);
    // etcdctl prints nothing when the watch is created: write until the live watch shows a write.
    await eventually("the live watch sees a put", async () => {
      await etcdctl(at(0), ["put", "w/other", "three"]);
      if (!live.stdout.includes("w/other")) throw new Error("not yet");
    });
    await etcdctl(at(0), ["del", "w/other"]);
    await until("the live watch sees the delete", () => live.stdout.includes("DELETE"), 10_000);
    live.interrupt();
    replay.interrupt();
  });

  it("grants, keeps alive, inspects and revokes a lease, whose keys go with it", async () => {
    const id = /lease ([0-9a-f]+) granted with TTL\(30s\)/.exec((await etcdctl(at(0), ["lease", "grant", "30"])).stdout)?.[1];
    expect(id).toBeDefined();
    await etcdctl(at(1), ["put", "leased/x", "1", `--lease=${id}`]);
    await etcdctl(at(2), ["put", "leased/y", "1", `--lease=${id}`]);
    expect((await etcdctl(at(2), ["lease", "keep-alive", "--once", id!])).stdout).toMatch(new RegExp(`lease ${id} keepalived with TTL\\(30\\)`));
    const ttl = (await etcdctl(at(1), ["lease", "timetolive", "--keys", id!])).stdout;
    expect(ttl).toMatch(/remaining\((29|30)s\)/);
    expect(ttl).toContain("leased/x");
    expect(ttl).toContain("leased/y");
    expect((await etcdctl(at(0), ["lease", "list"])).stdout).toContain(id!);
    await etcdctl(at(2), ["lease", "revoke", id!]);
    expect((await etcdctl(at(0), ["get", "--prefix", "leased/"])).stdout).toBe("");
  });

  it("locks and elects with hash-tagged names", async () => {
    const { stdout } = await etcdctl(all(), ["lock", "{job}", "--", "sh", "-c", "echo held $ETCD_LOCK_KEY"]);
    expect(stdout).toMatch(/^held \{job\}\/[0-9a-f]+\n$/);
    const candidate = new EtcdctlProcess(at(1), ["elect", "{e}", "p1"]);
    longRunning.push(candidate);
    await until("the candidate leads", () => candidate.stdout.includes("p1"), 10_000);
    expect(lines((await etcdctl(at(2), ["get", "--prefix", "{e}/", "--print-value-only"])).stdout)).toEqual(["p1"]);
    candidate.interrupt();
    await candidate.exited;
    await eventually("the election key is gone once the leader resigned", async () => {
      if ((await etcdctl(at(0), ["get", "--prefix", "{e}/"])).stdout !== "") throw new Error("still there");
    });
  });

  it("refuses a lock or an election whose name has no hash tag, naming the tagged name to use", async () => {
    const lock = await etcdctl(at(0), ["lock", "plainlock", "--", "true"]).then(() => expect.fail("the lock was taken"), (error: { stderr: string }) => error);
    expect(lock.stderr).toMatch(/FailedPrecondition.*may span 4 shards.*name it '\{plainlock\}'/);
    const elect = await etcdctl(at(1), ["elect", "plainelect", "p1"]).then(() => expect.fail("the campaign won"), (error: { stderr: string }) => error);
    expect(elect.stderr).toMatch(/FailedPrecondition.*sorted by create revision.*name it '\{plainelect\}'/);
  });

  it("answers auth as an etcd with authentication off: a client given a user name still works, users and roles cannot be added", async () => {
    // clientv3 authenticates first when given a user; etcd's "authentication is not enabled" lets it go on without a token.
    expect(lines((await etcdctl(at(1), ["--user", "root:secret", "get", "warm"])).stdout)).toEqual(["warm", "up"]);
    expect((await etcdctl(at(0), ["user", "list"])).stdout).toBe("");
    expect((await etcdctl(at(2), ["role", "list"])).stdout).toBe("");
    expect((await etcdctl(at(0), ["auth", "disable"])).stdout).toMatch(/Authentication Disabled/);
    const add = await etcdctl(at(1), ["user", "add", "bob:pw"]).then(() => expect.fail("user add succeeded"), (error: { stderr: string }) => error);
    expect(add.stderr).toMatch(/Unimplemented desc = shardkv: cannot add a user: shardkv has no authentication/);
    const enable = await etcdctl(at(2), ["auth", "enable"]).then(() => expect.fail("auth enable succeeded"), (error: { stderr: string }) => error);
    expect(enable.stderr).toMatch(/cannot turn authentication on/);
  });

  it("lists the members with their client URLs, and reports every endpoint's status and health", async () => {
    const members = await eventually("every member's client URL in the list", async () => {
      const listed = lines((await etcdctl(at(0), ["member", "list"])).stdout).map((line) => line.split(", "));
      if (listed.some((fields) => fields[4] === "")) throw new Error(`not all published yet: ${JSON.stringify(listed)}`);
      return listed;
    });
    expect(members.map((fields) => [fields[2], fields[4]])).toEqual(cluster.nodes.map((node) => [node.name, node.clientAddress]));
    // --cluster asks MemberList for the endpoints, then every one of them.
    const status = JSON.parse((await etcdctl(at(1), ["endpoint", "status", "--cluster", "-w", "json"])).stdout) as { Endpoint: string; Status: { leader: string } }[];
    expect(status.map((s) => s.Endpoint).sort()).toEqual(cluster.nodes.map((node) => node.clientAddress).sort());
    expect(new Set(status.map((s) => s.Status.leader)).size).toBe(1);
    const health = (await etcdctl(at(2), ["endpoint", "health", "--cluster"])).stderr + (await etcdctl(at(2), ["endpoint", "health", "--cluster"])).stdout;
    expect(health.match(/is healthy/g)).toHaveLength(3);
  });
});
