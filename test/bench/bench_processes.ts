// Clusters of real server processes for the benchmarks: shardkv nodes (`shardkv` from the sources
// through tsx, or the built dist/ for runs whose figures are published) and etcd members (the Debian
// `etcd-server` binary). Each process logs to a file in the run's folder, so a failed run can be read
// afterwards; `stop` sends SIGTERM and waits.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { type MallocName, mallocName } from "../../cli/malloc.js";
import type { LeaderPlacement } from "../../router/leader_balance.js";
import { freePort } from "../support/node_cluster.js";

/** The project's root: the first folder up from here with a package.json (this file may run from dist/). */
export function projectRoot(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
  }
}

/** How the Procfile starts a node: with jemalloc when the machine has it (the script says why). */
const WITH_JEMALLOC = join(projectRoot(), "cli", "with_jemalloc.sh");

export interface ServerProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly clientAddress: string;
  /** GET /health and /metrics: shardkv's --listen-http, etcd's client URL. */
  readonly httpAddress: string;
  readonly logFile: string;
}

export interface ServerCluster {
  readonly system: "shardkv" | "etcd";
  readonly members: readonly ServerProcess[];
  readonly endpoints: readonly string[];
  /**
   * Resolves once every member's /health answers 200; rejects when one exits or on the deadline.
   * `onWait` is called every 10 s of waiting (a slow start can say how far it got).
   */
  healthy(timeoutMs: number, onWait?: (waitedMs: number) => Promise<void>): Promise<void>;
  /** CPU seconds (user + system) that the members have used so far, together. */
  cpuSeconds(): number;
  /** The malloc each member runs on (cli/malloc.ts), in member order. */
  mallocs(): MallocName[];
  stop(): Promise<void>;
}

export interface ShardkvShape {
  readonly nodes: number;
  readonly shards: number;
  readonly replicas: number;
  readonly tickMs: number;
  /** How to run the server: `node <args> <cli>`; the sources need ["--import", "tsx"]. */
  readonly cli: string;
  readonly nodeArgs: readonly string[];
  /** router/leader_balance.ts: spread unless said. */
  readonly leaderPlacement?: LeaderPlacement;
}

export async function startShardkv(dir: string, shape: ShardkvShape): Promise<ServerCluster> {
  const ports = await Promise.all(Array.from({ length: shape.nodes * 3 }, () => freePort()));
  const initialCluster = Array.from({ length: shape.nodes }, (_, i) => `n${i + 1}=127.0.0.1:${ports[i * 3 + 1]}`).join(",");
  const members = Array.from({ length: shape.nodes }, (_, i) => {
    const name = `n${i + 1}`;
    const clientAddress = `127.0.0.1:${ports[i * 3]}`;
    const httpAddress = `127.0.0.1:${ports[i * 3 + 2]}`;
    const args = [
      ...shape.nodeArgs,
      shape.cli,
      "--name", name,
      "--data-dir", join(dir, name),
      "--listen-client", clientAddress,
      "--listen-peer", `127.0.0.1:${ports[i * 3 + 1]}`,
      "--listen-http", httpAddress,
      "--initial-cluster", initialCluster,
      "--initial-shards", String(shape.shards),
      "--replicas", String(shape.replicas),
      "--tick-ms", String(shape.tickMs),
      "--leader-placement", shape.leaderPlacement ?? "spread",
    ];
    return launch(name, WITH_JEMALLOC, [process.execPath, ...args], dir, clientAddress, httpAddress);
  });
  return cluster("shardkv", members);
}

