// How a service's async functions become grpc-js handlers: every failure, whatever threw it, goes
// through errors.ts (`toGrpcStatus`) so clients see etcd's strings and the hint trailer, and a method
// shardkv declines answers UNIMPLEMENTED with a sentence saying why, rather than grpc-js's bare default.

import * as grpc from "@grpc/grpc-js";
import { RouterError, toGrpcStatus } from "./errors.js";

/** A unary handler from an async function; every failure goes through errors.ts. */
export function unary<Req, Res>(handle: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatus(error)),
    );
  };
}

/** The refusal of a method shardkv does not serve (yet), naming what is missing. */
export function unimplementedError(message: string, hint?: string): RouterError {
  return new RouterError(grpc.status.UNIMPLEMENTED, message, hint);
}

/** A unary handler that always answers UNIMPLEMENTED with `message`. */
export function unimplementedUnary<Req, Res>(message: string, hint?: string): grpc.handleUnaryCall<Req, Res> {
  return (_call, callback) => callback(toGrpcStatus(unimplementedError(message, hint)));
}

/** A server-streaming handler that always answers UNIMPLEMENTED with `message`. */
export function unimplementedServerStream<Req, Res>(message: string, hint?: string): grpc.handleServerStreamingCall<Req, Res> {
  // grpc-js turns an 'error' event on a server stream into the call's status.
  return (call) => call.emit("error", toGrpcStatus(unimplementedError(message, hint)));
}
