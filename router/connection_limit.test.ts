import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { loadEtcdApi } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ConnectionLimiter, limitUnaryCalls } from "./connection_limit.js";
import { ask, serve, until } from "./test_fixtures.js";

const api = loadEtcdApi();
const closers: (() => void)[] = [];

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A KV server whose Range answers only when the test opens the gate; every other method is unused. */
async function gatedServer(limit: number) {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let arrived = 0;
  const limiter = new ConnectionLimiter(limit);
  const handlers: grpc.UntypedServiceImplementation = {
    Range: (_call: unknown, callback: grpc.sendUnaryData<Partial<t.RangeResponse>>) => {
      arrived++;
      void gate.then(() => callback(null, { kvs: [], count: "0" }));
    },
  };
  const { address, server } = await serve((s) => s.addService(api.KV.definition, limitUnaryCalls(api.KV.definition, handlers, limiter)));
  closers.push(() => server.forceShutdown());
  const client = (own = false) => {
    // A local subchannel pool gives the client a connection of its own.
    const c = new api.KV.Client(address, grpc.credentials.createInsecure(), own ? { "grpc.use_local_subchannel_pool": 1 } : {});
    closers.push(() => c.close());
    return c;
  };
  return { client, limiter, open: () => open(), arrived: () => arrived };
}

const range = (client: InstanceType<typeof api.KV.Client>) => ask<t.RangeResponse>((cb) => client.Range({ key: Buffer.from("k") }, new grpc.Metadata(), {}, cb));

describe("the per-connection request bound", () => {
  it("refuses at once, with RESOURCE_EXHAUSTED, a call over the bound on one connection, and serves the rest", async () => {
    const { client, limiter, open, arrived } = await gatedServer(2);
    const first = client();
    const held = [range(first), range(first)];
    await until("both calls reached the handler", () => arrived() === 2);
    await expect(range(first)).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: "etcdserver: too many requests" });
    open();
    await Promise.all(held);
    expect(limiter.connections).toBe(0);
    // The slots came back: the same connection is served again.
    await expect(range(first)).resolves.toBeDefined();
  });

  it("bounds each connection on its own: another client is served while one is full", async () => {
    const { client, open, arrived } = await gatedServer(1);
    const busy = range(client(true));
    await until("the first call reached the handler", () => arrived() === 1);
    const other = range(client(true));
    await until("the other connection's call reached the handler too", () => arrived() === 2);
    open();
    await Promise.all([busy, other]);
  });

  it("takes a slot back when the client cancels its call", async () => {
    const { client, limiter, arrived } = await gatedServer(1);
    const c = client();
    const call = c.Range({ key: Buffer.from("k") }, new grpc.Metadata(), {}, () => undefined);
    await until("the call reached the handler", () => arrived() === 1);
    expect(limiter.connections).toBe(1);
    call.cancel();
    await until("the slot came back", () => limiter.connections === 0);
  });
});
