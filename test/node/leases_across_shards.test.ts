// Leases whose keys live in many shards, on a three-node cluster with four shards: keys attach
// through stubs of the lease in their own shards; an expiry decided by the lease's home deletes the
// keys of every shard; and etcdctl's lock (a client-side recipe on leases and create revisions) is
// safe with a hash-tagged name and refused, loudly, without one.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskDir } from "../support/disk_dir.js";
import { etcdctl, eventually, NodeCluster } from "../support/node_cluster.js";

let cluster: NodeCluster;
let scratch: string;
const KEYS = Array.from({ length: 12 }, (_, i) => `leased/${i}`);

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 4, "lease-stubs");
  scratch = diskDir("shardkv-lease-stubs-");
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function grant(ttlSeconds: number): Promise<string> {
  const { stdout } = await etcdctl(cluster.endpoints(0), ["lease", "grant", String(ttlSeconds)]);
  return /lease ([0-9a-f]+) granted/.exec(stdout)![1]!;
}

async function keysLeft(): Promise<string[]> {
  const { stdout } = await etcdctl(cluster.endpoints(1), ["get", "--prefix", "leased/", "--keys-only"]);
  return stdout.split("\n").filter((line) => line !== "");
}

describe("leases across shards", () => {
  it("spreads the test's keys over every shard, so that stubs are what is tested", () => {
    const map = cluster.map();
    expect(new Set(KEYS.map((key) => map.shardFor(Buffer.from(key)).id)).size).toBe(4);
  });

  it("attaches keys of every shard to one lease, lists them, and deletes them all on revoke", async () => {
    const id = await grant(60);
    for (const [i, key] of KEYS.entries()) await etcdctl(cluster.endpoints(i % 3), ["put", key, "v", `--lease=${id}`]);
    const { stdout } = await etcdctl(cluster.endpoints(2), ["lease", "timetolive", id, "--keys"]);
    for (const key of KEYS) expect(stdout).toContain(key);
    await etcdctl(cluster.endpoints(2), ["lease", "revoke", id]);
    expect(await keysLeft()).toEqual([]);
  });

  it("deletes the keys of every shard when the lease's home lets it expire", async () => {
    const id = await grant(2);
    for (const key of KEYS) await etcdctl(cluster.endpoints(0), ["put", key, "v", `--lease=${id}`]);
    expect(await keysLeft()).toHaveLength(KEYS.length);
    await eventually("every leased key gone after the expiry", async () => {
      const left = await keysLeft();
      if (left.length > 0) throw new Error(`${left.length} keys left`);
    }, 10_000);
    const { stdout } = await etcdctl(cluster.endpoints(1), ["lease", "timetolive", id]);
    expect(stdout).toMatch(/already expired/);
  });

  it("lets etcdctl lock a hash-tagged name safely across nodes, and refuses an untagged one over several shards", async () => {
    const log = join(scratch, "holders.log");
    writeFileSync(log, "");
    const critical = `echo "in $$" >> ${log}; sleep 0.2; echo "out $$" >> ${log}`;
    await Promise.all([0, 1, 2].map((node) => etcdctl(cluster.endpoints(node), ["lock", "{shared}", "--", "sh", "-c", critical])));
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toHaveLength(6);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^in /);
      expect(lines[i + 1]).toBe(lines[i]!.replace("in", "out"));
    }
    const refused = await etcdctl(cluster.endpoints(0), ["lock", "untagged", "--", "true"]).catch((error: { stderr?: string }) => error);
    expect((refused as { stderr?: string }).stderr).toMatch(/FailedPrecondition.*hash tag/);
  }, 30_000);
});