/** Where Debian's etcd-server puts the binary; ETCD_BIN overrides. Undefined when there is none. */
export function etcdBinary(): string | undefined {
  const candidates = [process.env["ETCD_BIN"], "etcd", "/usr/bin/etcd", "/usr/local/bin/etcd"].filter((c): c is string => c !== undefined);
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function etcdVersion(binary: string): string {
  const text = execFileSync(binary, ["--version"], { encoding: "utf8" });
  return /etcd Version: (\S+)/.exec(text)?.[1] ?? text.split("\n")[0] ?? "unknown";
}

/** A new etcd cluster of `size` members, as its documentation's local multi-member example starts one. */
export async function startEtcd(dir: string, binary: string, size: number): Promise<ServerCluster> {
  const ports = await Promise.all(Array.from({ length: size * 2 }, () => freePort()));
  const initialCluster = Array.from({ length: size }, (_, i) => `e${i + 1}=http://127.0.0.1:${ports[i * 2 + 1]}`).join(",");
  const members = Array.from({ length: size }, (_, i) => {
    const name = `e${i + 1}`;
    const clientAddress = `127.0.0.1:${ports[i * 2]}`;
    const peerUrl = `http://127.0.0.1:${ports[i * 2 + 1]}`;
    const args = [
      "--name", name,
      "--data-dir", join(dir, name),
      "--listen-client-urls", `http://${clientAddress}`,
      "--advertise-client-urls", `http://${clientAddress}`,
      "--listen-peer-urls", peerUrl,
      "--initial-advertise-peer-urls", peerUrl,
      "--initial-cluster", initialCluster,
      "--initial-cluster-state", "new",
      "--initial-cluster-token", "shardkv-bench",
    ];
    return launch(name, binary, args, dir, clientAddress, clientAddress);
  });
  return cluster("etcd", members);
}

/** A server that answers at once (noop_kv_server.ts): what bench:compare's floor is measured against. */
export interface NoopServer {
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts `script` (the built noop_kv_server.js) as the nodes run, through with_jemalloc.sh, and waits until it accepts connections. */
export async function launchNoopKvServer(dir: string, script: string, valueSize: number, timeoutMs: number): Promise<NoopServer> {
  const address = `127.0.0.1:${await freePort()}`;
  const server = launch("noop", WITH_JEMALLOC, [process.execPath, script, "--listen", address, "--value-size", String(valueSize)], dir, address, address);
  const deadline = performance.now() + timeoutMs;
  while (!(await accepts(address))) {
    if (exited(server)) throw new Error(`the no-op server exited during startup; see ${server.logFile}`);
    if (performance.now() > deadline) {
      await stopProcess(server);
      throw new Error(`the no-op server did not accept connections within ${timeoutMs} ms; see ${server.logFile}`);
    }
    await sleep(100);
  }
  return { address, stop: () => stopProcess(server) };
}

function accepts(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** SIGTERM, then SIGKILL if the process has not exited 10 s later. */
function stopProcess(member: ServerProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (exited(member)) return resolve();
    const timer = setTimeout(() => member.process.kill("SIGKILL"), 10_000);
    member.process.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    member.process.kill("SIGTERM");
  });
}

function launch(name: string, command: string, args: readonly string[], dir: string, clientAddress: string, httpAddress: string): ServerProcess {
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${name}.log`);
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.pipe(createWriteStream(logFile));
  return { name, process: child, clientAddress, httpAddress, logFile };
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  try {
    ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) that a process has used, from /proc (Linux); 0 once it is gone. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function exited(member: ServerProcess): boolean {
  return member.process.exitCode !== null || member.process.signalCode !== null;
}

async function answersHealth(member: ServerProcess): Promise<boolean> {
  try {
    return (await fetch(`http://${member.httpAddress}/health`, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

function cluster(system: ServerCluster["system"], members: readonly ServerProcess[]): ServerCluster {
  return {
    system,
    members,
    endpoints: members.map((m) => m.clientAddress),
    async healthy(timeoutMs, onWait) {
      const started = performance.now();
      const deadline = started + timeoutMs;
      let reported = started;
      for (;;) {
        const dead = members.find(exited);
        if (dead !== undefined) throw new Error(`${system} member ${dead.name} exited during startup; see ${dead.logFile}`);
        if ((await Promise.all(members.map(answersHealth))).every(Boolean)) return;
        const now = performance.now();
        if (now > deadline) throw new Error(`${system} was not healthy on every member after ${timeoutMs} ms; logs in ${members[0]?.logFile}`);
        if (onWait !== undefined && now - reported > 10_000) {
          reported = now;
          await onWait(now - started);
        }
        await sleep(200);
      }
    },
    cpuSeconds: () => members.reduce((sum, m) => sum + processCpuSeconds(m.process.pid), 0),
    mallocs: () => members.map((m) => mallocName(processMaps(m.process.pid))),
    async stop() {
      await Promise.all(members.map(stopProcess));
    },
  };
}

function processMaps(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    return readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch {
    return undefined;
  }
}
