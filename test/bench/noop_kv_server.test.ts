import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEtcdApi, type PutResponse, type RangeResponse } from "../../proto/index.js";
import { ask } from "../../router/test_fixtures.js";
import { type NoopKvServer, startNoopKvServer } from "./noop_kv_server.js";

describe("the no-op KV server of bench:compare's floor", () => {
  let server: NoopKvServer;
  let kv: InstanceType<ReturnType<typeof loadEtcdApi>["KV"]["Client"]>;

  beforeAll(async () => {
    server = await startNoopKvServer("127.0.0.1:0", 300);
    kv = new (loadEtcdApi().KV.Client)(server.address, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    kv.close();
    await server.stop();
  });

  it("answers a Range with the asked key and a value of the configured size, as a hit of the real servers would", async () => {
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);
    const response = await ask<RangeResponse>((cb) => kv.Range({ key: Buffer.from("bench/0042") }, new grpc.Metadata(), {}, cb));
    expect(response.count).toBe("1");
    expect(response.kvs).toHaveLength(1);
    expect(Buffer.from(response.kvs[0]!.key).toString()).toBe("bench/0042");
    expect(response.kvs[0]!.value).toHaveLength(300);
  });

  it("answers a Put with a header and no previous value", async () => {
    const response = await ask<PutResponse>((cb) => kv.Put({ key: Buffer.from("k"), value: Buffer.from("v") }, new grpc.Metadata(), {}, cb));
    expect(response.header?.revision).toBe("1");
    expect(response.prev_kv).toBeNull();
  });

  it("leaves every other method of etcd's KV unimplemented", async () => {
    await expect(ask((cb) => kv.DeleteRange({ key: Buffer.from("k") }, new grpc.Metadata(), {}, cb))).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });
});
