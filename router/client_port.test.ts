import { createServer as createHttpServer } from "node:http";
import { connect, type Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { loadEtcdApi } from "../proto/index.js";
import { ClientPort, sniffProtocol } from "./client_port.js";
import { ask, until } from "./test_fixtures.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const api = loadEtcdApi();

/** A client port whose gRPC side answers Maintenance.Status and whose HTTP side echoes the request. */
async function openPort(): Promise<{ port: ClientPort; portNumber: number }> {
  const server = new grpc.Server();
  server.addService(api.Maintenance.definition, {
    Status: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { version: "from-grpc" }),
  } as unknown as grpc.UntypedServiceImplementation);
  const http = createHttpServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => response.end(`${request.method} ${request.url} ${body}`));
  });
  const port = await ClientPort.listen("127.0.0.1:0", server.createConnectionInjector(grpc.ServerCredentials.createInsecure()), http);
  cleanups.push(() => {
    port.close();
    server.forceShutdown();
    http.closeAllConnections();
  });
  return { port, portNumber: Number(port.address.split(":")[1]) };
}

/**
 * Sends `parts` one by one, a few ms apart, and gathers what comes back until the peer closes. The
 * pause is the point: written back to back, the kernel may hand the server the parts as one chunk,
 * and the case of a first chunk too short to tell the protocol would go untested.
 */
async function exchange(portNumber: number, parts: readonly string[]): Promise<string> {
  const socket: Socket = connect(portNumber, "127.0.0.1");
  cleanups.push(() => void socket.destroy());
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  for (const part of parts) {
    socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await ended;
  return answer;
}

describe("which protocol a connection speaks, from its first bytes", () => {
  it("is gRPC for HTTP/2's preface, HTTP/1.1 for a method, and undecided on a lone P", () => {
    expect(sniffProtocol(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))).toBe("grpc");
    expect(sniffProtocol(Buffer.from("PR"))).toBe("grpc");
    for (const request of ["GET / HTTP/1.1", "POST /v3/kv/range HTTP/1.1", "PUT /", "PATCH /", "OPTIONS /", "\x16\x03\x01"]) {
      expect(sniffProtocol(Buffer.from(request))).toBe("http");
    }
    expect(sniffProtocol(Buffer.from("P"))).toBeUndefined();
    expect(sniffProtocol(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("the client port", () => {
  it("serves gRPC and HTTP/1.1 on one port, several calls on each connection", async () => {
    const { port } = await openPort();
    const client = new api.Maintenance.Client(port.address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    for (let i = 0; i < 3; i++) expect((await ask<{ version: string }>((cb) => client.Status({}, new grpc.Metadata(), {}, cb))).version).toBe("from-grpc");
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`http://${port.address}/v3/kv/range`, { method: "POST", body: `{"n":${i}}` });
      expect(await response.text()).toBe(`POST /v3/kv/range {"n":${i}}`);
    }
  });

  it("waits for enough bytes to tell: a request cut after its first byte still reaches HTTP whole", async () => {
    const { portNumber } = await openPort();
    const answer = await exchange(portNumber, ["P", "OST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", "ok"]);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toMatch(/POST \/x ok$/);
  });

  it("answers bytes that are neither with HTTP's 400, and goes on serving", async () => {
    const { port, portNumber } = await openPort();
    const answer = await exchange(portNumber, ["\x16\x03\x01\x00\xff not http at all\r\n\r\n"]);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(await (await fetch(`http://${port.address}/still`)).text()).toBe("GET /still ");
  });

  it("drops a connection that has not spoken when it closes, and takes no new ones", async () => {
    const { port, portNumber } = await openPort();
    const silent = connect(portNumber, "127.0.0.1");
    const closed = new Promise<void>((resolve) => silent.once("close", () => resolve()));
    await new Promise<void>((resolve) => silent.once("connect", () => resolve()));
    port.close();
    await closed;
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(portNumber, "127.0.0.1");
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      socket.once("connect", () => resolve("connected"));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("refuses an address without a port, naming the flag", async () => {
    const server = new grpc.Server();
    await expect(ClientPort.listen("localhost", server.createConnectionInjector(grpc.ServerCredentials.createInsecure()), createHttpServer())).rejects.toThrow(
      /Cannot serve clients on "localhost": give host:port, for example 127\.0\.0\.1:2379 \(--listen-client\)/,
    );
  });

  it("leaves a gRPC connection to grpc-js's shutdown", async () => {
    const { port } = await openPort();
    const client = new api.Maintenance.Client(port.address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    await ask((cb) => client.Status({}, new grpc.Metadata(), {}, cb));
    port.close();
    // The listener is closed, yet the open connection still carries calls until its server ends it.
    expect((await ask<{ version: string }>((cb) => client.Status({}, new grpc.Metadata(), {}, cb))).version).toBe("from-grpc");
  });

  it("drops a connection that stays silent past the first-bytes timeout", async () => {
    const http = createHttpServer();
    const port = await ClientPort.listen("127.0.0.1:0", new grpc.Server().createConnectionInjector(grpc.ServerCredentials.createInsecure()), http, { firstBytesTimeoutMs: 50 });
    cleanups.push(() => port.close());
    const silent = connect(Number(port.address.split(":")[1]), "127.0.0.1");
    let closed = false;
    silent.once("close", () => (closed = true));
    await until("the silent connection is dropped", () => closed, 2_000);
  });
});
