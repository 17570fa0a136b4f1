// Bad input at a real node: each gets a clear status and a message that names the limit, and
// nothing a client sends (oversized, malformed, or not gRPC at all) takes the node down.

import { connect } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type kvSpec, loadEtcdApi, type TypedClient } from "../../proto/index.js";
import type * as t from "../../proto/etcd_types.js";
import { ask } from "../../router/test_fixtures.js";
import { ETCD_ERRORS } from "../../shard/mvcc/index.js";
import { NodeCluster } from "../support/node_cluster.js";

let cluster: NodeCluster;
let kv: TypedClient<typeof kvSpec.methods>;
const b = (s: string): Buffer => Buffer.from(s);
const MiB = 1024 * 1024;

const put = (key: Buffer, value: Buffer, lease = "0") => ask<t.PutResponse>((cb) => kv.Put({ key, value, lease }, new grpc.Metadata(), {}, cb));
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as grpc.ServiceError);

beforeAll(async () => {
  cluster = await NodeCluster.start(1, 2, "bad-input");
  kv = new (loadEtcdApi().KV.Client)(cluster.nodes[0]!.clientAddress, grpc.credentials.createInsecure(), { "grpc.max_send_message_length": 8 * MiB });
}, 30_000);

afterAll(async () => {
  kv?.close();
  await cluster?.stop();
});

describe("bad input at a node", () => {
  it("refuses an empty key with etcd's string", async () => {
    expect(await failure(put(b(""), b("v")))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: ETCD_ERRORS.emptyKey });
  });

  it("refuses a key or a value over its limit with INVALID_ARGUMENT naming the limit", async () => {
    const longKey = await failure(put(Buffer.alloc(4097, 0x61), b("v")));
    expect(longKey?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(longKey?.details).toMatch(/4096|4 KiB/);
    const bigValue = await failure(put(b("big"), Buffer.alloc(MiB + 1)));
    expect(bigValue?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bigValue?.details).toMatch(/1048576|1 MiB/);
  });

  it("refuses a request over --max-request-bytes before decoding it, with RESOURCE_EXHAUSTED", async () => {
    const huge = await failure(put(b("huge"), Buffer.alloc(3 * MiB)));
    expect(huge?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("refuses a txn with more operations than --max-txn-ops, and a put on an unknown lease", async () => {
    const success = Array.from({ length: 129 }, (_, i) => ({ request_put: { key: b(`{t}/${i}`), value: b("v") } }));
    const txn = await failure(ask<t.TxnResponse>((cb) => kv.Txn({ success }, new grpc.Metadata(), {}, cb)));
    expect(txn).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: ETCD_ERRORS.tooManyOps });
    expect(await failure(put(b("leased"), b("v"), "987654321"))).toMatchObject({ code: grpc.status.NOT_FOUND, details: ETCD_ERRORS.leaseNotFound });
  });

  it("survives malformed protobuf and bytes that are not gRPC at all, on both ports", async () => {
    // A Put whose body is not a PutRequest: field 1 announced with a length far past the end.
    const raw = new grpc.Client(cluster.nodes[0]!.clientAddress, grpc.credentials.createInsecure());
    const malformed = await failure(
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest("/etcdserverpb.KV/Put", (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01]), (error, value) => (error ? reject(error) : resolve(value))),
      ),
    );
    raw.close();
    expect(malformed?.code).toBe(grpc.status.INTERNAL);
    for (const address of [cluster.nodes[0]!.clientAddress, cluster.nodes[0]!.peerAddress]) {
      const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
      // The garbage goes out and the connection stays open, as a broken client's would: the node
      // must go on serving (and, in afterAll, still stop within its grace period).
      await new Promise<void>((resolve) => {
        const socket = connect(port, host, () => socket.write(Buffer.from("GET / HTTP/1.1\r\n\r\n\x00\xff garbage \x16\x03\x01"), () => resolve()));
        socket.on("error", () => resolve());
      });
    }
    expect((await put(b("still-here"), b("yes"))).header).toBeDefined();
  });
});
