// The client port speaks gRPC and plain HTTP/1.1 at once, as etcd's does (it splits one listener with
// cmux): etcd users curl the client URL for /health and /version, point Prometheus at its /metrics,
// and post JSON to its grpc-gateway (/v3/kv/range...). gRPC clients open with HTTP/2's connection
// preface ("PRI * HTTP/2.0..."), which no HTTP/1.1 request starts with, so the first bytes of a
// connection say where it goes. A connection is sniffed once; after that the socket belongs to
// grpc-js (a connection injector: its HTTP/2 server, without a listener of its own) or to Node's HTTP
// server, and nothing here sits on the path of its calls.

import { type Server as HttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { listenOn } from "./listen_address.js";

/** "PR" opens HTTP/2's preface; an HTTP/1.1 method never does ("POST", "PUT", "PATCH" differ at the second byte). */
const HTTP2_PREFACE_START = Buffer.from("PR");

/** How long a connection may stay silent before its first bytes; it holds a socket until then. */
export const CLIENT_PORT_DEFAULTS = { firstBytesTimeoutMs: 10_000 } as const;

export interface ClientPortOptions {
  readonly firstBytesTimeoutMs?: number;
}

export type Protocol = "grpc" | "http";

/** Which protocol a connection speaks, from its first bytes; undefined until there are enough of them. */
export function sniffProtocol(head: Buffer): Protocol | undefined {
  const known = Math.min(head.length, HTTP2_PREFACE_START.length);
  if (head.subarray(0, known).equals(HTTP2_PREFACE_START.subarray(0, known))) return known === HTTP2_PREFACE_START.length ? "grpc" : undefined;
  return "http";
}

export class ClientPort {
  private readonly unsniffed = new Set<Socket>();

  private constructor(
    private readonly listener: Server,
    /** "host:port" as bound (the OS's port when asked for port 0). */
    readonly address: string,
  ) {}

  /**
   * Listens on "host:port" ("[::1]:2379" for IPv6) and hands each connection to `grpcConnections`
   * or to `http` by its first bytes; resolves once bound.
   */
  static async listen(listen: string, grpcConnections: grpc.ConnectionInjector, http: HttpServer, options: ClientPortOptions = {}): Promise<ClientPort> {
    let self: ClientPort | undefined;
    const timeoutMs = options.firstBytesTimeoutMs ?? CLIENT_PORT_DEFAULTS.firstBytesTimeoutMs;
    const listener = createServer({ noDelay: true }, (socket) => self!.sniff(socket, grpcConnections, http, timeoutMs));
    const address = await listenOn(listener, listen, "clients", "127.0.0.1:2379 (--listen-client)");
    self = new ClientPort(listener, address);
    return self;
  }

  private sniff(socket: Socket, grpcConnections: grpc.ConnectionInjector, http: HttpServer, timeoutMs: number): void {
    this.unsniffed.add(socket);
    let head: Buffer = Buffer.alloc(0);
    const settle = (): void => {
      this.unsniffed.delete(socket);
      socket.off("data", onData);
      socket.off("error", onGone);
      socket.off("close", onGone);
      socket.setTimeout(0);
      socket.off("timeout", onGone);
    };
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const protocol = sniffProtocol(head);
      if (protocol === undefined) return;
      settle();
      socket.pause();
      // Handed back unread. Node's HTTP/2 session reads what the socket has buffered before taking
      // over its handle; the HTTP/1.1 parser gets it as a 'data' event once the socket flows again.
      socket.unshift(head);
      if (protocol === "grpc") {
        grpcConnections.injectConnection(socket);
      } else {
        http.emit("connection", socket);
        socket.resume();
      }
    };
    // An error or a silence before the first bytes ends the connection here: no server has it yet.
    const onGone = (): void => {
      settle();
      socket.destroy();
    };
    socket.on("data", onData);
    socket.once("error", onGone);
    socket.once("close", onGone);
    socket.setTimeout(timeoutMs);
    socket.once("timeout", onGone);
  }

  /**
   * Stops taking connections and drops those that have not said what they speak yet. Connections
   * already handed over are their server's to end (grpc-js's shutdown, the HTTP server's close).
   */
  close(): void {
    this.listener.close();
    for (const socket of this.unsniffed) socket.destroy();
    this.unsniffed.clear();
  }
}
