import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { loadEtcdApi } from "../proto/index.js";
import { GrpcCallStats } from "./grpc_call_stats.js";
import { ask, serve } from "./test_fixtures.js";

const api = loadEtcdApi();
const registry = new Registry();
const stats = new GrpcCallStats(registry);
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((cleanup) => cleanup()));

describe("unary calls counted as etcd exposes them", () => {
  it("counts started and handled calls by service, method and Go's name of the code, when scraped", async () => {
    let failNext = false;
    const handlers = stats.instrument(api.Maintenance.definition, {
      Status: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        failNext ? callback({ code: grpc.status.UNAVAILABLE, details: "etcdserver: leader changed" }) : callback(null, { version: "x" }),
      Snapshot: () => undefined,
    } as unknown as grpc.UntypedServiceImplementation);
    const { address, server } = await serve((s) => s.addService(api.Maintenance.definition, handlers));
    const client = new api.Maintenance.Client(address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close(), () => server.forceShutdown());

    for (let i = 0; i < 3; i++) await ask((cb) => client.Status({}, new grpc.Metadata(), {}, cb));
    failNext = true;
    await expect(ask((cb) => client.Status({}, new grpc.Metadata(), {}, cb))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const labels = 'grpc_type="unary",grpc_service="etcdserverpb.Maintenance",grpc_method="Status"';
    let text = await registry.metrics();
    expect(text).toContain(`grpc_server_started_total{${labels}} 4`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="OK"} 3`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="Unavailable"} 1`);
    // A stream is not a unary call: left as it is, and not counted.
    expect(text).not.toContain('grpc_method="Snapshot"');

    // Counters keep counting across scrapes, from what was already reported.
    await ask((cb) => client.Status({}, new grpc.Metadata(), {}, cb)).catch(() => undefined);
    text = await registry.metrics();
    expect(text).toContain(`grpc_server_started_total{${labels}} 5`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="Unavailable"} 2`);
  });
});
