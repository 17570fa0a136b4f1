// etcd's own etcdctl watching a three-node, four-shard cluster: a key, a prefix spread over every
// shard, a key's history from a past revision, previous values, and the ends of a watch (the client
// going away, and the server refusing what it cannot serve). The watch is served by a node other than
// the one that takes the writes: any replica's applied state serves it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../router/test_fixtures.js";
import { EtcdctlProcess, etcdctl, NodeCluster } from "../support/node_cluster.js";

let cluster: NodeCluster;
const processes: EtcdctlProcess[] = [];
/** Writes go to node 1, watches to node 2. */
const WRITER = 0;
const WATCHER = 1;

const write = (...args: string[]) => etcdctl(cluster.endpoints(WRITER), args);

/** Starts `etcdctl watch ...` on the watching node and waits until the node serves its `feeds` shard feeds. */
async function watch(args: readonly string[], feeds = 1): Promise<EtcdctlProcess> {
  const before = cluster.listeners(WATCHER);
  const process = new EtcdctlProcess(cluster.endpoints(WATCHER), ["watch", ...args]);
  processes.push(process);
  await until("the watch is created", () => cluster.listeners(WATCHER) >= before + feeds || process.exitCode !== undefined, 10_000);
  return process;
}

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 4, "watch");
}, 30_000);

afterAll(async () => {
  for (const process of processes) process.kill();
  await cluster.stop();
});

describe("etcdctl watch against shardkv", () => {
  it("prints a key's puts and its delete", async () => {
    const watcher = await watch(["w/key"]);
    await write("put", "w/key", "v1");
    await write("put", "w/other", "not watched");
    await write("del", "w/key");
    await until("etcdctl printed the delete", () => watcher.stdout.includes("DELETE"), 10_000);
    expect(watcher.stdout).toBe("PUT\nw/key\nv1\nDELETE\nw/key\n\n");
  });

  it("prints every key of a prefix spread over the four shards", async () => {
    const keys = ["wp/a", "wp/b", "wp/c", "wp/d", "wp/e", "wp/f", "wp/g", "wp/h"];
    expect(new Set(keys.map((key) => cluster.map().shardFor(Buffer.from(key)).id)).size).toBeGreaterThan(1);
    const watcher = await watch(["--prefix", "wp/"], 4);
    for (const key of keys) await write("put", key, `value of ${key}`);
    await until("etcdctl printed every key", () => keys.every((key) => watcher.stdout.includes(`PUT\n${key}\nvalue of ${key}\n`)), 10_000);
  });

  it("replays a key's history from a past revision with --rev", async () => {
    const { stdout } = await write("put", "hist/k", "first", "--write-out=json");
    const revision = (JSON.parse(stdout) as { header: { revision: number } }).header.revision;
    await write("put", "hist/k", "second");
    const watcher = await watch(["--rev", String(revision), "hist/k"]);
    await until("etcdctl printed the history", () => watcher.stdout.includes("second"), 10_000);
    expect(watcher.stdout).toBe("PUT\nhist/k\nfirst\nPUT\nhist/k\nsecond\n");
  });

  it("prints the previous value with --prev-kv", async () => {
    const watcher = await watch(["--prev-kv", "pk"]);
    await write("put", "pk", "a");
    await write("put", "pk", "b");
    await until("etcdctl printed the update", () => watcher.stdout.includes("\nb\n"), 10_000);
    // A create has no previous value; the update prints the previous key-value, then the new one.
    expect(watcher.stdout).toBe("PUT\npk\na\nPUT\npk\na\npk\nb\n");
  });

  it("lets the node drop the watch once etcdctl is interrupted", async () => {
    const before = cluster.listeners(WATCHER);
    const watcher = await watch(["--prefix", "gone/"], 4);
    expect(cluster.listeners(WATCHER)).toBe(before + 4);
    watcher.interrupt();
    await watcher.exited;
    await until("the node released the watch's feeds", () => cluster.listeners(WATCHER) === before, 10_000);
  });

  it("is canceled by the server, with the reason, when it asks for a revision over several shards", async () => {
    const watcher = await watch(["--prefix", "--rev", "2", "wp/"], 0);
    await watcher.exited;
    expect(watcher.exitCode).not.toBe(0);
    expect(watcher.stderr).toMatch(/Cannot watch from revision 2 over 4 shards/);
  });
});
