// A streaming method through etcd's JSON gateway: `curl -N -X POST http://127.0.0.1:2379/v3/watch
// -d '{"create_request":{"key":"Zm9v"}}'` as against etcd. The handler is the one gRPC streams reach
// and sees a call like theirs: the body's requests come in as 'data' (a bidirectional method's; a
// server-streaming one reads `request`), its answers go out as lines {"result": ...} with a flush
// each, and backpressure is the HTTP response's. As etcd's gateway, the client's side never ends:
// the stream lasts until the handler ends it or the client goes away ('cancelled'). A failure after
// the first answer is a last line {"error": {...}} in grpc-gateway v1's stream error shape.

import type { IncomingMessage, ServerResponse } from "node:http";
import * as grpc from "@grpc/grpc-js";
import { protobufToJson } from "../proto/json_mapping.js";
import type { GrpcFailure } from "./errors.js";
import { CORS_HEADERS, GatewayCall, HTTP_STATUS, type Route } from "./gateway_call.js";

/** Runs `route`'s streaming handler with `requests` (decoded), answering on `response`. */
export function serveStream(route: Route, requests: readonly unknown[], http: IncomingMessage, response: ServerResponse): void {
  const { definition, handler } = route.method;
  const call = new GatewayStreamCall(requests[0], http, response, route);
  response.writeHead(200, { ...CORS_HEADERS, "content-type": "application/json", "x-content-type-options": "nosniff" });
  response.flushHeaders();
  response.once("close", () => {
    if (!response.writableFinished) call.cancel();
  });
  response.on("drain", () => call.emit("drain"));
  call.on("error", (error: Partial<GrpcFailure>) => call.failWith(error));
  if (definition.requestStream) {
    (handler as grpc.handleBidiStreamingCall<unknown, unknown>)(call as unknown as grpc.ServerDuplexStream<unknown, unknown>);
    for (const request of requests) call.emit("data", request);
  } else {
    (handler as grpc.handleServerStreamingCall<unknown, unknown>)(call as unknown as grpc.ServerWritableStream<unknown, unknown>);
  }
}

/** What a streaming handler uses of its call, over an HTTP response. */
class GatewayStreamCall extends GatewayCall {
  private ended = false;

  constructor(
    request: unknown,
    http: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly route: Route,
  ) {
    super(request, http);
  }

  /** Sends `message` as a line; false when the client is behind (wait for 'drain'), as gRPC's write. */
  write(message: unknown): boolean {
    if (this.ended || this.response.destroyed) return true;
    const json = protobufToJson(this.route.responseType, this.route.method.definition.responseSerialize(message));
    return this.response.write(`${JSON.stringify({ result: json })}\n`);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.response.end();
  }

  failWith(error: Partial<GrpcFailure>): void {
    if (this.ended) return;
    const code = error.code ?? grpc.status.UNKNOWN;
    const httpCode = HTTP_STATUS[code] ?? 500;
    const body = { error: { grpc_code: code, http_code: httpCode, message: error.details ?? "", http_status: STATUS_TEXT[httpCode] ?? "", details: [] } };
    this.response.write(`${JSON.stringify(body)}\n`);
    this.end();
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
