import { MemoryLevel } from "memory-level";
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../shard/store.js";
import { MemoryFiles } from "../shard/wal/memory_files.js";
import { Wal } from "../shard/wal/wal.js";
import { StatusHttpServer, nodeMetrics, nodeStatusRoutes } from "./http_server.js";
import { NodeMetrics } from "./metrics.js";
import { UNHEALTHY_SHARDS_NAMED_MAX } from "./node_health.js";
import { until } from "./test_fixtures.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A store on node 1 leading `led` single-voter shards (ids 1..led), and the status server over it. */
async function serveStore(led: number): Promise<{ store: Store; url: string }> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
  const store = await Store.open({ nodeId: 1, db, wal, transport: { send: () => undefined }, tickMs: 5 });
  for (let shard = 1; shard <= led; shard++) await store.createGroup(shard, [1]);
  await until("node 1 leads every shard", () => store.groups().every((shard) => store.replica(shard).isLeader));
  const server = await StatusHttpServer.start("127.0.0.1:0", nodeStatusRoutes(store, nodeMetrics(store, wal)));
  cleanups.push(async () => {
    await server.close();
    await store.close();
    await wal.close();
    await db.close();
  });
  return { store, url: `http://${server.address}` };
}

describe("the status HTTP server", () => {
  it("answers etcd's healthy body when every shard knows its leader", async () => {
    const { url } = await serveStore(3);
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ health: "true" });
  });

  it("answers 503 naming the shards that have no leader", async () => {
    const { store, url } = await serveStore(1);
    // Voters 1 and 2, and no node 2 anywhere: shard 7 can never elect a leader.
    await store.createGroup(7, [1, 2]);
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ health: "false", reason: "1 shard has no leader: 7" });
  });

  it("names at most a bounded number of leaderless shards and counts the rest", async () => {
    const { store, url } = await serveStore(0);
    const shards = UNHEALTHY_SHARDS_NAMED_MAX + 3;
    for (let shard = 1; shard <= shards; shard++) await store.createGroup(shard, [1, 2]);
    const body = (await (await fetch(`${url}/health`)).json()) as { reason: string };
    expect(body.reason).toMatch(new RegExp(`^${shards} shards have no leader: 1, 2, .*, ${UNHEALTHY_SHARDS_NAMED_MAX} and 3 more$`));
  });

  it("serves Prometheus text with the process's metrics and the shards'", async () => {
    const { url } = await serveStore(2);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
    const text = await response.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^shardkv_shards_total 2$/m);
    expect(text).toMatch(/^shardkv_shard_leaders 2$/m);
    expect(text).toMatch(/^shardkv_shards_without_leader 0$/m);
    expect(text).toMatch(/^shardkv_raft_term\{shard="1"\} [1-9]/m);
    expect(text).toMatch(/^shardkv_raft_commit_index\{shard="2"\} [1-9]/m);
    expect(text).toMatch(/^shardkv_raft_applied_index\{shard="2"\} [1-9]/m);
  });

  it("counts proposals, reads by consistency, and the WAL's syncs", async () => {
    const { store, url } = await serveStore(1);
    const scrape = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
    const before = await scrape();
    const proposalsBefore = Number(/^shardkv_proposals_total (\d+)$/m.exec(before)?.[1]);
    const result = await store.propose(1, { op: "put", put: { key: Buffer.from("k"), value: Buffer.from("v") } });
    expect(result.ok).toBe(true);
    await store.readState(1, "linearizable");
    await store.readState(1, "serializable");
    await store.readState(1, "serializable");
    const text = await scrape();
    expect(Number(/^shardkv_proposals_total (\d+)$/m.exec(text)?.[1])).toBe(proposalsBefore + 1);
    expect(text).toMatch(/^shardkv_reads_total\{consistency="linearizable"\} 1$/m);
    expect(text).toMatch(/^shardkv_reads_total\{consistency="serializable"\} 2$/m);
    expect(Number(/^shardkv_wal_fsync_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^shardkv_wal_written_bytes_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    // What the store had counted when scraped: the put's Ready wrote and committed its entry (a tick
    // may add Readies after the scrape, never take any away).
    const scraped = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
    expect(scraped("shardkv_raft_readies_total")).toBeGreaterThan(0);
    expect(scraped("shardkv_raft_readies_total")).toBeLessThanOrEqual(store.counts.readies);
    expect(scraped("shardkv_raft_entries_written_total")).toBeGreaterThan(0);
    expect(scraped("shardkv_raft_entries_committed_total")).toBeGreaterThan(0);
    expect(scraped("shardkv_raft_messages_sent_total")).toBeLessThanOrEqual(store.counts.raftMessages);
  });

  it("serves etcd's own series, for the dashboards and alerts written for etcd", async () => {
    const { store, url } = await serveStore(2);
    const scrape = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
    const put = await store.propose(1, { op: "put", put: { key: Buffer.from("k"), value: Buffer.from("v") } });
    expect(put.ok).toBe(true); // a write the WAL syncs while the metrics observe it
    const text = await scrape();
    expect(text).toMatch(/^etcd_server_has_leader 1$/m);
    // Each of the two single-voter shards elected node 1 once.
    expect(text).toMatch(/^etcd_server_leader_changes_seen_total 2$/m);
    expect(text).toMatch(/^etcd_server_version\{server_version="3\.5\.0\+shardkv"\} 1$/m);
    expect(text).toMatch(/^etcd_server_proposals_pending 0$/m);
    expect(Number(/^etcd_server_proposals_committed_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^etcd_disk_wal_fsync_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^etcd_disk_wal_fsync_duration_seconds_bucket\{le="8\.192"\} \d+$/m);
    // Without their sources (the node gives them), is_leader and the database size are left out.
    expect(text).not.toMatch(/^etcd_server_is_leader/m);
    expect(text).not.toMatch(/^etcd_mvcc_db_total_size_in_bytes/m);
    // A shard that can never elect (voters 1 and 2, no node 2): has_leader goes to 0.
    await store.createGroup(9, [1, 2]);
    expect(await scrape()).toMatch(/^etcd_server_has_leader 0$/m);
  });

  it("answers GET /version in etcd's shape, with the version the gRPC API reports", async () => {
    const { url } = await serveStore(1);
    const response = await fetch(`${url}/version`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ etcdserver: "3.5.0+shardkv", etcdcluster: "3.5.0" });
  });

  it("answers 404 to anything but GET /health, /metrics and /version", async () => {
    const { url } = await serveStore(1);
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/v3/kv/range`, { method: "POST", body: "{}" })).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(404);
    expect((await fetch(`${url}/health`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${url}/metrics?name=x`)).status).toBe(200);
  });

  it("answers 500 when a route fails, and keeps serving", async () => {
    let failing = true;
    const server = await StatusHttpServer.start("127.0.0.1:0", {
      health: () => ({ healthy: true }),
      metrics: () => (failing ? Promise.reject(new Error("the registry broke")) : Promise.resolve({ contentType: "text/plain", text: "ok\n" })),
    });
    cleanups.push(() => server.close());
    const failed = await fetch(`http://${server.address}/metrics`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe("the registry broke\n");
    failing = false;
    expect(await (await fetch(`http://${server.address}/metrics`)).text()).toBe("ok\n");
  });

  it("refuses an address without a port", async () => {
    await expect(StatusHttpServer.start("localhost", { health: () => ({ healthy: true }), metrics: () => Promise.reject(new Error("unused")) })).rejects.toThrow(/give host:port/);
  });
});

describe("node metrics", () => {
  it("give per-shard series to at most shardSeriesMax shards, and totals over all of them", async () => {
    const { store } = await serveStore(3);
    const metrics = new NodeMetrics(store, { defaultMetrics: false, shardSeriesMax: 2 });
    const text = await metrics.text();
    expect(text).toMatch(/^shardkv_shards_total 3$/m);
    expect(text.match(/^shardkv_raft_term\{/gm)?.length).toBe(2);
    expect(text).not.toMatch(/shard="3"/);
  });
});
