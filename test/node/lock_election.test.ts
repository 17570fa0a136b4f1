// etcd's own etcdctl taking locks and running elections on a three-node cluster with one data shard,
// where shardkv behaves exactly like etcd (etcdctl's lock and elect use the client-side recipes of
// etcd's concurrency package: a txn and a range over the name's prefix, and watches, which need the
// prefix in one shard). The server-side Lock and Election services answer over the same nodes.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEtcdApi } from "../../proto/index.js";
import type * as t from "../../proto/index.js";
import { ask, until } from "../../router/test_fixtures.js";
import { diskDir } from "../support/disk_dir.js";
import { EtcdctlProcess, etcdctl, NodeCluster } from "../support/node_cluster.js";

let cluster: NodeCluster;
let scratch: string;
const processes: EtcdctlProcess[] = [];

function start(args: readonly string[]): EtcdctlProcess {
  const process = new EtcdctlProcess(cluster.endpoints(), args);
  processes.push(process);
  return process;
}

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 1, "lock");
  scratch = diskDir("shardkv-lock-scratch-");
}, 30_000);

afterAll(async () => {
  for (const process of processes) process.kill();
  await cluster.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("etcdctl lock and elect against shardkv", () => {
  it("runs a command while holding the lock, with the lock's key in its environment", async () => {
    const { stdout } = await etcdctl(cluster.endpoints(), ["lock", "mylock", "--", "sh", "-c", "echo held $ETCD_LOCK_KEY"]);
    expect(stdout).toMatch(/^held mylock\/[0-9a-f]+\n$/);
    // The lock's key went with the command.
    const { stdout: left } = await etcdctl(cluster.endpoints(), ["get", "--prefix", "mylock/"]);
    expect(left).toBe("");
  });

  it("never lets two lockers hold the lock at once", async () => {
    const log = join(scratch, "holders.log");
    writeFileSync(log, "");
    const critical = `echo "in $$" >> ${log}; sleep 0.2; echo "out $$" >> ${log}`;
    const lockers = [0, 1, 2].map(() => etcdctl(cluster.endpoints(), ["lock", "shared", "--", "sh", "-c", critical]));
    await Promise.all(lockers);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toHaveLength(6);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(" ")[1];
      expect([lines[i], lines[i + 1]]).toEqual([`in ${pid}`, `out ${pid}`]);
    }
  });

  it("elects one candidate at a time, and the observer sees each leader and the next", async () => {
    const observer = start(["elect", "-l", "e1"]);
    const first = start(["elect", "e1", "p1"]);
    await until("the first candidate is elected", () => first.stdout.includes("p1"), 10_000);
    expect(first.stdout).toMatch(/^e1\/[0-9a-f]+\np1\n$/);
    await until("the observer saw the first leader", () => observer.stdout.includes("p1"), 10_000);
    const second = start(["elect", "e1", "p2"]);
    // The second waits behind the first; once the first resigns (Ctrl-C), it leads.
    await until("the second candidate waits", async () => (await etcdctl(cluster.endpoints(), ["get", "--prefix", "e1/", "--keys-only"])).stdout.trim().split("\n").filter(Boolean).length === 2, 10_000);
    expect(second.stdout).toBe("");
    first.interrupt();
    await first.exited;
    await until("the second candidate is elected", () => second.stdout.includes("p2"), 10_000);
    await until("the observer saw the second leader", () => observer.stdout.includes("p2"), 10_000);
    expect(observer.stdout).toMatch(/^e1\/[0-9a-f]+\np1\ne1\/[0-9a-f]+\np2\n$/);
  });

  it("serves the Lock and Election services themselves, keeping their keys under a hash tag", async () => {
    const api = loadEtcdApi();
    const address = cluster.nodes[1]!.clientAddress;
    const lease = new api.Lease.Client(address, grpc.credentials.createInsecure());
    const lock = new api.Lock.Client(address, grpc.credentials.createInsecure());
    const election = new api.Election.Client(address, grpc.credentials.createInsecure());
    try {
      const granted = await ask<t.LeaseGrantResponse>((cb) => lease.LeaseGrant({ TTL: "30" }, new grpc.Metadata(), {}, cb));
      const held = await ask<t.LockResponse>((cb) => lock.Lock({ name: Buffer.from("svc"), lease: granted.ID }, new grpc.Metadata(), {}, cb));
      expect(held.key.toString()).toBe(`{svc}/${BigInt(granted.ID).toString(16)}`);
      await ask<t.UnlockResponse>((cb) => lock.Unlock({ key: held.key }, new grpc.Metadata(), {}, cb));
      const won = await ask<t.CampaignResponse>((cb) => election.Campaign({ name: Buffer.from("svc-e"), lease: granted.ID, value: Buffer.from("me") }, new grpc.Metadata(), {}, cb));
      const leader = await ask<t.LeaderResponse>((cb) => election.Leader({ name: Buffer.from("svc-e") }, new grpc.Metadata(), {}, cb));
      expect(leader.kv?.key).toEqual(won.leader?.key);
      expect(leader.kv?.value.toString()).toBe("me");
    } finally {
      for (const client of [lease, lock, election]) client.close();
    }
  });
});
