// For the services' tests: one in-memory Store leading every shard of an even map, a gRPC server on a
// free local port, and small promise helpers. Tests only; no service imports this file.

import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { MemoryLevel } from "memory-level";
import type { MvccLimits } from "../shard/mvcc/index.js";
import { Store } from "../shard/store.js";
import { MemoryFiles } from "../shard/wal/memory_files.js";
import { Wal } from "../shard/wal/wal.js";
import { ShardMap, evenShards } from "./shard_map.js";

/** Polls `condition` every 5 ms until it holds, failing after `timeoutMs`. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A unary call as a promise. */
export function ask<Res>(start: (callback: grpc.requestCallback<Res>) => void): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((error, value) => {
      if (error !== null) reject(error);
      else if (value === undefined) reject(new Error("no response"));
      else resolve(value);
    });
  });
}

/** A store on node 1 with `shards` data shards (ids 1..shards), each led by node 1 once this resolves. */
export async function openLeadingStore(shards: number, limits: Partial<MvccLimits> = {}): Promise<{ store: Store; map: ShardMap }> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const wal = await Wal.open({ dir: "/wal", files: new MemoryFiles() });
  const store = await Store.open({ nodeId: 1, db, wal, transport: { send: () => undefined }, tickMs: 5, limits });
  const map = new ShardMap(1, evenShards(shards, [1], 1));
  for (const shard of map.shards) await store.createGroup(shard.id, [1]);
  await until("node 1 leads every shard", () => map.shards.every((shard) => store.replica(shard.id).isLeader));
  return { store, map };
}

/** A gRPC server with the services `register` adds, listening on a free port of 127.0.0.1. */
export async function serve(register: (server: grpc.Server) => void): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  return { address: `127.0.0.1:${port}`, server };
}

/** A grpc.health.v1 answer: "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN". */
export interface HealthResponse {
  readonly status: string;
}

/** A client of the standard gRPC health service, as probes and load balancers use it. */
export interface HealthClient extends grpc.Client {
  check(req: { service: string }, callback: grpc.requestCallback<HealthResponse>): grpc.ClientUnaryCall;
  watch(req: { service: string }): grpc.ClientReadableStream<HealthResponse>;
}

const HealthClientConstructor = grpc.makeClientConstructor(healthService as grpc.ServiceDefinition, "Health");

export function healthClient(address: string): HealthClient {
  return new HealthClientConstructor(address, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

/** A watch of the whole server's health: every status seen, and whether its stream is still open. */
export interface HealthWatch {
  readonly seen: string[];
  /** "open", "ended" (the server ended it with OK), or the error that ended it. */
  outcome: "open" | "ended" | Error;
}

export function watchHealth(client: HealthClient): HealthWatch {
  const watch: HealthWatch = { seen: [], outcome: "open" };
  const stream = client.watch({ service: "" });
  stream.on("data", (response: HealthResponse) => watch.seen.push(response.status));
  stream.on("end", () => (watch.outcome = "ended"));
  stream.on("error", (error: Error) => (watch.outcome = error));
  return watch;
}
