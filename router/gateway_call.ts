// What the gateway's calls share (http_gateway.ts for unary methods, gateway_stream.ts for
// streams): the method served, the call a handler sees, and grpc-gateway v1's HTTP side of a status.

import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import * as grpc from "@grpc/grpc-js";
import type protobuf from "protobufjs";

/** A served method: its gRPC definition (for the bytes) and the handler gRPC calls reach. */
export interface GatewayMethod {
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: grpc.UntypedHandleCall;
}

/** grpc-gateway v1's HTTPStatusFromCode, which etcd 3.4 answers with. */
export const HTTP_STATUS: Readonly<Record<number, number>> = {
  [grpc.status.OK]: 200,
  [grpc.status.CANCELLED]: 408,
  [grpc.status.UNKNOWN]: 500,
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.FAILED_PRECONDITION]: 412,
  [grpc.status.ABORTED]: 409,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DATA_LOSS]: 500,
  [grpc.status.UNAUTHENTICATED]: 401,
};

/** etcd's gateway allows any origin (its --cors default); browsers' preflights get the same. */
export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-headers": "accept, content-type, authorization",
} as const;

export interface Route {
  readonly method: GatewayMethod;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
}

/**
 * What a unary handler reads of its call: the request, the peer (the per-connection bound counts an
 * HTTP connection as one), and 'cancelled' when the client goes away first.
 */
export class GatewayCall extends EventEmitter {
  cancelled = false;

  constructor(
    readonly request: unknown,
    private readonly http: IncomingMessage,
  ) {
    super();
  }

  getPeer(): string {
    const socket = this.http.socket;
    return `http:${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit("cancelled");
  }
}
