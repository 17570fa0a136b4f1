// Calls that may wait without end: a lock queued behind other holders, a campaign behind the leader,
// an election observed. Each runs with an AbortSignal that fires when the client cancels the call
// (nobody is left to answer) or when the node stops (the call ends UNAVAILABLE at once, since a server
// that waited for such calls to finish would never stop). Every failure goes through errors.ts.

import * as grpc from "@grpc/grpc-js";
import { RouterError, toGrpcStatus } from "./errors.js";

export class LongCalls {
  private readonly running = new Map<AbortSignal, AbortController>();
  private closed = false;

  /** Calls waiting now (tests, metrics). */
  get size(): number {
    return this.running.size;
  }

  unary<Req, Res>(handle: (req: Req, signal: AbortSignal) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const signal = this.begin(call);
      Promise.resolve()
        .then(() => handle(call.request, signal))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(toGrpcStatus(signal.aborted ? signal.reason : error)),
        )
        .finally(() => this.end(signal));
    };
  }

  serverStream<Req, Res>(handle: (call: grpc.ServerWritableStream<Req, Res>, signal: AbortSignal) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      const signal = this.begin(call);
      Promise.resolve()
        .then(() => handle(call, signal))
        .then(
          () => call.end(),
          (error: unknown) => call.emit("error", toGrpcStatus(signal.aborted ? signal.reason : error)),
        )
        .finally(() => this.end(signal));
    };
  }

  /** Ends every waiting call with UNAVAILABLE and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const controller of this.running.values()) controller.abort(stopping());
  }

  private begin(call: { on(event: "cancelled", listener: () => void): unknown }): AbortSignal {
    const controller = new AbortController();
    this.running.set(controller.signal, controller);
    call.on("cancelled", () => controller.abort(new RouterError(grpc.status.CANCELLED, "context canceled", "the client canceled the call")));
    if (this.closed) controller.abort(stopping());
    return controller.signal;
  }

  private end(signal: AbortSignal): void {
    this.running.delete(signal);
  }
}

function stopping(): RouterError {
  return RouterError.unavailable("shardkv: this node is shutting down", "retry the call on another node");
}
