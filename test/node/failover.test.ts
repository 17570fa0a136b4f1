// The shard's leader dies with SIGKILL while clients write through every node. Writes resume within
// 3 seconds (a new leader is elected: 1 to 2 s of election timeout at etcd's default 100 ms ticks),
// every write that was acknowledged is there afterwards, and the dead node comes back from its files
// and catches up. Separate processes, so the kill is a real one: nothing of the node runs after it.

import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type kvSpec, loadEtcdApi, type maintenanceSpec, type TypedClient } from "../../proto/index.js";
import type * as t from "../../proto/etcd_types.js";
import { HELPER_THREADS_RESCAN_MS, SCHED_BATCH, SCHED_NORMAL, threadIds, threadPolicy } from "../../cli/helper_threads.js";
import { ask } from "../../router/test_fixtures.js";
import { eventually } from "../support/node_cluster.js";
import { type ProcessCluster, type ProcessNode, startProcessCluster } from "../support/process_cluster.js";

const RESUME_WITHIN_MS = 3_000;
const WRITERS = 4;
const b = (s: string): Buffer => Buffer.from(s);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: ProcessCluster;
const kv = new Map<ProcessNode, TypedClient<typeof kvSpec.methods>>();
const maintenance = new Map<ProcessNode, TypedClient<typeof maintenanceSpec.methods>>();

const put = (node: ProcessNode, key: string, value: string) =>
  ask<t.PutResponse>((cb) => kv.get(node)!.Put({ key: b(key), value: b(value) }, new grpc.Metadata(), { deadline: Date.now() + 2_000 }, cb));
const get = (node: ProcessNode, key: string, serializable = false) =>
  ask<t.RangeResponse>((cb) => kv.get(node)!.Range({ key: b(key), serializable }, new grpc.Metadata(), { deadline: Date.now() + 2_000 }, cb));

beforeAll(async () => {
  // One data shard, so that etcd's Status (which reports the first shard) names its leader.
  cluster = await startProcessCluster(3, { initialShards: 1, replicas: 3 });
  const api = loadEtcdApi();
  for (const node of cluster.nodes) {
    kv.set(node, new api.KV.Client(node.clientAddress, grpc.credentials.createInsecure()));
    maintenance.set(node, new api.Maintenance.Client(node.clientAddress, grpc.credentials.createInsecure()));
  }
}, 60_000);

afterAll(async () => {
  for (const client of [...kv.values(), ...maintenance.values()]) client.close();
  await cluster?.stop();
});

/** The node whose member id is the shard's leader, as the nodes' Status reports agree. */
async function leaderNode(): Promise<ProcessNode> {
  return await eventually("a leader every node agrees on", async () => {
    const statuses = await Promise.all(cluster.nodes.map((node) => ask<t.StatusResponse>((cb) => maintenance.get(node)!.Status({}, new grpc.Metadata(), {}, cb))));
    const leaders = new Set(statuses.map((status) => status.leader));
    if (leaders.size !== 1 || leaders.has("0")) throw new Error(`leaders seen: ${[...leaders].join(", ")}`);
    const index = statuses.findIndex((status) => status.header?.member_id === status.leader);
    if (index < 0) throw new Error("no node reports itself as the leader");
    return cluster.nodes[index]!;
  }, 20_000);
}

describe("a shard leader killed with SIGKILL while clients write", () => {
  it("resumes writes within 3 s, loses no acknowledged write, and the dead node catches up on restart", async () => {
    await eventually("a first write", () => put(cluster.nodes[0]!, "warm", "up"), 20_000);
    const acknowledged = new Map<string, string>();
    /** Start times (ms) of writes that were acknowledged; the first one sent after the kill marks the resumption. */
    const ackedStarts: { startedMs: number; doneMs: number }[] = [];
    let killedAtMs = Number.POSITIVE_INFINITY;
    let writing = true;
    const writer = async (w: number): Promise<void> => {
      for (let seq = 0; writing; seq++) {
        const key = `w/${w}/${seq}`;
        const value = `v${seq}`;
        // Round-robin over the nodes alive now; a failed write (maybe applied, maybe not) is retried
        // under the same key and value, which is harmless either way.
        for (let attempt = 0; writing; attempt++) {
          const alive = cluster.nodes.filter((node) => node.process !== undefined);
          const node = alive[(seq + attempt) % alive.length]!;
          const startedMs = Date.now();
          try {
            await put(node, key, value);
            acknowledged.set(key, value);
            ackedStarts.push({ startedMs, doneMs: Date.now() });
            break;
          } catch {
            await sleep(20);
          }
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await sleep(1_000);
    // Asked right before the kill: leadership may have moved meanwhile (the leader balance hands it
    // to the shard's preferred replica), and killing a follower would prove nothing.
    const victim = await leaderNode();
    const survivors = cluster.nodes.filter((node) => node !== victim);
    const beforeKill = acknowledged.size;
    killedAtMs = Date.now();
    cluster.kill(victim);
    await sleep(RESUME_WITHIN_MS + 2_000);
    writing = false;
    await Promise.all(writers);

    expect(beforeKill).toBeGreaterThan(0);
    const resumed = ackedStarts.filter((ack) => ack.startedMs > killedAtMs).sort((a, b) => a.doneMs - b.doneMs)[0];
    expect(resumed, "no write sent after the kill was acknowledged").toBeDefined();
    // The figure the issue asks about, in the test's output: how long the shard took writes from no one.
    console.info(`writes resumed ${resumed!.doneMs - killedAtMs} ms after the leader was killed; ${acknowledged.size} writes acknowledged`);
    expect(resumed!.doneMs - killedAtMs).toBeLessThan(RESUME_WITHIN_MS);

    // Every acknowledged write, read linearizably from a survivor.
    for (const [key, value] of acknowledged) {
      const answer = await get(survivors[0]!, key);
      expect(answer.kvs[0]?.value.toString(), key).toBe(value);
    }

    await cluster.start(victim);
    const [lastKey, lastValue] = [...acknowledged].at(-1)!;
    await eventually("the restarted node serves the last write from its own replica", async () => {
      const answer = await get(victim, lastKey, true);
      if (answer.kvs[0]?.value.toString() !== lastValue) throw new Error("not caught up yet");
    }, 20_000);
  }, 90_000);

  it("runs every node's helper threads on SCHED_BATCH and its event loop on SCHED_NORMAL, the restarted one too", async () => {
    for (const node of cluster.nodes) {
      const pid = node.process!.pid!;
      expect(threadPolicy(pid, pid), node.name).toBe(SCHED_NORMAL);
      expect(node.log).toMatch(/helper threads: \d+ on SCHED_BATCH/);
      // A thread the node started since its last scan (LevelDB's compaction thread starts at the
      // first compaction) is demoted at the next one, HELPER_THREADS_RESCAN_MS later at most.
      await eventually(`${node.name}'s helper threads are all on SCHED_BATCH`, async () => {
        const helpers = threadIds(pid).filter((tid) => tid !== pid);
        expect(helpers.length, node.name).toBeGreaterThanOrEqual(5);
        for (const tid of helpers) expect({ node: node.name, tid, policy: threadPolicy(pid, tid) }).toEqual({ node: node.name, tid, policy: SCHED_BATCH });
      }, HELPER_THREADS_RESCAN_MS + 5_000);
      expect(threadPolicy(pid, pid), node.name).toBe(SCHED_NORMAL);
    }
  }, 3 * (HELPER_THREADS_RESCAN_MS + 5_000) + 10_000);
});
