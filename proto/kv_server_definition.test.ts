// The KV definition the node serves, over real gRPC beside proto-loader's: two servers with the same
// handlers, one on each definition, asked the same things by proto-loader's client. The handlers
// must see the same requests and the client read the same answers; bytes that are no request, and
// an answer the encoder refuses, end the call the same way (INTERNAL) on both.

import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as t from "./etcd_types.js";
import type { KvMethods } from "./kv_server_definition.js";
import type { ServiceHandlers, TypedClient, TypedServiceDefinition } from "./service_types.js";
import { b, binary, etcd, putRequestObject, rangeRequestObject, reference, served } from "./test_kv_messages.js";
import type { Writable } from "./wire_types.js";

/** A key whose Range the handlers answer with a shape proto-loader's fromObject refuses. */
const REFUSED = "refused";

interface Side {
  readonly server: grpc.Server;
  readonly client: TypedClient<KvMethods>;
  readonly raw: grpc.Client;
  readonly ranges: t.RangeRequest[];
  readonly puts: t.PutRequest[];
}

/** Every request field comes back in some response field, so that a misread one shows. */
function rangeAnswer(req: t.RangeRequest): Writable<t.RangeResponse> {
  if (req.key.toString() === REFUSED) return { kvs: "not an array" } as unknown as Writable<t.RangeResponse>;
  return {
    header: { cluster_id: "18446744073709551615", member_id: "7587862110034735136", revision: req.revision, raft_term: "3" },
    kvs: [
      { key: req.key, create_revision: req.min_create_revision, mod_revision: req.max_mod_revision, version: req.limit, value: req.range_end, lease: "-1" },
      { key: binary, value: b(`${req.sort_order}/${req.sort_target}/${req.serializable}/${req.keys_only}`), create_revision: req.min_mod_revision },
    ],
    more: req.count_only,
    count: req.max_create_revision,
  };
}

function putAnswer(req: t.PutRequest): Writable<t.PutResponse> {
  const header = { revision: req.lease, raft_term: req.ignore_value ? "1" : "0" };
  return req.prev_kv ? { header, prev_kv: { key: req.key, value: req.value, lease: req.lease, version: req.ignore_lease ? "1" : "2" } } : { header, prev_kv: null };
}

async function side(definition: TypedServiceDefinition<KvMethods>): Promise<Side> {
  const ranges: t.RangeRequest[] = [];
  const puts: t.PutRequest[] = [];
  const handlers: ServiceHandlers<KvMethods> = {
    Range: (call, callback) => {
      ranges.push(call.request);
      callback(null, rangeAnswer(call.request));
    },
    Put: (call, callback) => {
      puts.push(call.request);
      callback(null, putAnswer(call.request));
    },
  };
  const server = new grpc.Server();
  server.addService(definition, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  const address = `127.0.0.1:${port}`;
  return {
    server,
    client: new etcd.KV.Client(address, grpc.credentials.createInsecure()),
    raw: new grpc.Client(address, grpc.credentials.createInsecure()),
    ranges,
    puts,
  };
}

let codec: Side;
let reflection: Side;

beforeAll(async () => {
  codec = await side(served);
  reflection = await side(reference);
});

afterAll(() => {
  for (const s of [codec, reflection]) {
    s.client.close();
    s.raw.close();
    s.server.forceShutdown();
  }
});

function range(s: Side, req: Writable<t.RangeRequest>): Promise<t.RangeResponse> {
  return new Promise((resolve, reject) => {
    s.client.Range(req, new grpc.Metadata(), {}, (error, value) => (error !== null ? reject(error) : value === undefined ? reject(new Error("no response")) : resolve(value)));
  });
}

function put(s: Side, req: Writable<t.PutRequest>): Promise<t.PutResponse> {
  return new Promise((resolve, reject) => {
    s.client.Put(req, new grpc.Metadata(), {}, (error, value) => (error !== null ? reject(error) : value === undefined ? reject(new Error("no response")) : resolve(value)));
  });
}

/** A unary call whose request bytes are sent as given; resolves with the status it ends with. */
function rawCall(s: Side, method: "Range" | "Put", bytes: Buffer): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) => {
    s.raw.makeUnaryRequest(`/etcdserverpb.KV/${method}`, (x: Buffer) => x, (x: Buffer) => x, bytes, (error) =>
      resolve(error === null ? { code: grpc.status.OK, details: "" } : { code: error.code, details: error.details }),
    );
  });
}

