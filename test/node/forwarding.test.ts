// Three nodes, three shards, two replicas each: every node lacks one shard, and follows in most of
// the others. Whatever node a client asks, it gets the same answers: an operation on a shard held
// elsewhere is forwarded to a node that holds it, one that only the leader can answer (keep-alives,
// time-to-live) goes to the leader, and a refusal reads exactly as it would from the node that made it.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type kvSpec, loadEtcdApi, type maintenanceSpec, type TypedClient } from "../../proto/index.js";
import type * as t from "../../proto/etcd_types.js";
import { keyHash } from "../../router/key_hash.js";
import { ask, until } from "../../router/test_fixtures.js";
import { ETCD_ERRORS } from "../../shard/mvcc/index.js";
import { EtcdctlProcess, eventually, NodeCluster } from "../support/node_cluster.js";

const run = promisify(execFile);
const b = (s: string): Buffer => Buffer.from(s);
const KEYS = Array.from({ length: 30 }, (_, i) => `fwd/${String(i).padStart(2, "0")}`);

let cluster: NodeCluster;
const kv: TypedClient<typeof kvSpec.methods>[] = [];
const maintenance: TypedClient<typeof maintenanceSpec.methods>[] = [];

const put = (node: number, key: string, value: string, lease = "0") =>
  ask<t.PutResponse>((cb) => kv[node]!.Put({ key: b(key), value: b(value), lease }, new grpc.Metadata(), {}, cb));
const range = (node: number, req: { key: Buffer; range_end?: Buffer; revision?: string; serializable?: boolean; keys_only?: boolean; count_only?: boolean }) => ask<t.RangeResponse>((cb) => kv[node]!.Range(req, new grpc.Metadata(), {}, cb));
const address = (node: number): string => cluster.nodes[node]!.clientAddress;
const etcdctl = (node: number, ...args: string[]) => run("etcdctl", [`--endpoints=${address(node)}`, ...args], { env: { ...process.env, ETCDCTL_API: "3" } });

/** A node that holds no replica of `key`'s shard. */
function nodeWithout(key: string): number {
  const map = cluster.nodes[0]!.config.shards;
  const hash = keyHash(b(key));
  const shard = map.find((s) => hash >= s.start && hash < s.end)!;
  return cluster.nodes.findIndex((node) => !shard.replicas.includes(node!.member.id));
}

beforeAll(async () => {
  cluster = await NodeCluster.start(3, 3, "forwarding", 2);
  const api = loadEtcdApi();
  for (const node of cluster.nodes) {
    kv.push(new api.KV.Client(node!.clientAddress, grpc.credentials.createInsecure()));
    maintenance.push(new api.Maintenance.Client(node!.clientAddress, grpc.credentials.createInsecure()));
  }
}, 30_000);

afterAll(async () => {
  for (const client of [...kv, ...maintenance]) client.close();
  await cluster?.stop();
});

