// A server of etcd's KV API that does no work: every Range is answered at once with one key-value of
// the asked key and a value of --value-size bytes, every Put with a bare header. No Raft, no storage,
// one process. bench:compare loads it with the same `kvctl bench` as the real systems to measure the
// machine's floor: what one gRPC round trip between two processes costs here, before any server
// does anything. On the 2-core VM this project is benchmarked on, waking an idle process is most of it.
//
//   node dist/test/bench/noop_kv_server.js --listen 127.0.0.1:0 --value-size 256
//
// prints `listening 127.0.0.1:PORT` once it serves, and runs until SIGTERM or SIGINT.

import * as grpc from "@grpc/grpc-js";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type KvMethods, kvServerDefinition, loadEtcdApi, type ServiceHandlers } from "../../proto/index.js";

export interface NoopKvServer {
  readonly address: string;
  stop(): Promise<void>;
}

export async function startNoopKvServer(listen: string, valueSize: number): Promise<NoopKvServer> {
  const header = { cluster_id: "1", member_id: "1", revision: "1", raft_term: "1" };
  const value = Buffer.alloc(valueSize, 0x61);
  const handlers: ServiceHandlers<KvMethods> = {
    Range: (call, callback) => {
      const kv = { key: call.request.key, value, create_revision: "1", mod_revision: "1", version: "1", lease: "0" };
      callback(null, { header, kvs: [kv], more: false, count: "1" });
    },
    Put: (_call, callback) => callback(null, { header, prev_kv: null }),
  };
  const server = new grpc.Server();
  server.addService(kvServerDefinition(loadEtcdApi().KV), handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  const host = listen.slice(0, listen.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { listen: { type: "string", default: "127.0.0.1:0" }, "value-size": { type: "string", default: "256" } } });
  const valueSize = Number(values["value-size"]);
  if (!Number.isInteger(valueSize) || valueSize < 0) throw new Error(`--value-size ${values["value-size"]}: expected a whole number of bytes`);
  const server = await startNoopKvServer(values.listen, valueSize);
  console.log(`listening ${server.address}`);
  const stop = (): void => void server.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
