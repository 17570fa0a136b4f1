// The fault tests' clients: one set of gRPC clients (etcd's KV, Lease, Lock, Maintenance and our Admin)
// per node, and what a failed call means for the history. Every call has a deadline; times are
// performance.now() milliseconds, the one clock the workloads and checkers share.

import * as grpc from "@grpc/grpc-js";
import { type kvSpec, type leaseSpec, loadEtcdApi, loadShardkvApi, type lockSpec, type maintenanceSpec, type shardkvAdminSpec, type TypedClient } from "../../proto/index.js";
import type { ProcessNode } from "../support/process_cluster.js";

export interface NodeClients {
  readonly node: ProcessNode;
  /** This node's Raft id (its place in --initial-cluster, from 1). */
  readonly id: number;
  readonly kv: TypedClient<typeof kvSpec.methods>;
  readonly lease: TypedClient<typeof leaseSpec.methods>;
  readonly lock: TypedClient<typeof lockSpec.methods>;
  readonly maintenance: TypedClient<typeof maintenanceSpec.methods>;
  readonly admin: TypedClient<typeof shardkvAdminSpec.methods>;
}

const CHANNEL_OPTIONS: Partial<grpc.ChannelOptions> = {
  // Reconnect soon after a node comes back, not after grpc-js's default backoff of up to 2 minutes.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 500,
};

export function connect(nodes: readonly ProcessNode[]): NodeClients[] {
  const etcd = loadEtcdApi();
  const own = loadShardkvApi();
  const credentials = grpc.credentials.createInsecure();
  return nodes.map((node, i) => ({
    node,
    id: i + 1,
    kv: new etcd.KV.Client(node.clientAddress, credentials, CHANNEL_OPTIONS),
    lease: new etcd.Lease.Client(node.clientAddress, credentials, CHANNEL_OPTIONS),
    lock: new etcd.Lock.Client(node.clientAddress, credentials, CHANNEL_OPTIONS),
    maintenance: new etcd.Maintenance.Client(node.clientAddress, credentials, CHANNEL_OPTIONS),
    admin: new own.Admin.Client(node.clientAddress, credentials, CHANNEL_OPTIONS),
  }));
}

export function disconnect(clients: readonly NodeClients[]): void {
  for (const c of clients) for (const client of [c.kv, c.lease, c.lock, c.maintenance, c.admin]) client.close();
}

/** A unary call as a promise, with a deadline `timeoutMs` from now. */
export function call<Res>(start: (metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: grpc.requestCallback<Res>) => void, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    start(new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, value) => {
      if (error !== null) reject(error);
      else if (value === undefined) reject(new Error("no response"));
      else resolve(value);
    });
  });
}

/** The gRPC status of a failed call (UNKNOWN for anything that is not a gRPC error). */
export function statusOf(error: unknown): grpc.status {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : grpc.status.UNKNOWN;
}

/**
 * Whether a failed write certainly did not happen. Only answers given before anything was proposed
 * qualify: a refusal for bad input or for a full queue. Everything else (a deadline, UNAVAILABLE,
 * "leader changed", a cut connection) may have applied, and is `unknown` in the history.
 */
export function certainlyNotApplied(error: unknown): boolean {
  const code = statusOf(error);
  if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.FAILED_PRECONDITION || code === grpc.status.RESOURCE_EXHAUSTED) return true;
  // The client could not connect: the request never left this process.
  const details = String((error as { details?: unknown } | null)?.details ?? "");
  return code === grpc.status.UNAVAILABLE && (details.includes("ECONNREFUSED") || details.includes("No connection established"));
}

/** A failed call in a few words, for the run's tally of errors: its status and the start of its message. */
export function errorKind(error: unknown): string {
  const code = statusOf(error);
  const details = String((error as { details?: unknown } | null)?.details ?? error);
  return `${grpc.status[code] ?? code}: ${details.slice(0, 60)}`;
}

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const bytes = (s: string): Buffer => Buffer.from(s);

/** A seeded random source (mulberry32), so a run's choices can be told by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