describe("forwarding between nodes", () => {
  it("holds no replica of some shard on each node, so forwarding is what is tested", () => {
    for (const node of cluster.nodes) expect(cluster.nodes[0]!.config.shards.some((s) => !s.replicas.includes(node!.member.id))).toBe(true);
    expect(new Set(KEYS.map(nodeWithout)).size).toBe(3);
  });

  it("takes a write for any shard on any node, and every node reads it back at both consistencies", async () => {
    for (const [i, key] of KEYS.entries()) await put(i % 3, key, `v${i}`);
    for (const [i, key] of KEYS.entries()) {
      for (let node = 0; node < 3; node++) {
        const linearizable = await range(node, { key: b(key) });
        expect(linearizable.kvs.map((x) => x.value.toString())).toEqual([`v${i}`]);
      }
      // A serializable read from a node without the shard is served by a replica that may lag: it
      // sees the write at last.
      const far = nodeWithout(key);
      await eventually(`a serializable read of ${key} on node ${far + 1}`, async () => {
        const seen = await range(far, { key: b(key), serializable: true });
        if (seen.kvs[0]?.value.toString() !== `v${i}`) throw new Error("not yet");
      });
    }
  });

  it("merges a prefix range over every shard on a node that lacks one of them", async () => {
    for (let node = 0; node < 3; node++) {
      const all = await range(node, { key: b("fwd/"), range_end: b("fwd0"), keys_only: true });
      expect(all.kvs.map((x) => x.key.toString())).toEqual(KEYS);
      const counted = await range(node, { key: b("fwd/"), range_end: b("fwd0"), count_only: true });
      expect(counted.count).toBe(String(KEYS.length));
    }
  });

  it("returns a forwarded refusal with the status and etcd string of the node that refused", async () => {
    const key = KEYS[0]!;
    const far = nodeWithout(key);
    const error = await range(far, { key: b(key), revision: "1000000000" }).catch((e: unknown) => e as grpc.ServiceError);
    expect(error).toMatchObject({ code: grpc.status.OUT_OF_RANGE, details: ETCD_ERRORS.futureRevision });
    const missingLease = await put(far, key, "x", "123456789").catch((e: unknown) => e as grpc.ServiceError);
    expect(missingLease).toMatchObject({ code: grpc.status.NOT_FOUND, details: ETCD_ERRORS.leaseNotFound });
  });

  it("answers lease keep-alive and time-to-live on every node, from the home shard's leader", async () => {
    const { stdout: granted } = await etcdctl(0, "lease", "grant", "60");
    const id = /lease ([0-9a-f]+) granted/.exec(granted)?.[1];
    expect(id).toBeDefined();
    for (let node = 0; node < 3; node++) {
      const { stdout: kept } = await etcdctl(node, "lease", "keep-alive", "--once", id!);
      expect(kept).toMatch(new RegExp(`lease ${id} keepalived with TTL\\(60\\)`));
      const { stdout: ttl } = await etcdctl(node, "lease", "timetolive", id!);
      expect(ttl).toMatch(new RegExp(`lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\)`));
    }
    await etcdctl(2, "lease", "revoke", id!);
    for (let node = 0; node < 3; node++) {
      const { stdout: gone } = await etcdctl(node, "lease", "timetolive", id!);
      expect(gone).toMatch(/already expired/);
    }
  });

  it("watches, from a node without a replica of the key's shard, live writes and a past revision", async () => {
    const key = "fwd/watched";
    const far = nodeWithout(key);
    const first = await put((far + 1) % 3, key, "one");
    const replay = new EtcdctlProcess(`--endpoints=${address(far)}`, ["watch", `--rev=${first.header?.revision}`, key]);
    const live = new EtcdctlProcess(`--endpoints=${address(far)}`, ["watch", key]);
    try {
      await until("the replay shows the past put", () => replay.stdout.includes("one"), 10_000);
      // etcdctl prints nothing on creation: write until the live watch reports one.
      await eventually("the live watch sees a write", async () => {
        await put((far + 2) % 3, key, "two");
        if (!live.stdout.includes("two")) throw new Error("not yet");
      });
      await until("the replay follows on", () => replay.stdout.includes("two"), 10_000);
      expect(replay.stdout.split("\n").filter((line) => line !== "").slice(0, 3)).toEqual(["PUT", key, "one"]);
    } finally {
      replay.kill();
      live.kill();
    }
  });

  it("gives the same store hash on every node once the replicas caught up", async () => {
    await eventually("equal hashes on the three nodes", async () => {
      const hashes = await Promise.all([0, 1, 2].map((node) => ask<t.HashResponse>((cb) => maintenance[node]!.Hash({}, new grpc.Metadata(), {}, cb))));
      if (new Set(hashes.map((h) => h.hash)).size !== 1) throw new Error(`hashes differ: ${hashes.map((h) => h.hash).join(", ")}`);
    });
  });
});
