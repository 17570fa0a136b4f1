import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcHealth } from "./grpc_health.js";
import { ask, type HealthClient, healthClient, type HealthResponse, serve, until, watchHealth } from "./test_fixtures.js";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup) step();
  cleanup = [];
});

async function healthServer(): Promise<{ health: GrpcHealth; client: HealthClient; server: grpc.Server }> {
  let health: GrpcHealth | undefined;
  const { address, server } = await serve((s) => (health = new GrpcHealth(s)));
  const client = healthClient(address);
  cleanup.push(() => client.close(), () => server.forceShutdown());
  return { health: health!, client, server };
}

describe("the gRPC health service of the client port", () => {
  it("answers SERVING for the whole server, and NOT_FOUND for a service it does not know", async () => {
    const { client } = await healthServer();
    expect(await ask<HealthResponse>((cb) => client.check({ service: "" }, cb))).toEqual({ status: "SERVING" });
    const unknown = await ask((cb) => client.check({ service: "etcdserverpb.Nope" }, cb)).catch((error: unknown) => error);
    expect(unknown).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("tells a watcher NOT_SERVING when the node stops, ends its stream, and checks say so too", async () => {
    const { health, client, server } = await healthServer();
    const watch = watchHealth(client);
    await until("the watcher sees SERVING", () => watch.seen.length === 1, 5_000);
    health.close();
    await until("the watch ends", () => watch.outcome !== "open", 5_000);
    expect(watch.outcome).toBe("ended");
    expect(watch.seen).toEqual(["SERVING", "NOT_SERVING"]);
    expect(await ask<HealthResponse>((cb) => client.check({ service: "" }, cb))).toEqual({ status: "NOT_SERVING" });
    // With no stream left open, a graceful shutdown ends at once.
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });
});
