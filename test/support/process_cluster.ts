// Real shardkv nodes as separate processes (the `shardkv` command run from source with tsx), on
// loopback ports, each with a data dir on disk: what fault tests need that in-process nodes cannot
// give, a node that dies at once with SIGKILL, mid-write, and comes back from its files.

import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadShardkvApi, type shardkv } from "../../proto/index.js";
import { LEADER_BALANCE_DEFAULTS, preferredLeader } from "../../router/leader_balance.js";
import { ask, until } from "../../router/test_fixtures.js";
import { diskDir } from "./disk_dir.js";
import { freePort } from "./node_cluster.js";

const CLI = resolve(import.meta.dirname, "../../cli/shardkv.ts");
const READY_TIMEOUT_MS = 30_000;

export interface ProcessNode {
  readonly name: string;
  readonly clientAddress: string;
  readonly args: readonly string[];
  process: ChildProcess | undefined;
  /** What the node wrote to stderr (its log), for a failing test to show. */
  log: string;
}

export interface ProcessCluster {
  readonly nodes: readonly ProcessNode[];
  /** Where the nodes' data dirs are (removed by stop). */
  readonly dir: string;
  kill(node: ProcessNode): void;
  /** SIGSTOP: the process is frozen, its sockets stay open. */
  pause(node: ProcessNode): void;
  /** SIGCONT after pause. */
  resume(node: ProcessNode): void;
  start(node: ProcessNode): Promise<void>;
  stop(): Promise<void>;
}

type Shape = {
  initialShards: number;
  replicas: number;
  tickMs?: number;
  /** More flags for a node, given its name and the cluster's dir (the fault tests' --test-faults). */
  extraArgs?: (name: string, dir: string) => string[];
};

/** Attempts at a cluster when a port found free was taken by another test before a node bound it. */
const PORT_RACE_ATTEMPTS = 3;

export async function startProcessCluster(size: number, shape: Shape): Promise<ProcessCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(size, shape);
    } catch (error) {
      // Tests run in parallel: a port free a moment ago may be another test's by now. New ports then.
      if (attempt >= PORT_RACE_ATTEMPTS || !String(error).includes("EADDRINUSE")) throw error;
    }
  }
}

async function startOnce(size: number, shape: Shape): Promise<ProcessCluster> {
  const dir = diskDir("shardkv-processes-");
  const peerPorts: number[] = [];
  const clientPorts: number[] = [];
  for (let i = 0; i < size; i++) {
    peerPorts.push(await freePort());
    clientPorts.push(await freePort());
  }
  const initialCluster = peerPorts.map((port, i) => `n${i + 1}=127.0.0.1:${port}`).join(",");
  const nodes: ProcessNode[] = peerPorts.map((port, i) => ({
    name: `n${i + 1}`,
    clientAddress: `127.0.0.1:${clientPorts[i]}`,
    args: [
      `--name=n${i + 1}`,
      `--data-dir=${join(dir, `n${i + 1}`)}`,
      `--listen-client=127.0.0.1:${clientPorts[i]}`,
      `--listen-peer=127.0.0.1:${port}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-shards=${shape.initialShards}`,
      `--replicas=${shape.replicas}`,
      `--tick-ms=${shape.tickMs ?? 100}`,
      ...(shape.extraArgs?.(`n${i + 1}`, dir) ?? []),
    ],
    process: undefined,
    log: "",
  }));
  const cluster: ProcessCluster = {
    nodes,
    dir,
    kill(node) {
      node.process?.kill("SIGKILL");
      node.process = undefined;
    },
    pause(node) {
      node.process?.kill("SIGSTOP");
    },
    resume(node) {
      node.process?.kill("SIGCONT");
    },
    start: (node) => startNode(node),
    async stop() {
      await Promise.all(nodes.map((node) => stopNode(node)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((node) => startNode(node)));
    // Tests start from a settled cluster, as NodeCluster's do: every data shard led by its preferred
    // replica. Otherwise the leader balancer's first transfers may fail a test's early requests with
    // "leader changed"; a client that then retries a multi-shard delete that failed part-way (etcd3
    // retries on UNAVAILABLE) is told only what the retry deleted.
    await settled(nodes);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

const SETTLE_TIMEOUT_MS = 30_000;

/** Resolves once every node's Admin.ShardMap shows each data shard led by its preferred replica (default placement). */
async function settled(nodes: readonly ProcessNode[]): Promise<void> {
  const api = loadShardkvApi();
  const clients = nodes.map((node) => new api.Admin.Client(node.clientAddress, grpc.credentials.createInsecure()));
  let off: string[] = [];
  const shardMapOf = (client: (typeof clients)[number]) => ask<shardkv.ShardMapResponse>((cb) => client.ShardMap({ shard_ids: [] }, new grpc.Metadata(), {}, cb)).catch(() => undefined);
  try {
    await until("every shard is led by its preferred replica", async () => {
      const maps = await Promise.all(clients.map(shardMapOf));
      off = maps.flatMap((map, i) =>
        map === undefined
          ? [`${nodes[i]!.name} did not answer`]
          : map.shards.filter((shard) => Number(shard.leader) !== preferredLeader(LEADER_BALANCE_DEFAULTS.placement, shard.replicas.map(Number))).map((shard) => `${nodes[i]!.name} sees shard ${shard.id} led by ${shard.leader}`),
      );
      return off.length === 0;
    }, SETTLE_TIMEOUT_MS);
  } catch (error) {
    throw new Error(`${String(error)}: ${off.join("; ")}`);
  } finally {
    for (const client of clients) client.close();
  }
}

/** Spawns the node and resolves once it printed "ready" (its client port is serving). */
function startNode(node: ProcessNode): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...node.args], { stdio: ["ignore", "pipe", "pipe"] });
  node.process = child;
  child.stderr.on("data", (chunk: Buffer) => {
    node.log += chunk.toString();
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${node.name} did not start within ${READY_TIMEOUT_MS} ms:\n${node.log}`)), READY_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready ")) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${node.name} exited (${code ?? signal}) before it was ready:\n${node.log}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it does not exit within a few seconds. */
async function stopNode(node: ProcessNode): Promise<void> {
  const child = node.process;
  if (child === undefined || child.exitCode !== null) return;
  node.process = undefined;
  await new Promise<void>((resolvePromise) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill("SIGTERM");
  });
}
