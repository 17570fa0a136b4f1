// Three real nodes in this process, on loopback with their own data dirs: every node takes any
// request (writes and linearizable reads on a follower go through its replica), the cluster survives
// a node's restart with its data, and etcd's own command line works against it unchanged.

import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type kvSpec, loadEtcdApi, type TypedClient } from "../../proto/index.js";
import type * as t from "../../proto/etcd_types.js";
import { ShardkvNode, type NodeOptions } from "../../router/node.js";
import { ask, healthClient, until, watchHealth } from "../../router/test_fixtures.js";
import { diskDir } from "../support/disk_dir.js";
import { eventually, freePort } from "../support/node_cluster.js";

const run = promisify(execFile);
const b = (s: string): Buffer => Buffer.from(s);

let dir: string;
const options: NodeOptions[] = [];
const nodes: (ShardkvNode | undefined)[] = [];
const clients: TypedClient<typeof kvSpec.methods>[] = [];

const put = (node: number, key: string, value: string) => ask<t.PutResponse>((cb) => clients[node]!.Put({ key: b(key), value: b(value) }, new grpc.Metadata(), {}, cb));
const get = (node: number, key: string, serializable = false) =>
  ask<t.RangeResponse>((cb) => clients[node]!.Range({ key: b(key), serializable }, new grpc.Metadata(), {}, cb));

beforeAll(async () => {
  dir = diskDir("shardkv-cluster-");
  const peerPorts = [await freePort(), await freePort(), await freePort()];
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const initialCluster = peerPorts.map((port, i) => `n${i + 1}=127.0.0.1:${port}`).join(",");
  for (let i = 0; i < 3; i++) {
    options.push({
      name: `n${i + 1}`,
      dataDir: join(dir, `n${i + 1}`),
      listenClient: `127.0.0.1:${clientPorts[i]}`,
      listenPeer: `127.0.0.1:${peerPorts[i]}`,
      initialCluster,
      initialShards: 4,
      replicas: 3,
      tickMs: 20,
    });
  }
  nodes.push(...(await Promise.all(options.map((o) => ShardkvNode.start(o)))));
  const api = loadEtcdApi();
  for (const node of nodes) clients.push(new api.KV.Client(node!.clientAddress, grpc.credentials.createInsecure()));
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(nodes.map((node) => node?.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe("a three-node cluster", () => {
  it("takes a write on any node and answers a linearizable read of it on any other", async () => {
    await eventually("a write through node 1", () => put(0, "greeting", "hello"));
    const seen = await get(2, "greeting");
    expect(seen.kvs.map((kv) => kv.value.toString())).toEqual(["hello"]);
    await put(1, "greeting", "hello again");
    expect((await get(0, "greeting")).kvs[0]?.value.toString()).toBe("hello again");
    expect((await get(2, "greeting")).kvs[0]?.version).toBe("2");
  });

  it("keeps a restarted node's data and lets it catch up on what it missed", async () => {
    // A load balancer watching node 3's gRPC health learns that it stops. Its stream ends cleanly,
    // before the stop's grace runs out and cuts what is still open (the stream would then fail).
    const health = healthClient(nodes[2]!.clientAddress);
    const watch = watchHealth(health);
    await until("node 3 reports SERVING", () => watch.seen.length === 1);
    await nodes[2]!.stop();
    await until("node 3's health watch ends", () => watch.outcome !== "open", 10_000);
    health.close();
    expect(watch.outcome).toBe("ended");
    expect(watch.seen).toEqual(["SERVING", "NOT_SERVING"]);
    nodes[2] = undefined;
    // If node 3 led the key's shard, node 1 may still forward to it until a new leader is elected:
    // such a write fails (UNAVAILABLE, outcome unknown) and a client retries it, as here.
    await eventually("a write while node 3 is down", () => put(0, "while-away", "written"), 20_000);
    nodes[2] = await ShardkvNode.start(options[2]!);
    const seen = await eventually("the restarted node's linearizable read", async () => {
      const answer = await get(2, "while-away");
      if (answer.kvs.length === 0) throw new Error("not there yet");
      return answer;
    });
    expect(seen.kvs[0]?.value.toString()).toBe("written");
    expect((await get(2, "greeting")).kvs[0]?.value.toString()).toBe("hello again");
  });

  it("works with etcd's own etcdctl, unchanged", async () => {
    const endpoints = `--endpoints=${nodes.map((n) => n!.clientAddress).join(",")}`;
    const env = { ...process.env, ETCDCTL_API: "3" };
    await run("etcdctl", [endpoints, "put", "tool/etcdctl", "works"], { env });
    const { stdout } = await run("etcdctl", [endpoints, "get", "--prefix", "tool/"], { env });
    expect(stdout.trim().split("\n")).toEqual(["tool/etcdctl", "works"]);
    // Every key of the cluster, gathered from its four shards: etcd's JSON output with its count.
    const { stdout: json } = await run("etcdctl", [endpoints, "get", "--prefix", "", "--keys-only", "--write-out=json"], { env });
    const all = JSON.parse(json) as { count: number; kvs: { key: string }[] };
    expect(all.count).toBe(3);
    expect(all.kvs.map((kv) => Buffer.from(kv.key, "base64").toString())).toEqual(["greeting", "tool/etcdctl", "while-away"]);
  });

  it("answers etcdctl's member list, endpoint status, and lease grant, list and revoke", async () => {
    const endpoint = `--endpoints=${nodes[0]!.clientAddress}`;
    const env = { ...process.env, ETCDCTL_API: "3" };
    const { stdout: members } = await run("etcdctl", [endpoint, "member", "list"], { env });
    expect(members.trim().split("\n").map((line) => line.split(", ")[2])).toEqual(["n1", "n2", "n3"]);
    const { stdout: status } = await run("etcdctl", [endpoint, "endpoint", "status", "--write-out=json"], { env });
    const [first] = JSON.parse(status) as { Status: { version: string; leader: string } }[];
    expect(first?.Status.version).toMatch(/^3\.5\.0/);
    const { stdout: granted } = await run("etcdctl", [endpoint, "lease", "grant", "60"], { env });
    const id = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(granted)?.[1];
    expect(id).toBeDefined();
    const { stdout: listed } = await run("etcdctl", [endpoint, "lease", "list"], { env });
    expect(listed).toContain(id!);
    const { stdout: revoked } = await run("etcdctl", [endpoint, "lease", "revoke", id!], { env });
    expect(revoked).toMatch(new RegExp(`lease ${id} revoked`));
    // Keep-alives and time-to-live need the home shard's leader until requests are forwarded.
  });
});
