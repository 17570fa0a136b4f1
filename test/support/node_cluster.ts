// Real shardkv nodes in this process, on loopback with their own data dirs, and etcd's own etcdctl
// pointed at them: what the node tests of the etcd services (watch, lock, election) share. etcdctl
// runs as a child process, once (`etcdctl`) or long-lived with its output gathered (`spawnEtcdctl`).

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { LEADER_BALANCE_DEFAULTS, type LeaderPlacement, preferredLeader } from "../../router/leader_balance.js";
import { type NodeOptions, ShardkvNode } from "../../router/node.js";
import { ShardMap } from "../../router/shard_map.js";
import { diskDir } from "./disk_dir.js";

const run = promisify(execFile);
const ETCDCTL_ENV = { ...process.env, ETCDCTL_API: "3" };

/** A TCP port of 127.0.0.1 that nothing listened on when asked (the OS may hand it out again later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export class NodeCluster {
  private constructor(
    readonly nodes: ShardkvNode[],
    /** What each node was started with: start it again with these after a stop. */
    readonly options: readonly NodeOptions[],
    private readonly dir: string,
  ) {}

  /**
   * `size` nodes holding `shards` data shards, each with `replicas` replicas (by default every node),
   * their leaders placed by `placement` (router/leader_balance.ts).
   */
  static async start(size: number, shards: number, name: string, replicas = size, placement: LeaderPlacement = "spread"): Promise<NodeCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await NodeCluster.startOnce(size, shards, name, replicas, placement);
      } catch (error) {
        // Tests run in parallel: a port free a moment ago may be another test's by now. New ports then.
        if (attempt >= 3 || !String(error).includes("EADDRINUSE")) throw error;
      }
    }
  }

  private static async startOnce(size: number, shards: number, name: string, replicas: number, placement: LeaderPlacement): Promise<NodeCluster> {
    const dir = diskDir(`shardkv-${name}-`);
    const peerPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const initialCluster = peerPorts.map((port, i) => `n${i + 1}=127.0.0.1:${port}`).join(",");
    const options: NodeOptions[] = [];
    for (const [i, port] of peerPorts.entries()) {
      options.push({
        name: `n${i + 1}`,
        dataDir: join(dir, `n${i + 1}`),
        listenClient: `127.0.0.1:${await freePort()}`,
        listenPeer: `127.0.0.1:${port}`,
        initialCluster,
        initialShards: shards,
        replicas,
        tickMs: 20,
        leaderBalance: { placement, intervalMs: 100, aliveWithinMs: 200, retryAfterMs: 2_000 },
        stubSweep: { intervalMs: 100 },
      });
    }
    const started = await Promise.allSettled(options.map((o) => ShardkvNode.start(o)));
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) {
      await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
      rmSync(dir, { recursive: true, force: true });
      throw failed.reason;
    }
    const nodes = started.map((s) => (s as PromiseFulfilledResult<ShardkvNode>).value);
    const cluster = new NodeCluster(nodes, options, dir);
    // Tests start from a settled cluster: every shard led by its preferred replica, so that no leader
    // transfer (router/leader_balance.ts) fails a test's first writes with "leader changed".
    await cluster.settled();
    return cluster;
  }

  /** Resolves once every shard, the meta group included, is led by the replica its placement prefers. */
  async settled(timeoutMs = 20_000): Promise<void> {
    const { config } = this.nodes[0]!;
    const placement = this.options[0]?.leaderBalance?.placement ?? LEADER_BALANCE_DEFAULTS.placement;
    const preferred = [...config.shards, { id: 0, replicas: config.metaReplicas }].map((s) => ({ id: s.id, node: preferredLeader(placement, s.replicas) }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const off = preferred.filter(({ id, node }) => this.leaderOf(id) === undefined || this.nodes[this.leaderOf(id)!]!.member.id !== node);
      if (off.length === 0) return;
      if (Date.now() > deadline) throw new Error(`shards ${off.map((s) => s.id).join(", ")} are not led by their preferred replicas after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** etcdctl's --endpoints flag: one node, or every node. */
  endpoints(node?: number): string {
    const chosen = node === undefined ? this.nodes : [this.nodes[node]!];
    return `--endpoints=${chosen.map((n) => n.clientAddress).join(",")}`;
  }

  map(): ShardMap {
    const { config } = this.nodes[0]!;
    return new ShardMap(config.shardMapEpoch, config.shards);
  }

  /** Apply listeners on a node, all shards together: one per shard a watch (or a waiting lock) reads. */
  listeners(node: number): number {
    const { store } = this.nodes[node]!;
    return store.groups().reduce((sum, group) => sum + store.applyListeners.count(group), 0);
  }

  /** The node that leads `shard`, once one does. */
  leaderOf(shard: number): number | undefined {
    const index = this.nodes.findIndex((node) => node.store.hasReplica(shard) && node.store.replica(shard).isLeader);
    return index < 0 ? undefined : index;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Retries `attempt` every 50 ms until it resolves, failing with its last error after `timeoutMs`. */
export async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** One etcdctl command to its end; rejects when it exits non-zero (the error carries stdout and stderr). */
export async function etcdctl(endpoints: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return await run("etcdctl", [endpoints, ...args], { env: ETCDCTL_ENV });
}

/** A long-running etcdctl (watch, lock, elect), its output gathered as it comes. */
export class EtcdctlProcess {
  stdout = "";
  stderr = "";
  exitCode: number | null | undefined;
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(endpoints: string, args: readonly string[]) {
    this.child = spawn("etcdctl", [endpoints, ...args], { env: ETCDCTL_ENV, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve((this.exitCode = code))));
  }

  /** SIGINT, as Ctrl-C: etcdctl cancels its watch or releases its lock, then exits. */
  interrupt(): void {
    if (this.exitCode === undefined) this.child.kill("SIGINT");
  }

  kill(): void {
    if (this.exitCode === undefined) this.child.kill("SIGKILL");
  }
}
