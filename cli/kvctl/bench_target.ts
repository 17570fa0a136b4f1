// The requests `kvctl bench` sends, over etcd's KV service or shardkv.v1.KV, on its own gRPC channels:
// one TCP connection each (a local subchannel pool, since grpc-js would otherwise share one connection
// between channels to the same address), so that --conns measures what many connections cost or save.

import * as grpc from "@grpc/grpc-js";
import { type EtcdApi, type PutResponse, type RangeResponse, type ShardkvApi, shardkv } from "../../proto/index.js";
import { call, metadata } from "./client.js";

export const BENCH_APIS = ["etcd", "native"] as const;
export type BenchApi = (typeof BENCH_APIS)[number];

/** One connection's requests; each rejects with the gRPC error when the call fails. */
export interface Target {
  readonly address: string;
  put(key: Buffer, value: Buffer): Promise<void>;
  get(key: Buffer, serializable: boolean): Promise<void>;
  /** How many keys one prefill `putMany` takes: a MultiPut's worth, or a few concurrent Puts. */
  readonly batch: number;
  /** Writes many keys at once where the API can (shardkv.v1 MultiPut), else one Put each, concurrently. */
  putMany(keys: readonly Buffer[], value: Buffer): Promise<void>;
  close(): void;
}

export interface TargetOptions {
  readonly api: BenchApi;
  readonly requestTimeoutMs: number;
  /** Loaded once and shared: parsing the .proto files per channel would cost seconds. */
  readonly etcd: () => EtcdApi;
  readonly shardkv: () => ShardkvApi;
}

export function openTarget(address: string, options: TargetOptions): Target {
  const channel = new grpc.Channel(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  const deadline = (): Partial<grpc.CallOptions> => ({ deadline: new Date(Date.now() + options.requestTimeoutMs) });
  const clientOptions = { channelOverride: channel };
  if (options.api === "etcd") {
    const kv = new (options.etcd().KV.Client)(address, grpc.credentials.createInsecure(), clientOptions);
    const put = async (key: Buffer, value: Buffer): Promise<void> => {
      await call<PutResponse>((cb) => kv.Put({ key, value }, metadata(), deadline(), cb));
    };
    return {
      address,
      batch: 16,
      put,
      async get(key, serializable) {
        await call<RangeResponse>((cb) => kv.Range({ key, serializable }, metadata(), deadline(), cb));
      },
      // etcd's only multi-key write is a Txn, which shardkv accepts only for keys of one shard.
      async putMany(keys, value) {
        await Promise.all(keys.map((key) => put(key, value)));
      },
      close() {
        kv.close();
        channel.close();
      },
    };
  }
  const api = options.shardkv();
  const kv = new api.KV.Client(address, grpc.credentials.createInsecure(), clientOptions);
  return {
    address,
    // Under the default --max-txn-ops (128) per shard, even were every key in one shard.
    batch: 100,
    async put(key, value) {
      await call<shardkv.PutResponse>((cb) => kv.Put({ key, value }, metadata(), deadline(), cb));
    },
    async get(key, serializable) {
      const consistency = serializable ? shardkv.Consistency.SERIALIZABLE : shardkv.Consistency.LINEARIZABLE;
      await call<shardkv.GetResponse>((cb) => kv.Get({ key, consistency }, metadata(), deadline(), cb));
    },
    async putMany(keys, value) {
      const response = await call<shardkv.MultiPutResponse>((cb) =>
        kv.MultiPut({ entries: keys.map((key) => ({ key, value })), allow_partial: true }, metadata(), deadline(), cb),
      );
      const failed = response.parts.find((part) => part.code !== grpc.status.OK);
      if (failed !== undefined) throw Object.assign(new Error(failed.message), { code: failed.code, details: failed.message, metadata: new grpc.Metadata() });
    },
    close() {
      kv.close();
      channel.close();
    },
  };
}

/** A failed request's gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED), the key errors are counted by. */
export function statusName(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number") return grpc.status[code] ?? `STATUS_${code}`;
  return "CLIENT_ERROR";
}