describe("the served KV definition beside proto-loader's, over gRPC", () => {
  it("replaces only Range's and Put's server-side functions", () => {
    const kv = etcd.KV.definition;
    expect(served.DeleteRange).toBe(kv.DeleteRange);
    expect(served.Txn).toBe(kv.Txn);
    expect(served.Compact).toBe(kv.Compact);
    for (const method of ["Range", "Put"] as const) {
      expect(served[method].path).toBe(kv[method].path);
      expect(served[method].requestSerialize).toBe(kv[method].requestSerialize);
      expect(served[method].responseDeserialize).toBe(kv[method].responseDeserialize);
      expect(served[method].requestDeserialize).not.toBe(kv[method].requestDeserialize);
      expect(served[method].responseSerialize).not.toBe(kv[method].responseSerialize);
    }
  });

  it("hands the handlers the same requests and the client the same answers, for hand-built and random requests", async () => {
    const ranges: Writable<t.RangeRequest>[] = [
      {},
      { key: b("a"), serializable: true },
      { key: binary, range_end: b("\0"), limit: "9007199254740993", revision: "-1", sort_order: 2, sort_target: 4, count_only: true, max_create_revision: "-9223372036854775808" },
      // Enum numbers of no name among them, which the Writable types keep out and fromObject writes.
      ...fc.sample(rangeRequestObject, { numRuns: 20, seed: 7 }).map((req) => req as Writable<t.RangeRequest>),
    ];
    for (const req of ranges) {
      const answers = await Promise.all([range(codec, req), range(reflection, req)]);
      expect(answers[0]).toStrictEqual(answers[1]);
    }
    expect(codec.ranges).toStrictEqual(reflection.ranges);
    expect(codec.ranges).toHaveLength(ranges.length);

    const puts: Writable<t.PutRequest>[] = [{}, { key: b("k"), value: binary, lease: "7587862110034735136", prev_kv: true }, ...fc.sample(putRequestObject, { numRuns: 20, seed: 7 })];
    for (const req of puts) {
      const answers = await Promise.all([put(codec, req), put(reflection, req)]);
      expect(answers[0]).toStrictEqual(answers[1]);
    }
    expect(codec.puts).toStrictEqual(reflection.puts);
  });

  it("passes an enum value outside the enum through to the handler", async () => {
    const bytes = Buffer.from([5 << 3, 7, 6 << 3, ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]);
    expect(await rawCall(codec, "Range", bytes)).toEqual({ code: grpc.status.OK, details: "" });
    expect(codec.ranges.at(-1)).toMatchObject({ sort_order: 7, sort_target: -1 });
  });

  it("ends a call whose request bytes are no request with INTERNAL, as proto-loader's definition does", async () => {
    const malformed = [Buffer.from([0x0a, 0x09, 0x61]), Buffer.from([0x18, 0x80]), Buffer.from([0xa7, 0x01])];
    for (const bytes of malformed) {
      for (const method of ["Range", "Put"] as const) {
        const [ours, theirs] = await Promise.all([rawCall(codec, method, bytes), rawCall(reflection, method, bytes)]);
        expect(ours.code, `${method} ${bytes.toString("hex")}`).toBe(grpc.status.INTERNAL);
        expect(ours).toEqual(theirs);
      }
    }
  });

  it("ends a call whose answer cannot be encoded with INTERNAL, as proto-loader's definition does", async () => {
    const [ours, theirs] = await Promise.allSettled([range(codec, { key: b(REFUSED) }), range(reflection, { key: b(REFUSED) })]);
    for (const outcome of [ours, theirs]) {
      expect(outcome.status).toBe("rejected");
      if (outcome.status === "rejected") expect(outcome.reason).toMatchObject({ code: grpc.status.INTERNAL });
    }
  });
});
